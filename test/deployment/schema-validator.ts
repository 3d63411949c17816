import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Schema } from './traefik-config.js';

const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (
  opts: object,
) => {
  compile: (s: object) => ((data: unknown) => boolean) & { errors?: unknown[] | null };
  errorsText: (e: unknown) => string;
};
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: unknown,
) => void;

/** A JSON schema from a file, without its `$schema` (draft-07 is Ajv's default; some `$schema` URIs are not registered in Ajv). */
export function loadSchema(file: string): Schema {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Schema;
  delete s.$schema;
  return s;
}

/** A validator returning undefined when `data` is valid, else Ajv's description of every error. */
export function compileSchema(schema: Schema): (data: unknown) => string | undefined {
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (data: unknown): string | undefined => (validate(data) ? undefined : ajv.errorsText(validate.errors));
}
