import { describe, expect, it } from 'vitest';
import { tableVariables } from './readme-config.js';

const md = [
  '# Title',
  '## Configuration',
  'Some text with `NOT_IN_TABLE`.',
  '| variable | default | meaning |',
  '|---|---|---|',
  '| `PORT` | `3001` | port, unlike `OTHER_COLUMN` |',
  '| `A_B`, `C` | `1`, `2` | two at once |',
  '## Next',
  '| `LATER` | x | y |',
].join('\n');

describe('tableVariables', () => {
  it("names the variables of the section's table, first column only", () => {
    expect([...tableVariables(md, 'Configuration')]).toEqual(['PORT', 'A_B', 'C']);
  });

  it('fails when the section is missing', () => {
    expect(() => tableVariables(md, 'Settings')).toThrow('no "## Settings" section');
  });
});
