import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findBinary, requireBinary } from '../src/binaries.js';

describe('binaries', () => {
  const saved = { PATH: process.env.PATH, NGINX_BIN: process.env.NGINX_BIN };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kit-bin-'));
    delete process.env.NGINX_BIN;
  });
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.NGINX_BIN === undefined) delete process.env.NGINX_BIN;
    else process.env.NGINX_BIN = saved.NGINX_BIN;
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a program on PATH, or through its override variable', () => {
    const fake = join(dir, 'redis-server');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    process.env.PATH = dir;
    expect(findBinary('redis-server')).toBe(fake);
    process.env.NGINX_BIN = fake;
    expect(findBinary('nginx')).toBe(fake);
    process.env.NGINX_BIN = join(dir, 'nowhere');
    expect(findBinary('nginx')).toBeUndefined();
  });

  it('names the package to install and the variable that skips, when a program is missing', () => {
    process.env.PATH = dir;
    expect(() => requireBinary('chromium')).toThrow(
      'chromium is not installed. `npm test` installs what the tests need; by hand: sudo apt-get install -y --no-install-recommends chromium (or set CHROMIUM_PATH, or SKIP_BROWSER=1 to skip these tests)',
    );
  });
});
