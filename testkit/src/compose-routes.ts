/**
 * What Traefik routes, read from the Compose file's `traefik.*` labels, and the same
 * routes as an HAProxy configuration: the proxy that stands in for Traefik where no
 * Traefik image can be had (the Compose test). Every `traefik.http.*` label is either
 * understood here or refused, so the stand-in cannot silently route less than Traefik.
 */

export interface Route {
  router: string;
  /** The Compose service whose containers answer (the service the labels are on). */
  service: string;
  port: number;
  /** Host(`…`) of the rule, when it has one. */
  host: string | undefined;
  /** PathPrefix(`…`) of the rule. */
  pathPrefix: string;
  priority: number;
  entrypoints: string[];
  /** Traefik's load balancer health check: path and interval. */
  healthPath: string | undefined;
  healthInterval: string | undefined;
  healthTimeout: string | undefined;
  middlewares: string[];
}

interface ComposeService {
  labels?: string[] | Record<string, string | null>;
}

function labelMap(labels: ComposeService['labels']): Map<string, string> {
  const map = new Map<string, string>();
  if (Array.isArray(labels)) {
    for (const label of labels) {
      const eq = label.indexOf('=');
      map.set(eq < 0 ? label : label.slice(0, eq), eq < 0 ? '' : label.slice(eq + 1));
    }
  } else if (labels) {
    for (const [key, value] of Object.entries(labels)) map.set(key, value ?? '');
  }
  return map;
}

const RULE = /^(?:Host\(`([^`]+)`\) && )?PathPrefix\(`([^`]+)`\)$/;
const ROUTER_KEYS = new Set(['rule', 'entrypoints', 'priority', 'service', 'middlewares']);
const SERVICE_KEYS = new Set([
  'loadbalancer.server.port',
  'loadbalancer.healthcheck.path',
  'loadbalancer.healthcheck.interval',
  'loadbalancer.healthcheck.timeout',
]);

/**
 * The HTTP routes of every service with `traefik.enable=true`, highest priority first.
 * Routers to Traefik's internal services (`noop@internal`: the HTTPS redirect) are not
 * routes to a container and are left out.
 */
export function routesFromLabels(services: Record<string, ComposeService>): Route[] {
  const routes: Route[] = [];
  for (const [service, spec] of Object.entries(services)) {
    const labels = labelMap(spec.labels);
    if (labels.get('traefik.enable') !== 'true') continue;
    const routers = new Map<string, Map<string, string>>();
    const lbs = new Map<string, Map<string, string>>();
    for (const [key, value] of labels) {
      if (key === 'traefik.enable') continue;
      const router = /^traefik\.http\.routers\.([^.]+)\.(.+)$/.exec(key);
      const lb = /^traefik\.http\.services\.([^.]+)\.(.+)$/.exec(key);
      if (router && ROUTER_KEYS.has(router[2]!)) {
        if (!routers.has(router[1]!)) routers.set(router[1]!, new Map());
        routers.get(router[1]!)!.set(router[2]!, value);
      } else if (lb && SERVICE_KEYS.has(lb[2]!)) {
        if (!lbs.has(lb[1]!)) lbs.set(lb[1]!, new Map());
        lbs.get(lb[1]!)!.set(lb[2]!, value);
      } else {
        throw new Error(`${service}: the stand-in proxy does not understand the label ${key}`);
      }
    }
    for (const [router, keys] of routers) {
      const target = keys.get('service') ?? router;
      if (target.endsWith('@internal')) continue;
      const lb = lbs.get(target);
      if (!lb) throw new Error(`${service}: router ${router} names service ${target}, which has no labels`);
      const rule = RULE.exec(keys.get('rule') ?? '');
      if (!rule) throw new Error(`${service}: router ${router}: unsupported rule ${keys.get('rule') ?? '(none)'}`);
      const port = Number(lb.get('loadbalancer.server.port'));
      if (!Number.isInteger(port)) throw new Error(`${service}: service ${target} has no server port`);
      routes.push({
        router,
        service,
        port,
        host: rule[1],
        pathPrefix: rule[2]!,
        priority: Number(keys.get('priority') ?? 0),
        entrypoints: (keys.get('entrypoints') ?? '').split(',').filter(Boolean),
        healthPath: lb.get('loadbalancer.healthcheck.path'),
        healthInterval: lb.get('loadbalancer.healthcheck.interval'),
        healthTimeout: lb.get('loadbalancer.healthcheck.timeout'),
        middlewares: (keys.get('middlewares') ?? '').split(',').filter(Boolean),
      });
    }
  }
  return routes.sort((a, b) => b.priority - a.priority);
}

/** At most this many containers per service get a server slot in HAProxy. */
const SLOTS = 10;

/**
 * HAProxy's configuration for `routes` on :80, the `web` entry point: the first route
 * (by priority) whose host and path prefix match, round robin over the service's
 * containers (found through Docker's DNS, so replicas that come and go are followed),
 * each health-checked as Traefik does (out at the first failed check, back at the first
 * passed one). WebSocket upgrades pass through untouched.
 */
export function haproxyConfig(routes: Route[]): string {
  const web = routes.filter((r) => r.entrypoints.includes('web'));
  const lines = [
    'global',
    '  log stdout format raw local0',
    'resolvers docker',
    '  nameserver dns 127.0.0.11:53',
    '  hold valid 1s',
    '  hold obsolete 1s',
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    // Traefik's /ping on its internal entry point (:8080, not published): the health check.
    'frontend ping',
    '  bind :8080',
    '  monitor-uri /ping',
    'frontend web',
    '  bind :80',
    '  option forwardfor',
  ];
  for (const r of web) {
    const host = r.host ? ` { hdr(host) -m str -i ${r.host} }` : '';
    lines.push(`  use_backend ${r.router} if${host} { path_beg ${r.pathPrefix} }`);
  }
  for (const r of web) {
    lines.push(`backend ${r.router}`, '  balance roundrobin');
    if (r.healthPath) lines.push(`  option httpchk GET ${r.healthPath}`);
    if (r.healthTimeout) lines.push(`  timeout check ${r.healthTimeout}`);
    const check = r.healthPath ? ` check inter ${r.healthInterval ?? '30s'} fall 1 rise 1` : '';
    lines.push(`  server-template ${r.service}- ${SLOTS} ${r.service}:${r.port}${check} resolvers docker init-addr none`);
  }
  return `${lines.join('\n')}\n`;
}
