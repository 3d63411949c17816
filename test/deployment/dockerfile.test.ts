import { describe, expect, it } from 'vitest';
import { dockerfileStages } from './dockerfile.js';

describe('dockerfileStages', () => {
  it('splits stages, joins continuations, drops comments and parser directives', () => {
    const text = [
      '# syntax=docker/dockerfile:1',
      'FROM --platform=linux/amd64 node:22 AS build',
      'RUN npm ci \\',
      '    # a comment inside a continuation',
      '    --no-audit',
      '',
      'from nginx:1',
      'COPY --from=build /a /b',
      'USER 101',
    ].join('\n');
    expect(dockerfileStages(text)).toEqual([
      { from: 'node:22', name: 'build', instructions: [{ op: 'RUN', args: 'npm ci      --no-audit' }] },
      {
        from: 'nginx:1',
        name: undefined,
        instructions: [
          { op: 'COPY', args: '--from=build /a /b' },
          { op: 'USER', args: '101' },
        ],
      },
    ]);
  });
});
