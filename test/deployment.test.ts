/**
 * The deployment files (issue 4), checked without a Docker engine or a Traefik binary:
 *
 * - docker-compose.yml is interpolated the way Compose does it (for a first run with no
 *   `.env`, for `.env.example` copied as is, and for a production `.env`) and validated
 *   against the compose-spec JSON schema;
 * - Traefik's static configuration (the `command:` flags of the `traefik` service) is
 *   turned into an object and validated against Traefik v3's static schema, its
 *   dynamic configuration (traefik/dynamic.yml, and the routers/services of the
 *   containers' labels) against Traefik v3's file-provider schema;
 * - the points the issue names: no container_name on ai-server, no forced Upgrade
 *   headers, the /ws-chat rule with and without a host (never `Host(``)`), health
 *   checks, the stop grace period, AOF and the Redis volume, non-root images, the
 *   build stages, every variable documented, the Content-Security-Policy;
 * - where the binaries exist, redis.conf is loaded by a real redis-server and
 *   frontend/nginx.conf is served by a real nginx (SPA fallback, headers).
 *
 * The schemas live in ../shared/schemas (SCHEMAS_DIR overrides); without them the
 * schema part reports itself skipped.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const execFileP = promisify(execFile);

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMAS_DIR = process.env.SCHEMAS_DIR ?? fileURLToPath(new URL('../../shared/schemas/', import.meta.url));
const ARCHITECTURE_MD = fileURLToPath(new URL('../../shared/architecture.md', import.meta.url));

const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

const schemaFiles = {
  compose: join(SCHEMAS_DIR, 'compose-spec.json'),
  traefikStatic: join(SCHEMAS_DIR, 'traefik-v3.json'),
  traefikDynamic: join(SCHEMAS_DIR, 'traefik-v3-file-provider.json'),
};
const schemasPresent = Object.values(schemaFiles).every((f) => existsSync(f));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
type Env = Record<string, string | undefined>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const composeText = read('docker-compose.yml');
const composeRaw = YAML.parse(composeText) as Obj;

// ---------------------------------------------------------------------------------------
// Compose interpolation (https://docs.docker.com/reference/compose-file/interpolation/)
// ---------------------------------------------------------------------------------------

interface VarRef {
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
function interpolate(text: string, env: Env, refs: VarRef[] = []): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
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
function interpolateTree(node: Json, env: Env, refs: VarRef[] = []): Json {
  if (typeof node === 'string') return interpolate(node, env, refs);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, env, refs));
  if (isObj(node)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, env, refs);
    return out;
  }
  return node;
}

/** `.env.example` as a user would copy it: its uncommented assignments. */
function parseDotEnv(text: string): Env {
  const env: Env = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** Every variable `.env.example` documents, set or commented out. */
function documentedVars(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line.trim());
    if (m) names.add(m[1]!);
  }
  return names;
}

const envExampleText = read('.env.example');

const SCENARIOS: Record<string, Env> = {
  'first run (no .env)': {},
  '.env.example copied as is': parseDotEnv(envExampleText),
  production: {
    PUBLIC_HOST: 'chat.example.com',
    TLS_CERTRESOLVER: 'letsencrypt',
    ACME_EMAIL: 'ops@example.com',
    HTTPS_REDIRECT: 'true',
    GEMINI_API_KEY: 'test-key',
    SHUTDOWN_GRACE_MS: '10000',
  },
  'production behind Cloudflare': {
    PUBLIC_HOST: 'hexsera.com',
    TLS_CERTRESOLVER: 'cloudflare',
    CF_DNS_API_TOKEN: 'test-token',
    ACME_EMAIL: 'ops@example.com',
    HTTPS_REDIRECT: 'true',
  },
};

const composeFor = (env: Env): Obj => interpolateTree(composeRaw, env) as Obj;

const services = (compose: Obj): Obj => compose.services as Obj;
const service = (compose: Obj, name: string): Obj => {
  const s = services(compose)[name];
  if (!isObj(s)) throw new Error(`no service ${name}`);
  return s;
};

/** `labels` / `environment` may be a list of `K=V` or a map. */
function keyValues(node: Json | undefined): Map<string, string | undefined> {
  const map = new Map<string, string | undefined>();
  if (Array.isArray(node)) {
    for (const item of node) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq < 0) map.set(s, undefined);
      else map.set(s.slice(0, eq), s.slice(eq + 1));
    }
  } else if (isObj(node)) {
    for (const [k, v] of Object.entries(node)) map.set(k, v === null ? undefined : String(v));
  }
  return map;
}

function durationMs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|us|s|m|h)/g;
  let total = 0;
  let consumed = '';
  for (const m of text.matchAll(re)) {
    const n = Number(m[1]);
    total += n * ({ us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[m[2] as 'ms'];
    consumed += m[0];
  }
  if (consumed !== text || text === '') throw new Error(`not a duration: ${text}`);
  return total;
}

// ---------------------------------------------------------------------------------------
// Architecture's contract (environment variables and their defaults)
// ---------------------------------------------------------------------------------------

interface ContractVar {
  name: string;
  default: string;
}

function architectureVars(): ContractVar[] | undefined {
  if (!existsSync(ARCHITECTURE_MD)) return undefined;
  const text = readFileSync(ARCHITECTURE_MD, 'utf8');
  const start = text.indexOf('## Environment variables');
  if (start < 0) return undefined;
  const section = text.slice(start).split(/\n## /)[0]!;
  const vars: ContractVar[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line) || /^\|\s*name\s*\|/.test(line)) continue;
    const cells = line.split('|').map((c) => c.trim());
    const names = [...(cells[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    const defaults = [...(cells[2] ?? '').matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
    names.forEach((name, i) => vars.push({ name, default: defaults[i] ?? defaults[0] ?? cells[2] ?? '' }));
  }
  return vars.length > 0 ? vars : undefined;
}

const contract = architectureVars();

// ---------------------------------------------------------------------------------------
// Traefik: static flags and dynamic labels as objects, guided by the schemas
// ---------------------------------------------------------------------------------------

type Schema = { [key: string]: unknown };

function deref(schema: Schema, root: Schema): Schema {
  let s = schema;
  for (let guard = 0; typeof s.$ref === 'string' && guard < 50; guard++) {
    const path = (s.$ref as string).replace(/^#\//, '').split('/');
    let node: unknown = root;
    for (const p of path) node = (node as Schema)[p];
    if (!node) throw new Error(`unresolved $ref ${String(s.$ref)}`);
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
  if (isObj(s.additionalProperties as Json)) return { key: segment, schema: s.additionalProperties as Schema };
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

function staticConfigFromFlags(flags: string[], root: Schema): Obj {
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
function dynamicConfigFromLabels(labels: Map<string, string | undefined>, root: Schema, host: string): Obj {
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

const traefikFlags = (compose: Obj): string[] => (service(compose, 'traefik').command as Json[]).map(String);

// ---------------------------------------------------------------------------------------
// Content-Security-Policy
// ---------------------------------------------------------------------------------------

function parseCsp(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name.toLowerCase(), values);
  }
  return map;
}

const dynamicYml = YAML.parse(read('traefik/dynamic.yml')) as Obj;
const middlewares = ((dynamicYml.http as Obj).middlewares ?? {}) as Obj;
const traefikCsp = (((middlewares['security-headers'] as Obj).headers as Obj).contentSecurityPolicy ?? '') as string;
const nginxConf = read('frontend/nginx.conf');

// ---------------------------------------------------------------------------------------
// Dockerfiles
// ---------------------------------------------------------------------------------------

interface Stage {
  from: string;
  name: string | undefined;
  instructions: { op: string; args: string }[];
}

function dockerfileStages(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) && current === '') continue; // comments and parser directives
    if (/^\s*#/.test(line)) continue; // comment lines inside a continuation
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/s.exec(l)!;
    const op = m[1]!.toUpperCase();
    const args = m[2]!;
    if (op === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(args)!;
      stages.push({ from: f[1]!, name: f[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ op, args });
    }
  }
  return stages;
}

const DOCKERFILES = ['ai-server/Dockerfile', 'frontend/Dockerfile'] as const;

// ---------------------------------------------------------------------------------------
// Processes (real redis-server and nginx, where installed)
// ---------------------------------------------------------------------------------------

async function which(bin: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, bin);
    if (existsSync(p)) return p;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a server process and keeps its output, to show it if the process dies. */
function start(bin: string, args: string[]): { proc: ChildProcess; output: () => string; closed: Promise<void> } {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  return { proc, output: () => out, closed };
}

async function waitFor(check: () => Promise<boolean>, ms: number, server?: ReturnType<typeof start>): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (server && server.proc.exitCode !== null) {
      await server.closed; // all of its output read
      throw new Error(`the server exited (${server.proc.exitCode}):\n${server.output()}`);
    }
    if (Date.now() > until) throw new Error(`timed out${server ? `:\n${server.output()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const redisServer = await which('redis-server');
const redisCli = await which('redis-cli');
const nginxBin = await which('nginx');

// =======================================================================================
// Tests
// =======================================================================================

describe.skipIf(!schemasPresent)('schemas (../shared/schemas)', () => {
  const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (
    opts: object,
  ) => {
    compile: (s: object) => ((data: unknown) => boolean) & { errors?: unknown[] | null };
    errorsText: (e: unknown) => string;
  };
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
    ajv: unknown,
  ) => void;

  const load = (file: string): Schema => {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Schema;
    delete s.$schema; // draft-07 is Ajv's default; some $schema URIs are not registered in Ajv
    return s;
  };
  const compile = (schema: Schema) => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    return (data: unknown): string | undefined => (validate(data) ? undefined : ajv.errorsText(validate.errors));
  };

  const composeSchema = schemasPresent ? load(schemaFiles.compose) : {};
  const staticSchema = schemasPresent ? load(schemaFiles.traefikStatic) : {};
  const dynamicSchema = schemasPresent ? load(schemaFiles.traefikDynamic) : {};

  for (const [label, env] of Object.entries(SCENARIOS)) {
    it(`docker-compose.yml is valid for the compose-spec, ${label}`, () => {
      expect(compile(composeSchema)(composeFor(env))).toBeUndefined();
    });

    it(`Traefik's static configuration (command flags) is valid for Traefik v3, ${label}`, () => {
      const config = staticConfigFromFlags(traefikFlags(composeFor(env)), staticSchema);
      expect(compile(staticSchema)(config)).toBeUndefined();
    });

    it(`the routers and services of the containers' labels are valid Traefik v3 dynamic configuration, ${label}`, () => {
      const validate = compile(dynamicSchema);
      for (const [name, svc] of Object.entries(services(composeFor(env)))) {
        const labels = keyValues((svc as Obj).labels);
        if (![...labels.keys()].some((k) => k.startsWith('traefik.'))) continue;
        const config = dynamicConfigFromLabels(labels, dynamicSchema, name);
        expect(validate(config), `${name}: ${JSON.stringify(config)}`).toBeUndefined();
      }
    });
  }

  it('every file under traefik/ is valid Traefik v3 dynamic configuration', () => {
    const validate = compile(dynamicSchema);
    const files = readdirSync(join(ROOT, 'traefik')).filter((f) => /\.(ya?ml)$/.test(f));
    expect(files).toContain('dynamic.yml');
    for (const f of files) {
      expect(validate(YAML.parse(read(`traefik/${f}`))), f).toBeUndefined();
    }
  });
});

describe('docker-compose.yml', () => {
  it('has the four services', () => {
    expect(Object.keys(services(composeRaw)).sort()).toEqual(['ai-server', 'frontend', 'redis', 'traefik']);
  });

  it('lets ai-server scale: no container_name, no fixed host port', () => {
    const ai = service(composeRaw, 'ai-server');
    expect(ai).not.toHaveProperty('container_name');
    expect(ai).not.toHaveProperty('ports');
  });

  it('interpolates with plain, non-nested expressions only', () => {
    const refs: VarRef[] = [];
    expect(() => interpolateTree(composeRaw, {}, refs)).not.toThrow();
    expect(refs.length).toBeGreaterThan(0);
  });

  it('builds the /ws-chat rule from PUBLIC_HOST, and never an empty Host(``)', () => {
    const rule = (env: Env) =>
      keyValues(service(composeFor(env), 'ai-server').labels).get('traefik.http.routers.chat-ws.rule');
    const page = (env: Env) =>
      keyValues(service(composeFor(env), 'frontend').labels).get('traefik.http.routers.chat-page.rule');

    expect(rule({})).toBe('PathPrefix(`/ws-chat`)');
    expect(rule({ PUBLIC_HOST: '' })).toBe('PathPrefix(`/ws-chat`)');
    expect(rule({ PUBLIC_HOST: 'chat.example.com' })).toBe('Host(`chat.example.com`) && PathPrefix(`/ws-chat`)');
    expect(page({})).toBe('PathPrefix(`/`)');
    expect(page({ PUBLIC_HOST: 'chat.example.com' })).toBe('Host(`chat.example.com`) && PathPrefix(`/`)');

    for (const env of [...Object.values(SCENARIOS), { PUBLIC_HOST: '' }]) {
      const text = JSON.stringify(composeFor(env));
      expect(text).not.toContain('Host(``)');
      for (const [, svc] of Object.entries(services(composeFor(env)))) {
        for (const [k, v] of keyValues((svc as Obj).labels)) {
          if (!k.endsWith('.rule')) continue;
          expect((v ?? '').split('`').length % 2, `unbalanced backticks in ${k}`).toBe(1);
        }
      }
    }
  });

  it('routes /ws-chat to ai-server above the page router, with nothing forced on it', () => {
    const ai = keyValues(service(composeRaw, 'ai-server').labels);
    const fe = keyValues(service(composeRaw, 'frontend').labels);
    expect(ai.get('traefik.enable')).toBe('true');
    expect(fe.get('traefik.enable')).toBe('true');
    expect(Number(ai.get('traefik.http.routers.chat-ws.priority'))).toBeGreaterThan(
      Number(fe.get('traefik.http.routers.chat-page.priority')),
    );
    expect(ai.get('traefik.http.routers.chat-ws.middlewares')).toBeUndefined();
    expect([...ai.keys()].filter((k) => /\.middlewares\./i.test(k))).toEqual([]);
    expect(ai.get('traefik.http.routers.chat-ws.service')).toBe('chat-ws');
    expect(ai.get('traefik.http.routers.chat-ws.entrypoints')).toBe('web,websecure');
    expect(fe.get('traefik.http.routers.chat-page.entrypoints')).toBe('web,websecure');
  });

  it('has no headers middleware forcing Connection/Upgrade anywhere', () => {
    const texts = [composeText, ...readdirSync(join(ROOT, 'traefik')).map((f) => read(`traefik/${f}`))];
    for (const t of texts) {
      expect(t).not.toMatch(/customrequestheaders\.(connection|upgrade)\b/i);
      for (const line of t.split('\n')) {
        if (/^\s*#/.test(line)) continue;
        expect(line).not.toMatch(/^\s*(Connection|Upgrade)\s*:\s*["']?(Upgrade|websocket)/i);
      }
    }
    for (const [name, mw] of Object.entries(middlewares)) {
      const headers = (mw as Obj).headers as Obj | undefined;
      const request = Object.keys((headers?.customRequestHeaders ?? {}) as Obj).map((h) => h.toLowerCase());
      expect(request, name).not.toContain('connection');
      expect(request, name).not.toContain('upgrade');
    }
  });

  it('health-checks every service, ai-server on /readyz through Traefik', () => {
    for (const name of ['traefik', 'redis', 'ai-server', 'frontend']) {
      const hc = service(composeRaw, name).healthcheck as Obj | undefined;
      expect(hc, name).toBeDefined();
      expect(hc!.disable, name).toBeUndefined();
      const test = hc!.test as Json[];
      expect(Array.isArray(test) && test.length > 1 && ['CMD', 'CMD-SHELL'].includes(String(test[0])), name).toBe(true);
    }
    const aiTest = (service(composeRaw, 'ai-server').healthcheck as Obj).test as string[];
    expect(aiTest.join(' ')).toMatch(/127\.0\.0\.1:3001\/(healthz|readyz)/);
    expect((service(composeRaw, 'frontend').healthcheck as Obj).test as string[]).toContain('http://127.0.0.1:8080/healthz');

    const ai = keyValues(service(composeRaw, 'ai-server').labels);
    expect(ai.get('traefik.http.services.chat-ws.loadbalancer.healthcheck.path')).toBe('/readyz');
    expect(durationMs(ai.get('traefik.http.services.chat-ws.loadbalancer.healthcheck.interval')!)).toBeLessThanOrEqual(5000);
    expect(ai.get('traefik.http.services.chat-ws.loadbalancer.server.port')).toBe('3001');
    const fe = keyValues(service(composeRaw, 'frontend').labels);
    expect(fe.get('traefik.http.services.chat-page.loadbalancer.healthcheck.path')).toBe('/healthz');
    expect(fe.get('traefik.http.services.chat-page.loadbalancer.server.port')).toBe('8080');
  });

  it("uses the server's own health endpoints", () => {
    const src: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) src.push(readFileSync(p, 'utf8'));
      }
    };
    walk(join(ROOT, 'ai-server/src'));
    const all = src.join('\n');
    expect(all).toContain("'/healthz'");
    expect(all).toContain("'/readyz'");
    expect(all).toContain('/ws-chat');
  });

  it('gives ai-server a stop grace period longer than its drain (SHUTDOWN_GRACE_MS)', () => {
    const contractGrace = Number(contract?.find((v) => v.name === 'SHUTDOWN_GRACE_MS')?.default ?? 10_000);
    expect(contractGrace).toBeGreaterThan(0);
    for (const env of Object.values(SCENARIOS)) {
      const ai = service(composeFor(env), 'ai-server');
      const grace = Number(env.SHUTDOWN_GRACE_MS || contractGrace);
      expect(durationMs(String(ai.stop_grace_period))).toBeGreaterThan(grace);
      // Margin for closing sockets and the store after the drain.
      expect(durationMs(String(ai.stop_grace_period)) - grace).toBeGreaterThanOrEqual(5000);
    }
  });

  it('runs ai-server under an init process, after a healthy Redis, behind one proxy hop', () => {
    const ai = service(composeRaw, 'ai-server');
    expect(ai.init).toBe(true);
    expect(ai.restart).toBeDefined();
    expect(((ai.depends_on as Obj).redis as Obj).condition).toBe('service_healthy');
    const env = keyValues(ai.environment);
    expect(env.get('TRUST_PROXY')).toBe('1');
    expect(env.get('REDIS_URL')).toMatch(/^redis:\/\/redis:6379(\/\d+)?$/);
    expect(env.get('PORT')).toBe('3001');
    expect(env.get('NODE_ENV')).toBe('production');
    // Secrets come from the environment or .env: passed through, never written here.
    expect(env.has('GEMINI_API_KEY')).toBe(true);
    expect(env.get('GEMINI_API_KEY')).toBeUndefined();
    expect((ai.build as Obj).context).toBe('.');
    expect((ai.build as Obj).dockerfile).toBe('ai-server/Dockerfile');
    expect((service(composeRaw, 'frontend').build as Obj).dockerfile).toBe('frontend/Dockerfile');
  });

  it('passes only contract variables to ai-server', () => {
    const env = keyValues(service(composeRaw, 'ai-server').environment);
    const names = new Set((contract ?? []).map((v) => v.name).concat('NODE_ENV'));
    if (!contract) return;
    for (const k of env.keys()) expect(names.has(k), `${k} is not in architecture.md's table`).toBe(true);
  });

  it('never writes a secret in the file', () => {
    for (const [, svc] of Object.entries(services(composeRaw))) {
      for (const [k, v] of keyValues((svc as Obj).environment)) {
        if (/KEY|TOKEN|SECRET|PASSWORD/.test(k)) expect(v === undefined || /^\$\{[A-Z_]+(:-)?\}$/.test(v), k).toBe(true);
      }
    }
  });

  it('keeps Redis on a named volume at /data, configured from redis/redis.conf', () => {
    const redis = service(composeRaw, 'redis');
    const volumes = (redis.volumes as string[]).map((v) => v.split(':'));
    const data = volumes.find((v) => v[1] === '/data');
    expect(data).toBeDefined();
    expect(data![0]).toMatch(/^[a-z][a-z0-9_-]*$/); // a named volume, not a host path
    expect(Object.keys(composeRaw.volumes as Obj)).toContain(data![0]);
    const conf = volumes.find((v) => v[0] === './redis/redis.conf');
    expect(conf).toBeDefined();
    expect((redis.command as string[]).join(' ')).toContain(conf![1]);
    expect(redis).not.toHaveProperty('ports');
  });

  it('configures Traefik v3 with the docker provider, not exposed by default, HTTP and HTTPS', () => {
    const image = String(service(composeRaw, 'traefik').image);
    expect(image).toMatch(/^traefik:v3(\.\d+)*$/);
    const flags = traefikFlags(composeFor({}));
    expect(flags).toContain('--providers.docker=true');
    expect(flags).toContain('--providers.docker.exposedbydefault=false');
    expect(flags).toContain('--entrypoints.web.address=:80');
    expect(flags).toContain('--entrypoints.websecure.address=:443');
    expect(flags).toContain('--certificatesresolvers.cloudflare.acme.dnschallenge.provider=cloudflare');
    expect(flags).toContain('--ping=true');
    // One source of static configuration: flags, so no traefik.yml/traefik.toml is mounted.
    const mounts = (service(composeRaw, 'traefik').volumes as string[]).map((v) => v.split(':'));
    const dynamicMount = mounts.find((m) => m[0] === './traefik');
    expect(dynamicMount).toBeDefined();
    expect(flags).toContain(`--providers.file.directory=${dynamicMount![1]}`);
    expect(readdirSync(join(ROOT, 'traefik')).filter((f) => /^traefik\.(ya?ml|toml)$/.test(f))).toEqual([]);
    expect(mounts.find((m) => m[1] === '/var/run/docker.sock')?.[2]).toBe('ro');
  });

  it('makes ACME optional: resolvers defined, picked by TLS_CERTRESOLVER, empty by default', () => {
    const certResolver = (env: Env) =>
      traefikFlags(composeFor(env)).find((f) => f.startsWith('--entrypoints.websecure.http.tls.certresolver='));
    expect(certResolver({})).toBe('--entrypoints.websecure.http.tls.certresolver=');
    for (const name of ['letsencrypt', 'cloudflare']) {
      const flags = traefikFlags(composeFor({ TLS_CERTRESOLVER: name }));
      expect(certResolver({ TLS_CERTRESOLVER: name })).toBe(`--entrypoints.websecure.http.tls.certresolver=${name}`);
      expect(flags.some((f) => f.startsWith(`--certificatesresolvers.${name}.acme.storage=/letsencrypt/`))).toBe(true);
    }
    const traefik = service(composeRaw, 'traefik');
    expect((traefik.volumes as string[]).some((v) => /^[a-z][a-z0-9_-]*:\/letsencrypt$/.test(v))).toBe(true);
    expect(keyValues(traefik.environment).get('CF_DNS_API_TOKEN')).toBe('${CF_DNS_API_TOKEN:-}');
  });

  it('redirects HTTP to HTTPS only when asked, through a middleware that exists', () => {
    const enabled = (env: Env) => keyValues(service(composeFor(env), 'traefik').labels).get('traefik.enable');
    expect(enabled({})).toBe('false');
    expect(enabled({ HTTPS_REDIRECT: 'true' })).toBe('true');
    const labels = keyValues(service(composeRaw, 'traefik').labels);
    expect(labels.get('traefik.http.routers.to-https.entrypoints')).toBe('web');
    expect(labels.get('traefik.http.routers.to-https.middlewares')).toBe('redirect-to-https@file');
    expect(middlewares).toHaveProperty('redirect-to-https');
  });

  it('references only middlewares that traefik/dynamic.yml defines', () => {
    for (const [, svc] of Object.entries(services(composeRaw))) {
      for (const [k, v] of keyValues((svc as Obj).labels)) {
        if (!/\.routers\.[^.]+\.middlewares$/.test(k)) continue;
        for (const ref of (v ?? '').split(',')) {
          const [name, provider] = ref.split('@');
          expect(provider, ref).toBe('file');
          expect(middlewares, ref).toHaveProperty(name!);
        }
      }
    }
  });

  it('compresses the page and sends the security headers on it', () => {
    const fe = keyValues(service(composeRaw, 'frontend').labels);
    const mws = fe.get('traefik.http.routers.chat-page.middlewares')!.split(',');
    expect(mws).toContain('security-headers@file');
    expect(mws).toContain('page-compress@file');
    expect(middlewares['page-compress']).toHaveProperty('compress');
  });

  it('documents every variable it uses in .env.example', () => {
    const refs: VarRef[] = [];
    interpolateTree(composeRaw, {}, refs);
    const used = new Set(refs.map((r) => r.name));
    for (const [, svc] of Object.entries(services(composeRaw))) {
      for (const [k, v] of keyValues((svc as Obj).environment)) if (v === undefined) used.add(k);
    }
    const documented = documentedVars(envExampleText);
    const missing = [...used].filter((n) => !documented.has(n));
    expect(missing).toEqual([]);
  });
});

describe('.env.example', () => {
  it.skipIf(!contract)("documents every variable of architecture.md's table, with its default", () => {
    const documented = documentedVars(envExampleText);
    const missing = contract!.map((v) => v.name).filter((n) => !documented.has(n));
    expect(missing).toEqual([]);
    for (const v of contract!) {
      if (!/^\d+$/.test(v.default)) continue;
      const line = envExampleText.split('\n').find((l) => new RegExp(`^#?\\s*${v.name}=`).test(l.trim()));
      expect(line, v.name).toBeDefined();
      const value = line!.replace(/^#?\s*[A-Z0-9_]+=/, '').trim();
      if (value !== '') expect(value, `${v.name}'s default`).toBe(v.default);
    }
  });

  it('never sets a numeric variable to an empty value (the server would refuse it)', () => {
    const set = parseDotEnv(envExampleText);
    const numeric = (contract ?? []).filter((v) => /^\d+$/.test(v.default)).map((v) => v.name);
    for (const n of numeric) expect(set[n], n).not.toBe('');
  });
});

describe('redis/redis.conf', () => {
  const directives = new Map<string, string>();
  for (const line of read('redis/redis.conf').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const [k, ...rest] = t.split(/\s+/);
    directives.set(k!.toLowerCase(), rest.join(' '));
  }

  it('turns AOF on with fsync every second, and never evicts', () => {
    expect(directives.get('appendonly')).toBe('yes');
    expect(directives.get('appendfsync')).toBe('everysec');
    expect(directives.get('maxmemory-policy')).toBe('noeviction');
    expect(directives.get('maxmemory')).toMatch(/^[1-9]\d*(kb|mb|gb)?$/i);
    expect(directives.get('dir')).toBe('/data');
  });

  it('explains every setting with a comment', () => {
    const lines = read('redis/redis.conf').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '' || line.trim().startsWith('#')) return;
      // The setting is preceded by a comment (possibly above a group of related lines).
      let j = i - 1;
      while (j >= 0 && lines[j]!.trim() !== '' && !lines[j]!.trim().startsWith('#')) j--;
      expect(j >= 0 && lines[j]!.trim().startsWith('#'), `line ${i + 1}: ${line}`).toBe(true);
    });
  });

  describe.skipIf(!redisServer || !redisCli)('loaded by a real redis-server', () => {
    let dir: string;
    let port: number;
    let proc: ChildProcess | undefined;
    const cli = async (...args: string[]) =>
      (await execFileP(redisCli!, ['-p', String(port), ...args], { timeout: 5000 })).stdout.trim();

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'redis-conf-'));
      port = await freePort();
      // Only what cannot work outside the container changes: the data directory and the
      // listening address.
      const conf = read('redis/redis.conf')
        .replace(/^dir \/data$/m, `dir ${dir}`)
        .replace(/^port 6379$/m, `port ${port}`)
        .replace(/^bind .*$/m, 'bind 127.0.0.1');
      writeFileSync(join(dir, 'redis.conf'), conf);
      const server = start(redisServer!, [join(dir, 'redis.conf')]);
      proc = server.proc;
      await waitFor(async () => (await cli('ping')) === 'PONG', 10_000, server);
    });

    afterAll(async () => {
      if (proc && proc.exitCode === null) {
        await cli('shutdown', 'nosave').catch(() => undefined);
        proc.kill('SIGKILL');
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('starts with AOF on, everysec, noeviction and the maxmemory ceiling', async () => {
      expect(await cli('config', 'get', 'appendonly')).toBe('appendonly\nyes');
      expect(await cli('config', 'get', 'appendfsync')).toBe('appendfsync\neverysec');
      expect(await cli('config', 'get', 'maxmemory-policy')).toBe('maxmemory-policy\nnoeviction');
      expect(Number((await cli('config', 'get', 'maxmemory')).split('\n')[1])).toBeGreaterThan(0);
      expect(await cli('set', 'deployment-test', '1')).toBe('OK');
      await waitFor(async () => existsSync(join(dir, 'appendonlydir')), 5000);
    });
  });
});

describe('Dockerfiles', () => {
  for (const file of DOCKERFILES) {
    describe(file, () => {
      const stages = dockerfileStages(read(file));
      const last = stages.at(-1)!;

      it('is multi-stage, with `npm ci` against the workspace lockfile in a node:22-bookworm-slim stage', () => {
        expect(stages.length).toBeGreaterThanOrEqual(2);
        const build = stages.find((s) => s.instructions.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args)));
        expect(build).toBeDefined();
        expect(build!.from).toBe('node:22-bookworm-slim');
        expect(build!.instructions.some((i) => i.op === 'COPY' && /\bpackage-lock\.json\b/.test(i.args))).toBe(true);
        expect(stages.some((s) => s.instructions.some((i) => /\bnpm (install|i)\b/.test(i.args)))).toBe(false);
      });

      it('keeps only runtime files in the last stage', () => {
        expect(last.instructions.some((i) => i.op === 'RUN' && /\bnpm\b/.test(i.args))).toBe(false);
        expect(last.instructions.some((i) => i.op === 'COPY' && /^\.\s/.test(i.args.replace(/--\S+\s+/g, '')))).toBe(false);
        expect(last.instructions.some((i) => i.op === 'COPY' && /--from=/.test(i.args))).toBe(true);
      });

      it('runs as a non-root user', () => {
        const users = last.instructions.filter((i) => i.op === 'USER');
        expect(users.length).toBeGreaterThan(0);
        const user = users.at(-1)!.args.trim().split(':')[0]!;
        expect(['root', '0', '']).not.toContain(user);
        // Numeric, so that Kubernetes' runAsNonRoot can verify it.
        expect(user).toMatch(/^[1-9]\d*$/);
      });

      it('has a HEALTHCHECK', () => {
        const hc = last.instructions.filter((i) => i.op === 'HEALTHCHECK');
        expect(hc.length).toBe(1);
        expect(hc[0]!.args).not.toMatch(/^NONE/i);
        expect(hc[0]!.args).toMatch(/\/healthz/);
      });
    });
  }

  it('ai-server: NODE_ENV=production, and the same entry point as `npm start`', () => {
    const stages = dockerfileStages(read('ai-server/Dockerfile'));
    const last = stages.at(-1)!;
    expect(last.instructions.some((i) => i.op === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))).toBe(true);
    const cmd = last.instructions.filter((i) => i.op === 'CMD').at(-1)!;
    const argv = JSON.parse(cmd.args) as string[];
    const pkg = JSON.parse(read('ai-server/package.json')) as { scripts: Record<string, string> };
    expect(argv.join(' ')).toBe(pkg.scripts.start);
    const workdir = last.instructions.filter((i) => i.op === 'WORKDIR').at(-1)!.args;
    expect(workdir).toBe('/app/ai-server');
    expect(last.instructions.some((i) => i.op === 'EXPOSE' && i.args.trim() === '3001')).toBe(true);
  });

  it('frontend: serves the Vite build with nginx on 8080', () => {
    const text = read('frontend/Dockerfile');
    expect(text).toMatch(/npm run build --workspace frontend/);
    expect(text).toMatch(/COPY --from=build \/app\/frontend\/dist \/usr\/share\/nginx\/html/);
    expect(text).toMatch(/COPY frontend\/nginx\.conf \/etc\/nginx\/conf\.d\/default\.conf/);
    expect(nginxConf).toMatch(/listen 8080;/);
  });

  it('.dockerignore keeps dependencies, build output, secrets and git out of the context', () => {
    const lines = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['**/node_modules', '**/dist', '.env', '.git']) expect(lines).toContain(p);
    expect(lines).toContain('!.env.example');
  });
});

describe('Content-Security-Policy', () => {
  const csp = parseCsp(traefikCsp);

  it('allows the page its own origin and socket, and nothing it does not need', () => {
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toContain("'self'");
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'self'"]);
    // emotion (MUI) injects <style> elements at run time.
    expect(csp.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    for (const [directive, values] of csp) {
      for (const v of values) {
        expect(v, directive).not.toMatch(/\*/);
        // A bare scheme (`ws:`, `wss:`, `https:`, `data:` outside images/fonts) allows any host.
        if (/^[a-z]+:$/.test(v)) expect(['img-src', 'font-src'], `${directive} ${v}`).toContain(directive);
        expect(v, directive).not.toMatch(/unsafe-eval|unsafe-hashes|strict-dynamic/);
      }
    }
  });

  it('is the same in Traefik and in the frontend image', () => {
    const m = /add_header\s+Content-Security-Policy\s+"([^"]+)"\s+always;/.exec(nginxConf);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(traefikCsp);
  });
});

describe('frontend/nginx.conf', () => {
  it('falls back to index.html for every path that is not a file', () => {
    expect(nginxConf).toMatch(/location \/ \{\s*try_files \$uri \/index\.html;\s*\}/);
    expect(nginxConf).toMatch(/location = \/healthz/);
  });

  describe.skipIf(!nginxBin)('served by a real nginx', () => {
    let dir: string;
    let port: number;
    let proc: ChildProcess | undefined;
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: await res.text() };
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'nginx-conf-'));
      chmodSync(dir, 0o755); // workers may run as another user when the test runs as root
      port = await freePort();
      mkdirSync(join(dir, 'html/assets'), { recursive: true });
      mkdirSync(join(dir, 'tmp'));
      writeFileSync(join(dir, 'html/index.html'), '<!doctype html><title>chat</title><div id="root"></div>');
      writeFileSync(join(dir, 'html/assets/index-abc123.js'), 'console.log("page")');
      // The image's server block, with only the address and the document root moved.
      writeFileSync(
        join(dir, 'site.conf'),
        nginxConf
          .replace('listen 8080;', `listen 127.0.0.1:${port};`)
          .replace('root /usr/share/nginx/html;', `root ${join(dir, 'html')};`),
      );
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((t) => `${t}_temp_path ${join(dir, 'tmp', t)};`)
        .join('\n  ');
      const mime = existsSync('/etc/nginx/mime.types') ? 'include /etc/nginx/mime.types;' : '';
      writeFileSync(
        join(dir, 'nginx.conf'),
        `worker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log stderr;\ndaemon off;\nevents {}\n` +
          `http {\n  ${mime}\n  default_type application/octet-stream;\n  access_log off;\n  ${temp}\n  include ${join(dir, 'site.conf')};\n}\n`,
      );
      const server = start(nginxBin!, ['-c', join(dir, 'nginx.conf'), '-e', 'stderr']);
      proc = server.proc;
      await waitFor(async () => (await get('/healthz')).status === 200, 10_000, server);
    });

    afterAll(() => {
      proc?.kill('SIGTERM');
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('answers /healthz', async () => {
      const r = await get('/healthz');
      expect(r.status).toBe(200);
      expect(r.body.trim()).toBe('ok');
    });

    it('serves index.html for /, /chat and any other route, never cached', async () => {
      for (const path of ['/', '/chat', '/chat/some-id', '/no/such/page']) {
        const r = await get(path);
        expect(r.status, path).toBe(200);
        expect(r.type, path).toMatch(/^text\/html/);
        expect(r.body, path).toContain('<div id="root">');
        expect(r.headers.get('cache-control'), path).toBe('no-cache');
      }
    });

    it('serves the hashed assets as files, cached for long', async () => {
      const r = await get('/assets/index-abc123.js');
      expect(r.status).toBe(200);
      expect(r.body).toBe('console.log("page")');
      expect(r.headers.get('cache-control')).toMatch(/max-age=31536000/);
    });

    it('sends the security headers on every response', async () => {
      for (const path of ['/chat', '/assets/index-abc123.js', '/healthz']) {
        const r = await get(path);
        expect(r.headers.get('content-security-policy'), path).toBe(traefikCsp);
        expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(r.headers.get('x-frame-options'), path).toBe('DENY');
      }
    });
  });
});

describe('docs and scripts', () => {
  it('docs/deployment.md covers first run, scaling, rolling restart, TLS, Redis backups and Kubernetes', () => {
    const doc = read('docs/deployment.md');
    for (const topic of [/first run/i, /scal/i, /rolling restart/i, /\bTLS\b/, /backup/i, /kubernetes/i, /readinessProbe/, /livenessProbe/, /terminationGracePeriodSeconds/]) {
      expect(doc).toMatch(topic);
    }
  });

  it('scripts/check-shell.sh exists and is executable', () => {
    const st = statSync(join(ROOT, 'scripts/check-shell.sh'));
    expect(st.mode & 0o111).not.toBe(0);
    expect(read('scripts/check-shell.sh').split('\n')[0]).toBe('#!/usr/bin/env bash');
  });
});
