import { isObj, type Json, type Obj } from './json.js';

export type Env = Record<string, string | undefined>;

// Compose interpolation (https://docs.docker.com/reference/compose-file/interpolation/)

export interface VarRef {
  name: string;
  op: '' | ':-' | '-' | ':+' | '+' | ':?' | '?';
  arg: string;
}

/**
 * Interpolates one string as Compose does: `$$` is a literal `$`, `$NAME`, `${NAME}`,
 * `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}`, `${NAME+alt}`, `${NAME:?err}`,
 * `${NAME?err}`. Nested expressions are refused on purpose: the project's files must
 * not depend on them (their support differs between Compose versions).
 */
export function interpolate(text: string, env: Env, refs: VarRef[] = []): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
      continue;
    }
    if (next === '{') {
      const close = text.indexOf('}', i + 2);
      if (close < 0) throw new Error(`unterminated \${ in: ${text}`);
      const body = text.slice(i + 2, close);
      if (body.includes('$')) throw new Error(`nested interpolation in: ${text}`);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\+|\+|:\?|\?)(.*))?$/s.exec(body);
      if (!m) throw new Error(`invalid interpolation \${${body}} in: ${text}`);
      const ref: VarRef = { name: m[1]!, op: (m[2] ?? '') as VarRef['op'], arg: m[3] ?? '' };
      refs.push(ref);
      const value = env[ref.name];
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      switch (ref.op) {
        case '':
          out += value ?? '';
          break;
        case ':-':
          out += nonEmpty ? value : ref.arg;
          break;
        case '-':
          out += set ? value : ref.arg;
          break;
        case ':+':
          out += nonEmpty ? ref.arg : '';
          break;
        case '+':
          out += set ? ref.arg : '';
          break;
        case ':?':
          if (!nonEmpty) throw new Error(`required variable ${ref.name}: ${ref.arg}`);
          out += value;
          break;
        case '?':
          if (!set) throw new Error(`required variable ${ref.name}: ${ref.arg}`);
          out += value;
          break;
      }
      i = close;
      continue;
    }
    const named = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (named) {
      refs.push({ name: named[0], op: '', arg: '' });
      out += env[named[0]] ?? '';
      i += named[0].length;
      continue;
    }
    out += c;
  }
  return out;
}

/** Compose interpolates values (not keys), everywhere in the file. */
export function interpolateTree(node: Json, env: Env, refs: VarRef[] = []): Json {
  if (typeof node === 'string') return interpolate(node, env, refs);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, env, refs));
  if (isObj(node)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, env, refs);
    return out;
  }
  return node;
}
