import { isObj, type Json } from './json.js';

/** `labels` / `environment` may be a list of `K=V` or a map. */
export function keyValues(node: Json | undefined): Map<string, string | undefined> {
  const map = new Map<string, string | undefined>();
  if (Array.isArray(node)) {
    for (const item of node) {
      const s = scalar(item);
      const eq = s.indexOf('=');
      if (eq < 0) map.set(s, undefined);
      else map.set(s.slice(0, eq), s.slice(eq + 1));
    }
  } else if (isObj(node)) {
    for (const [k, v] of Object.entries(node)) map.set(k, v === null ? undefined : scalar(v));
  }
  return map;
}

/** An entry's text; a list or a map is not a valid entry. */
function scalar(value: Json): string {
  if (typeof value === 'object' && value !== null) throw new Error(`not a scalar: ${JSON.stringify(value)}`);
  return String(value);
}
