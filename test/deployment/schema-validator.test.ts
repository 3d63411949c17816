import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSchema, loadSchema } from './schema-validator.js';

describe('schema validator', () => {
  it('loads a schema without its $schema and reports every error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'schema-'));
    try {
      const file = join(dir, 's.json');
      writeFileSync(
        file,
        JSON.stringify({
          $schema: 'https://json-schema.org/draft/2099-01/schema',
          type: 'object',
          properties: { a: { type: 'integer' }, u: { type: 'string', format: 'uri' } },
          additionalProperties: false,
        }),
      );
      const schema = loadSchema(file);
      expect(schema).not.toHaveProperty('$schema');
      const validate = compileSchema(schema);
      expect(validate({ a: 1, u: 'https://example.com' })).toBeUndefined();
      const errors = validate({ a: 'x', u: 'not a uri', b: 1 });
      expect(errors).toContain('must be integer');
      expect(errors).toContain('must match format "uri"');
      expect(errors).toContain('must NOT have additional properties');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
