import { describe, expect, it } from 'vitest';
import { documentedVars, parseDotEnv } from './dotenv.js';

const text = ['# comment', 'A=1', 'B="two words"', '# C=3', '  D=', 'lower=x', 'not an assignment'].join('\n');

describe('.env files', () => {
  it('reads the uncommented assignments, unquoting double quotes', () => {
    expect(parseDotEnv(text)).toEqual({ A: '1', B: 'two words', D: '', lower: 'x' });
  });

  it('counts set and commented-out upper-case variables as documented', () => {
    expect([...documentedVars(text)].sort()).toEqual(['A', 'B', 'C', 'D']);
  });
});
