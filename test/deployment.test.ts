/**
 * The deployment files, checked without a Docker engine or a Traefik binary:
 *
 * - docker-compose.yml is interpolated the way Compose does it (for a first run with no
 *   `.env`, for `.env.example` copied as is, and for a production `.env`) and validated
 *   against the compose-spec JSON schema;
 * - Traefik's static configuration (the `command:` flags of the `traefik` service) is
 *   turned into an object and validated against Traefik v3's static schema, its
 *   dynamic configuration (traefik/dynamic.yml, and the routers/services of the
 *   containers' labels) against Traefik v3's file-provider schema;
 * - no container_name on ai-server, no forced Upgrade headers, the /ws-chat rule with
 *   and without a host (never `Host(``)`), health checks, the stop grace period, AOF and
 *   the Redis volume, non-root images, the build stages, every variable of the server's
 *   configuration documented, the Content-Security-Policy;
 * - redis.conf is loaded by a real redis-server and frontend/nginx.conf is served by a
 *   real nginx (SKIP_REDIS=1 / SKIP_NGINX=1 skip those two).
 *
 * The schemas are vendored in test/schemas (sources and licences in its NOTICE); the
 * parsers live in test/deployment/, each with its own tests.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireBinary } from '@ai-chat/testkit/binaries';
import { startNginx, type NginxHandle } from '@ai-chat/testkit/nginx';
import { waitUntil } from '@ai-chat/testkit/process';
import { startRedisServer, type RedisServerHandle } from '@ai-chat/testkit/redis-server';
import { skip } from '@ai-chat/testkit/skips';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CONFIG_VARIABLES } from '../ai-server/src/config.js';
import { interpolateTree, type Env, type VarRef } from './deployment/compose-interpolation.js';
import { parseCsp } from './deployment/csp.js';
import { dockerfileStages } from './deployment/dockerfile.js';
import { documentedVars, parseDotEnv } from './deployment/dotenv.js';
import { durationMs } from './deployment/duration.js';
import { isObj, type Json, type Obj } from './deployment/json.js';
import { keyValues } from './deployment/key-values.js';
import { tableVariables } from './deployment/readme-config.js';
import { compileSchema, loadSchema } from './deployment/schema-validator.js';
import { dynamicConfigFromLabels, staticConfigFromFlags } from './deployment/traefik-config.js';

const execFileP = promisify(execFile);

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMAS_DIR = fileURLToPath(new URL('./schemas/', import.meta.url));

const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

const composeText = read('docker-compose.yml');
const composeRaw = YAML.parse(composeText) as Obj;
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

// ---------------------------------------------------------------------------------------
// The server's configuration: every variable it reads, with its default
// ---------------------------------------------------------------------------------------

/** A numeric default as `.env.example` writes it, else undefined. */
const numericDefault = (name: string): string | undefined => {
  const v = CONFIG_VARIABLES.get(name);
  return typeof v === 'number' ? String(v) : undefined;
};

const traefikFlags = (compose: Obj): string[] => (service(compose, 'traefik').command as Json[]).map(String);

const dynamicYml = YAML.parse(read('traefik/dynamic.yml')) as Obj;
const middlewares = ((dynamicYml.http as Obj).middlewares ?? {}) as Obj;
const traefikCsp = (((middlewares['security-headers'] as Obj).headers as Obj).contentSecurityPolicy ?? '') as string;
const nginxConf = read('frontend/nginx.conf');

const DOCKERFILES = ['ai-server/Dockerfile', 'frontend/Dockerfile'] as const;

// =======================================================================================
// Tests
// =======================================================================================


describe('schemas (test/schemas)', () => {
  const composeSchema = loadSchema(join(SCHEMAS_DIR, 'compose-spec.json'));
  const staticSchema = loadSchema(join(SCHEMAS_DIR, 'traefik-v3.json'));
  const dynamicSchema = loadSchema(join(SCHEMAS_DIR, 'traefik-v3-file-provider.json'));

  for (const [label, env] of Object.entries(SCENARIOS)) {
    it(`docker-compose.yml is valid for the compose-spec, ${label}`, () => {
      expect(compileSchema(composeSchema)(composeFor(env))).toBeUndefined();
    });

    it(`Traefik's static configuration (command flags) is valid for Traefik v3, ${label}`, () => {
      const config = staticConfigFromFlags(traefikFlags(composeFor(env)), staticSchema);
      expect(compileSchema(staticSchema)(config)).toBeUndefined();
    });

    it(`the routers and services of the containers' labels are valid Traefik v3 dynamic configuration, ${label}`, () => {
      const validate = compileSchema(dynamicSchema);
      for (const [name, svc] of Object.entries(services(composeFor(env)))) {
        const labels = keyValues((svc as Obj).labels);
        if (![...labels.keys()].some((k) => k.startsWith('traefik.'))) continue;
        const config = dynamicConfigFromLabels(labels, dynamicSchema, name);
        expect(validate(config), `${name}: ${JSON.stringify(config)}`).toBeUndefined();
      }
    });
  }

  it('every file under traefik/ is valid Traefik v3 dynamic configuration', () => {
    const validate = compileSchema(dynamicSchema);
    const files = readdirSync(join(ROOT, 'traefik')).filter((f) => /\.(ya?ml)$/.test(f));
    expect(files).toContain('dynamic.yml');
    for (const f of files) {
      expect(validate(YAML.parse(read(`traefik/${f}`))), f).toBeUndefined();
    }
  });
});

describe('docker-compose.yml', () => {
  it('has the four services, and a local model server only behind the `ollama` profile', () => {
    const all = services(composeRaw);
    const always = Object.keys(all).filter((name) => !('profiles' in (all[name] as Obj)));
    expect(always.sort()).toEqual(['ai-server', 'frontend', 'redis', 'traefik']);
    expect(Object.keys(all).sort()).toEqual(['ai-server', 'frontend', 'ollama', 'redis', 'traefik']);
    expect(service(composeRaw, 'ollama').profiles).toEqual(['ollama']);
    expect(service(composeRaw, 'ollama')).not.toHaveProperty('ports');
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
      expect(Array.isArray(test) && test.length > 1 && typeof test[0] === 'string' && ['CMD', 'CMD-SHELL'].includes(test[0]), name).toBe(true);
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
    const contractGrace = Number(numericDefault('SHUTDOWN_GRACE_MS'));
    expect(contractGrace).toBeGreaterThan(0);
    for (const env of Object.values(SCENARIOS)) {
      const ai = service(composeFor(env), 'ai-server');
      const grace = env.SHUTDOWN_GRACE_MS ? Number(env.SHUTDOWN_GRACE_MS) : contractGrace;
      const stopGrace = durationMs(ai.stop_grace_period as string);
      expect(stopGrace).toBeGreaterThan(grace);
      // Margin for closing sockets and the store after the drain.
      expect(stopGrace - grace).toBeGreaterThanOrEqual(5000);
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

  it('passes only variables of the server\'s configuration to ai-server', () => {
    const env = keyValues(service(composeRaw, 'ai-server').environment);
    for (const k of env.keys()) expect(CONFIG_VARIABLES.has(k), `${k} is not read by ai-server/src/config.ts`).toBe(true);
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
    const image = service(composeRaw, 'traefik').image;
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
  it('documents every variable the server reads (ai-server/src/config.ts), with its default', () => {
    const documented = documentedVars(envExampleText);
    const missing = [...CONFIG_VARIABLES.keys()].filter((n) => !documented.has(n));
    expect(missing).toEqual([]);
    for (const name of CONFIG_VARIABLES.keys()) {
      const def = numericDefault(name);
      if (def === undefined) continue;
      const line = envExampleText.split('\n').find((l) => new RegExp(`^#?\\s*${name}=`).test(l.trim()));
      expect(line, name).toBeDefined();
      const value = line!.replace(/^#?\s*[A-Z0-9_]+=/, '').trim();
      if (value !== '') expect(value, `${name}'s default`).toBe(def);
    }
  });

  it('never sets a numeric variable to an empty value (the server would refuse it)', () => {
    const set = parseDotEnv(envExampleText);
    const numeric = [...CONFIG_VARIABLES.keys()].filter((n) => numericDefault(n) !== undefined);
    for (const n of numeric) expect(set[n], n).not.toBe('');
  });
});

describe('README.md', () => {
  it('lists every variable the server reads in its configuration table', () => {
    const listed = tableVariables(read('README.md'), 'Configuration');
    const missing = [...CONFIG_VARIABLES.keys()].filter((n) => !listed.has(n));
    expect(missing).toEqual([]);
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

  describe.skipIf(skip.redis)('loaded by a real redis-server', () => {
    let redis: RedisServerHandle | undefined;
    const cli = async (...args: string[]) =>
      (await execFileP(requireBinary('redis-cli'), ['-p', String(redis!.port), ...args], { timeout: 5000 })).stdout.trim();

    beforeAll(async () => {
      // Only what cannot work outside the container changes: the data directory and the
      // listening address.
      redis = await startRedisServer({
        config: ({ port, dir }) =>
          read('redis/redis.conf')
            .replace(/^dir \/data$/m, `dir ${dir}`)
            .replace(/^port 6379$/m, `port ${port}`)
            .replace(/^bind .*$/m, 'bind 127.0.0.1'),
      });
      expect(await cli('ping')).toBe('PONG');
    });

    afterAll(async () => {
      await redis?.stop();
    });

    it('starts with AOF on, everysec, noeviction and the maxmemory ceiling', async () => {
      expect(await cli('config', 'get', 'appendonly')).toBe('appendonly\nyes');
      expect(await cli('config', 'get', 'appendfsync')).toBe('appendfsync\neverysec');
      expect(await cli('config', 'get', 'maxmemory-policy')).toBe('maxmemory-policy\nnoeviction');
      expect(Number((await cli('config', 'get', 'maxmemory')).split('\n')[1])).toBeGreaterThan(0);
      expect(await cli('set', 'deployment-test', '1')).toBe('OK');
      await waitUntil(() => existsSync(join(redis!.dir, 'appendonlydir')), { what: 'the AOF directory', timeoutMs: 5000 });
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
        expect(last.instructions.some((i) => i.op === 'COPY' && i.args.includes('--from='))).toBe(true);
      });

      it('builds offline: no `# syntax=` directive (it makes BuildKit fetch a frontend image from a registry)', () => {
        expect(read(file)).not.toMatch(/^#\s*syntax\s*=/im);
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

  describe.skipIf(skip.nginx)('served by a real nginx', () => {
    let nginx: NginxHandle | undefined;
    const get = async (path: string) => {
      const res = await fetch(`${nginx!.url}${path}`);
      return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: await res.text() };
    };

    beforeAll(async () => {
      // The image's server block, with only the address and the document root moved.
      nginx = await startNginx(
        ({ port, dir }) =>
          nginxConf
            .replace('listen 8080;', `listen 127.0.0.1:${port};`)
            .replace('root /usr/share/nginx/html;', `root ${join(dir, 'html')};`),
        (dir) => {
          mkdirSync(join(dir, 'html/assets'), { recursive: true });
          writeFileSync(join(dir, 'html/index.html'), '<!doctype html><title>chat</title><div id="root"></div>');
          writeFileSync(join(dir, 'html/assets/index-abc123.js'), 'console.log("page")');
        },
      );
    });

    afterAll(async () => {
      await nginx?.stop();
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
