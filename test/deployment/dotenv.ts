import type { Env } from './compose-interpolation.js';

/** `.env.example` as a user would copy it: its uncommented assignments. */
export function parseDotEnv(text: string): Env {
  const env: Env = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** Every variable `.env.example` documents, set or commented out. */
export function documentedVars(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line.trim());
    if (m) names.add(m[1]!);
  }
  return names;
}
