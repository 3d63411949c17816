import { describe, expect, it } from 'vitest';
import { dynamicConfigFromLabels, staticConfigFromFlags, type Schema } from './traefik-config.js';

/** A small schema in the shape of Traefik's: $refs, additionalProperties, oneOf branches. */
const schema: Schema = {
  type: 'object',
  properties: {
    ping: { $ref: '#/definitions/section' },
    entryPoints: { type: 'object', additionalProperties: { $ref: '#/definitions/entryPoint' } },
    log: { type: 'object', properties: { level: { type: 'string' } } },
    http: {
      type: 'object',
      properties: {
        routers: { type: 'object', additionalProperties: { $ref: '#/definitions/router' } },
        services: { type: 'object', additionalProperties: { $ref: '#/definitions/service' } },
      },
    },
  },
  definitions: {
    section: { type: 'object', properties: { entryPoint: { type: 'string' } } },
    entryPoint: { type: 'object', properties: { address: { type: 'string' }, asDefault: { type: 'boolean' } } },
    router: {
      type: 'object',
      properties: { rule: { type: 'string' }, priority: { type: 'integer' }, entryPoints: { type: 'array' } },
    },
    service: {
      oneOf: [
        {
          type: 'object',
          properties: {
            loadBalancer: {
              type: 'object',
              properties: { servers: { type: 'array' }, healthCheck: { type: 'object', properties: { path: { type: 'string' } } } },
            },
          },
        },
      ],
    },
  },
};

describe('Traefik static configuration from flags', () => {
  it('follows the schema case-insensitively and coerces booleans, numbers and sections', () => {
    expect(
      staticConfigFromFlags(['--ping=true', '--entrypoints.web.address=:80', '--entrypoints.web.asdefault', '--log.level=INFO'], schema),
    ).toEqual({ ping: {}, entryPoints: { web: { address: ':80', asDefault: true } }, log: { level: 'INFO' } });
  });

  it('refuses unknown options and values of the wrong type', () => {
    expect(() => staticConfigFromFlags(['--nope=1'], schema)).toThrow('unknown option "nope"');
    expect(() => staticConfigFromFlags(['--entrypoints.web.asdefault=maybe'], schema)).toThrow('not a boolean');
    expect(() => staticConfigFromFlags(['--ping=false'], schema)).toThrow('a section takes no value but true');
    expect(() => staticConfigFromFlags(['ping'], schema)).toThrow('not a flag');
  });
});

describe('Traefik dynamic configuration from labels', () => {
  it('keeps the traefik.* labels, drops the Docker-only ones, and turns a server port into a URL', () => {
    const labels = new Map<string, string | undefined>([
      ['traefik.enable', 'true'],
      ['traefik.docker.network', 'web'],
      ['com.example.other', 'x'],
      ['traefik.http.routers.r.rule', 'PathPrefix(`/`)'],
      ['traefik.http.routers.r.priority', '10'],
      ['traefik.http.routers.r.entrypoints', 'web,websecure'],
      ['traefik.http.services.s.loadbalancer.server.port', '3001'],
      ['traefik.http.services.s.loadbalancer.healthcheck.path', '/readyz'],
    ]);
    expect(dynamicConfigFromLabels(labels, schema, 'ai-server')).toEqual({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', priority: 10, entryPoints: ['web', 'websecure'] } },
        services: { s: { loadBalancer: { healthCheck: { path: '/readyz' }, servers: [{ url: 'http://ai-server:3001' }] } } },
      },
    });
  });
});
