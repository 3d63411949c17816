import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, portOpen } from '../src/ports.js';

describe('ports', () => {
  it('gives a port nothing listens on, which can then be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await portOpen(port)).toBe(false);
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    try {
      expect(await portOpen(port)).toBe(true);
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  });
});
