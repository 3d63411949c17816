/**
 * Suites a run leaves out on purpose, by environment variable (`1` or `true`):
 *
 * - `SKIP_REDIS`: every test that needs a real `redis-server` (or `REDIS_URL`);
 * - `SKIP_BROWSER`: the page's tests in Chromium;
 * - `SKIP_NGINX`: the frontend image's nginx configuration served by a real nginx.
 *
 * A skipped suite reports its tests as skipped. Without these variables a missing
 * program fails the tests that need it, naming how to install it.
 */
const flag = (name: string): boolean => /^(1|true|yes)$/i.test(process.env[name] ?? '');

export const skip = {
  redis: flag('SKIP_REDIS'),
  browser: flag('SKIP_BROWSER'),
  nginx: flag('SKIP_NGINX'),
} as const;
