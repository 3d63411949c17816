/**
 * Compose v1 (1.29, `docker-compose`) refuses two things of our Compose file that
 * Compose v2 accepts: the top-level `name:` and the `${VAR:+text}` / `${VAR+text}`
 * interpolations. This renders the file for v1 the way v2 reads it: those expansions
 * replaced by their v2 result for `env`, `name:` taken out and returned, to be passed
 * as `-p`. Every other line stays as it is (v1 interpolates the rest itself).
 */
export function renderForComposeV1(text: string, env: Record<string, string | undefined>): { text: string; projectName: string | undefined } {
  let projectName: string | undefined;
  const lines = text.split('\n').filter((line) => {
    const name = /^name:\s*(\S+)\s*$/.exec(line);
    if (name) projectName = name[1];
    return !name;
  });
  const rendered = lines.join('\n').replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?)\+([^}$]*)\}/g, (_m, name: string, colon: string, alt: string) => {
    const value = env[name];
    const set = colon === ':' ? value !== undefined && value !== '' : value !== undefined;
    return set ? alt : '';
  });
  return { text: rendered, projectName };
}
