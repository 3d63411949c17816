/**
 * The page's Content-Security-Policy and security headers: the one source. ai-server's
 * single-node mode sends them with every file of the page; traefik/dynamic.yml (the
 * `security-headers` middleware) and frontend/nginx.conf carry the same values, and a test
 * checks that they do. HSTS is not here: it belongs to HTTPS, which Traefik terminates.
 *
 * The page is a Vite build: scripts only from its own origin, no inline script, no eval.
 * React + MUI (emotion) inject <style> elements at run time, hence 'unsafe-inline' for
 * styles only. The socket is same-origin (/ws-chat): `connect-src 'self'` covers ws:// and
 * wss:// of the page's own host in CSP Level 3 browsers, without allowing any other host.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
});
