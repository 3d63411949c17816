/**
 * The proxy that stands in for Traefik in `npm run test:compose` routes exactly what the
 * Traefik labels of docker-compose.yml route: its routes are derived from the labels
 * (testkit/src/compose-routes.ts), and this checks the derivation against the file, so
 * a label the stand-in does not understand fails here instead of routing less.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { haproxyConfig, routesFromLabels } from '../testkit/src/compose-routes.js';
import { renderForComposeV1 } from '../testkit/src/compose-v1.js';
import { interpolateTree, type Env } from './deployment/compose-interpolation.js';
import type { Json } from './deployment/json.js';

const source = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');

type Services = Parameters<typeof routesFromLabels>[0];
const servicesFor = (text: string, env: Env): Services =>
  (interpolateTree(parse(text) as Json, env) as unknown as { services: Services }).services;

describe('the stand-in proxy of the Compose test', () => {
  it('derives the routes of the Traefik labels: /ws-chat to ai-server, every other path to the page', () => {
    const routes = routesFromLabels(servicesFor(source, {}));
    expect(routes.map((r) => [r.router, r.pathPrefix, r.host, r.service, r.port, r.priority, r.healthPath])).toEqual([
      ['chat-ws', '/ws-chat', undefined, 'ai-server', 3001, 100, '/readyz'],
      ['chat-page', '/', undefined, 'frontend', 8080, 1, '/healthz'],
    ]);
    for (const r of routes) expect(r.entrypoints).toContain('web');
  });

  it('keeps the Host of the rule when PUBLIC_HOST is set', () => {
    const routes = routesFromLabels(servicesFor(source, { PUBLIC_HOST: 'chat.example.com' }));
    expect(routes.map((r) => r.host)).toEqual(['chat.example.com', 'chat.example.com']);
    expect(haproxyConfig(routes)).toContain('use_backend chat-ws if { hdr(host) -m str -i chat.example.com } { path_beg /ws-chat }');
  });

  it('leaves out the HTTPS redirect, which routes to no container', () => {
    const routes = routesFromLabels(servicesFor(source, { HTTPS_REDIRECT: 'true' }));
    expect(routes.map((r) => r.router)).toEqual(['chat-ws', 'chat-page']);
  });

  it('routes in priority order, each backend health-checked on the labels\' path and interval', () => {
    const cfg = haproxyConfig(routesFromLabels(servicesFor(source, {})));
    const uses = cfg.split('\n').filter((l) => l.includes('use_backend'));
    expect(uses).toEqual(['  use_backend chat-ws if { path_beg /ws-chat }', '  use_backend chat-page if { path_beg / }']);
    expect(cfg).toContain('option httpchk GET /readyz');
    expect(cfg).toMatch(/server-template ai-server- \d+ ai-server:3001 check inter 2s fall 1 rise 1/);
    expect(cfg).toMatch(/server-template frontend- \d+ frontend:8080 check inter 5s fall 1 rise 1/);
  });

  it('refuses a label it does not understand, and a rule it cannot express', () => {
    const withLabel = (label: string): Services => ({ web: { labels: ['traefik.enable=true', label] } });
    expect(() => routesFromLabels(withLabel('traefik.http.routers.x.tls=true'))).toThrow(/does not understand/);
    expect(() =>
      routesFromLabels({
        web: {
          labels: [
            'traefik.enable=true',
            'traefik.http.routers.x.rule=Path(`/exact`)',
            'traefik.http.services.x.loadbalancer.server.port=80',
          ],
        },
      }),
    ).toThrow(/unsupported rule/);
  });
});

describe('the Compose file rendered for Compose v1', () => {
  it('expands ${VAR:+…} as Compose v2 does and takes the project name out', () => {
    for (const env of [{}, { PUBLIC_HOST: '' }, { PUBLIC_HOST: 'chat.example.com' }] as Env[]) {
      const v1 = renderForComposeV1(source, env);
      expect(v1.projectName).toBe('ai-chat');
      expect(v1.text).not.toMatch(/\$\{[A-Za-z_]+:?\+/);
      expect(v1.text).not.toMatch(/^name:/m);
      const asV2 = servicesFor(source, env);
      expect(servicesFor(v1.text, env)).toEqual(asV2);
    }
  });
});
