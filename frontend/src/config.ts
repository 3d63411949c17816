/**
 * The page's configuration: the only reader of `import.meta.env` (values fixed at build
 * time by Vite).
 */

/**
 * The socket URL. Default: same origin, `/ws-chat` (`wss:` when the page is on https),
 * which Traefik, the frontend container's web server, ai-server in single-node mode and
 * Vite's dev proxy all route to ai-server. `VITE_WS_URL` overrides it at build time: an
 * absolute `ws(s)://` URL, or a path resolved against the page's origin.
 */
export function socketUrl(location: Pick<Location, 'protocol' | 'host'> = window.location): string {
  const configured = import.meta.env.VITE_WS_URL?.trim();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (configured) {
    if (/^wss?:\/\//i.test(configured)) return configured;
    if (/^https?:\/\//i.test(configured)) return configured.replace(/^http/i, 'ws');
    return `${scheme}//${location.host}${configured.startsWith('/') ? '' : '/'}${configured}`;
  }
  return `${scheme}//${location.host}/ws-chat`;
}
