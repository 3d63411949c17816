import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { SECURITY_HEADERS } from './security-headers.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves the built page from `root`: a file when the path names one inside `root`, else
 * `index.html` (the page's router shows its own 404). Paths that climb out of `root` are
 * never served. Every answer carries the page's security headers (`SECURITY_HEADERS`).
 * Returns false when the request is not a GET/HEAD.
 */
export function createStaticHandler(root: string) {
  const rootWithSep = root.endsWith(sep) ? root : root + sep;

  async function resolveFile(urlPath: string): Promise<{ path: string; size: number; mtime: Date } | null> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return null;
    }
    if (decoded.includes('\0')) return null;
    const candidate = normalize(join(root, decoded));
    if (!candidate.startsWith(rootWithSep)) return null;
    try {
      const st = await stat(candidate);
      return st.isFile() ? { path: candidate, size: st.size, mtime: st.mtime } : null;
    } catch {
      return null;
    }
  }

  return async function serveStatic(req: IncomingMessage, res: ServerResponse, urlPath: string): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let file = await resolveFile(urlPath);
    const isFallback = !file;
    if (!file) {
      // A missing asset is a real 404; every other path is a route of the page.
      if (urlPath.startsWith('/assets/')) {
        res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
        return true;
      }
      file = await resolveFile('/index.html');
    }
    if (!file) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('The page is not built: run npm run build');
      return true;
    }
    const type = CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
    const immutable = !isFallback && urlPath.startsWith('/assets/');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': type,
      'content-length': file.size,
      'last-modified': file.mtime.toUTCString(),
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    // pipeline closes the file when the client goes away mid-download.
    pipeline(createReadStream(file.path), res, () => undefined);
    return true;
  };
}
