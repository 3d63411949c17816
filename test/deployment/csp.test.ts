import { describe, expect, it } from 'vitest';
import { parseCsp } from './csp.js';

describe('parseCsp', () => {
  it('maps each directive (lower-cased) to its values, ignoring empty parts', () => {
    const csp = parseCsp("default-src 'self'; IMG-SRC 'self' data: ;; upgrade-insecure-requests");
    expect([...csp]).toEqual([
      ['default-src', ["'self'"]],
      ['img-src', ["'self'", 'data:']],
      ['upgrade-insecure-requests', []],
    ]);
  });
});
