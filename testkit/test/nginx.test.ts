import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNginx } from '../src/nginx.js';
import { portOpen } from '../src/ports.js';
import { skip } from '../src/skips.js';

describe.skipIf(skip.nginx)('nginx launcher', () => {
  it('serves the given server block from a prepared directory, and stops', async () => {
    const nginx = await startNginx(
      ({ port, dir }) => `server {\n  listen 127.0.0.1:${port};\n  root ${dir};\n}\n`,
      (dir) => writeFileSync(join(dir, 'hello.txt'), 'hello'),
    );
    try {
      const res = await fetch(`${nginx.url}/hello.txt`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello');
    } finally {
      await nginx.stop();
    }
    expect(await portOpen(nginx.port)).toBe(false);
  });
});
