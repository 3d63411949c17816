import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from '@ai-chat/testkit/replica-in-process';
import { SECURITY_HEADERS } from '../../src/server/security-headers.js';

const repoFile = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

interface TraefikHeaders {
  contentSecurityPolicy?: string;
  frameDeny?: boolean;
  contentTypeNosniff?: boolean;
  referrerPolicy?: string;
  permissionsPolicy?: string;
  customResponseHeaders?: Record<string, string>;
}

/** The response headers Traefik's `headers` middleware sends on plain HTTP (HSTS is HTTPS only). */
function traefikResponseHeaders(h: TraefikHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  if (h.contentSecurityPolicy !== undefined) out['Content-Security-Policy'] = h.contentSecurityPolicy;
  if (h.frameDeny) out['X-Frame-Options'] = 'DENY';
  if (h.contentTypeNosniff) out['X-Content-Type-Options'] = 'nosniff';
  if (h.referrerPolicy !== undefined) out['Referrer-Policy'] = h.referrerPolicy;
  if (h.permissionsPolicy !== undefined) out['Permissions-Policy'] = h.permissionsPolicy;
  Object.assign(out, h.customResponseHeaders ?? {});
  return out;
}

describe('the page has one security policy however it is served', () => {
  let server: TestServer;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'page-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>chat</title>');
    server = await startTestServer({ env: { STATIC_DIR: dir } });
  });
  afterAll(async () => {
    await (server as TestServer | undefined)?.close();
  });

  it("Traefik's security-headers middleware sends exactly the source's headers", () => {
    const dynamic = parse(repoFile('traefik/dynamic.yml')) as {
      http: { middlewares: { 'security-headers': { headers: TraefikHeaders } } };
    };
    expect(traefikResponseHeaders(dynamic.http.middlewares['security-headers'].headers)).toEqual(SECURITY_HEADERS);
  });

  it("the frontend image's nginx sends exactly the source's headers", () => {
    const nginx = repoFile('frontend/nginx.conf');
    const added: Record<string, string> = {};
    for (const m of nginx.matchAll(/^\s*add_header\s+(\S+)\s+"([^"]*)"\s+always;/gm)) added[m[1]!] = m[2]!;
    expect(added).toEqual(SECURITY_HEADERS);
  });

  it.each(['/chat', '/', '/index.html', '/assets/missing.js'])('single-node mode sends them with %s', async (path) => {
    const res = await fetch(`${server.httpUrl}${path}`);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name)).toBe(value);
    await res.arrayBuffer();
  });
});
