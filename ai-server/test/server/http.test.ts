import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';

/** A raw GET, so that `..` reaches the server as sent (fetch would normalise it). */
function rawGet(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the built page, served by ai-server (single-node mode)', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'static-'));
    dir = join(root, 'dist');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'assets', 'app.css'), 'body{}');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    server = await startTestServer({ env: { STATIC_DIR: dir } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves files with their content types and index.html for every route', async () => {
    const js = await rawGet(server.port, '/assets/app.js');
    expect(js).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect((await rawGet(server.port, '/assets/app.css')).type).toBe('text/css; charset=utf-8');
    for (const path of ['/', '/chat', '/chat?x=1', '/no/such/page']) {
      const page = await rawGet(server.port, path);
      expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
      expect(page.body).toContain('<title>page</title>');
    }
    expect((await rawGet(server.port, '/assets/missing.js')).status).toBe(404);
  });

  it('never serves a file outside the page', async () => {
    for (const path of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/%00']) {
      const res = await rawGet(server.port, path);
      expect(res.body).not.toContain('secret');
    }
  });

  it('keeps its own paths: /healthz, /readyz', async () => {
    expect((await rawGet(server.port, '/healthz')).status).toBe(200);
    expect((await rawGet(server.port, '/readyz')).status).toBe(200);
  });
});
