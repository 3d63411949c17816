/**
 * Traefik's configuration as objects, guided by Traefik's own JSON schemas: the static
 * configuration from its command-line flags, the dynamic one from a container's labels.
 */
import { isObj, type Json, type Obj } from './json.js';

export type Schema = Record<string, unknown>;

function deref(schema: Schema, root: Schema): Schema {
  let s = schema;
  for (let guard = 0; typeof s.$ref === 'string' && guard < 50; guard++) {
    const path = s.$ref.replace(/^#\//, '').split('/');
    let node: unknown = root;
    for (const p of path) node = (node as Schema)[p];
    if (!node) throw new Error(`unresolved $ref ${s.$ref}`);
    s = node as Schema;
  }
  return s;
}

/** The properties a schema node accepts (its own, and those of oneOf/anyOf/allOf branches). */
function childSchema(schema: Schema, root: Schema, segment: string): { key: string; schema: Schema } | undefined {
  const s = deref(schema, root);
  const props = s.properties as Record<string, Schema> | undefined;
  if (props) {
    const key = Object.keys(props).find((k) => k.toLowerCase() === segment.toLowerCase());
    if (key) return { key, schema: props[key]! };
  }
  for (const branchKey of ['oneOf', 'anyOf', 'allOf'] as const) {
    const branches = s[branchKey] as Schema[] | undefined;
    for (const b of branches ?? []) {
      const found = childSchema(b, root, segment);
      if (found) return found;
    }
  }
  if (isObj(s.additionalProperties)) return { key: segment, schema: s.additionalProperties };
  const patterns = s.patternProperties as Record<string, Schema> | undefined;
  for (const [re, ps] of Object.entries(patterns ?? {})) {
    if (new RegExp(re).test(segment)) return { key: segment, schema: ps };
  }
  return undefined;
}

function schemaTypes(schema: Schema, root: Schema): string[] {
  const s = deref(schema, root);
  if (Array.isArray(s.type)) return s.type as string[];
  if (typeof s.type === 'string') return [s.type];
  if (s.properties || s.oneOf || s.additionalProperties) return ['object'];
  return [];
}

function coerce(value: string, schema: Schema, root: Schema, where: string): Json {
  const types = schemaTypes(schema, root);
  if (types.includes('boolean')) {
    if (value !== 'true' && value !== 'false') throw new Error(`${where}: not a boolean: ${value}`);
    return value === 'true';
  }
  if (types.includes('integer') || types.includes('number')) {
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw new Error(`${where}: not a number: ${value}`);
    return Number(value);
  }
  if (types.includes('array')) return value === '' ? [] : value.split(',');
  if (types.includes('object') && !types.includes('string')) {
    // `--ping=true`, `--certificatesresolvers.x.acme.tlschallenge=true`: a section
    // enabled with its defaults.
    if (value !== 'true') throw new Error(`${where}: a section takes no value but true: ${value}`);
    return {};
  }
  return value;
}

/** Sets `path` (dot-separated, case-insensitive like Traefik's parsers) in `target`. */
function setPath(target: Obj, segments: string[], value: string, root: Schema, where: string): void {
  let node = target;
  let schema: Schema = root;
  segments.forEach((segment, i) => {
    const child = childSchema(schema, root, segment);
    if (!child) throw new Error(`${where}: unknown option "${segment}" (not in Traefik's schema)`);
    if (i === segments.length - 1) {
      const v = coerce(value, child.schema, root, where);
      const existing = node[child.key];
      node[child.key] = isObj(v) && isObj(existing) ? existing : v;
    } else {
      if (!isObj(node[child.key])) node[child.key] = {};
      node = node[child.key] as Obj;
      schema = child.schema;
    }
  });
}

export function staticConfigFromFlags(flags: string[], root: Schema): Obj {
  const config: Obj = {};
  for (const flag of flags) {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(flag);
    if (!m) throw new Error(`not a flag: ${flag}`);
    setPath(config, m[1]!.split('.'), m[2] ?? 'true', root, flag);
  }
  return config;
}

/**
 * The `traefik.*` labels of one container as file-provider configuration. Docker-only
 * keys are translated: `loadbalancer.server.port` becomes a server URL (the provider
 * fills in the container's address), `traefik.enable` / `traefik.docker.*` are dropped.
 */
export function dynamicConfigFromLabels(labels: Map<string, string | undefined>, root: Schema, host: string): Obj {
  const config: Obj = {};
  const ports = new Map<string, string>();
  for (const [key, value] of labels) {
    if (!key.startsWith('traefik.')) continue;
    const path = key.slice('traefik.'.length);
    if (path === 'enable' || path.startsWith('docker.')) continue;
    const server = /^http\.services\.([^.]+)\.loadbalancer\.server\.(port|scheme|url)$/i.exec(path);
    if (server) {
      if (server[2]!.toLowerCase() === 'port') ports.set(server[1]!, value ?? '');
      continue;
    }
    setPath(config, path.split('.'), value ?? '', root, key);
  }
  for (const [svc, port] of ports) {
    const http = (config.http ??= {}) as Obj;
    const svcs = (http.services ??= {}) as Obj;
    const s = (svcs[svc] ??= {}) as Obj;
    const lb = (s.loadBalancer ??= {}) as Obj;
    lb.servers = [{ url: `http://${host}:${port}` }];
  }
  return config;
}
