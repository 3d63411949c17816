/** JSON as YAML and JSON parsers return it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Obj = Record<string, Json>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
