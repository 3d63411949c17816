import { describe, expect, it } from 'vitest';
import { interpolate, interpolateTree, type VarRef } from './compose-interpolation.js';

describe('Compose interpolation', () => {
  const env = { SET: 'v', EMPTY: '' };

  it('substitutes $NAME and ${NAME}, unset as empty, $$ as a literal $', () => {
    expect(interpolate('a $SET b ${SET} c ${NOPE}d $$SET', env)).toBe('a v b v c d $SET');
  });

  it('applies the default, alternative and required operators as Compose does', () => {
    expect(interpolate('${EMPTY:-d}|${EMPTY-d}|${NOPE-d}', env)).toBe('d||d');
    expect(interpolate('${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${NOPE+alt}', env)).toBe('alt||alt|');
    expect(interpolate('${EMPTY?e}', env)).toBe('');
    expect(() => interpolate('${EMPTY:?needed}', env)).toThrow('required variable EMPTY: needed');
    expect(() => interpolate('${NOPE?needed}', env)).toThrow('required variable NOPE');
  });

  it('refuses nested, unterminated and malformed expressions', () => {
    expect(() => interpolate('${A:-${B}}', env)).toThrow('nested');
    expect(() => interpolate('${A', env)).toThrow('unterminated');
    expect(() => interpolate('${1A}', env)).toThrow('invalid');
  });

  it('interpolates values (not keys) throughout a tree, recording every reference', () => {
    const refs: VarRef[] = [];
    const out = interpolateTree({ $SET: ['${SET:-x}', 3, null, { k: '$NOPE' }] }, env, refs);
    expect(out).toEqual({ $SET: ['v', 3, null, { k: '' }] });
    expect(refs).toEqual([
      { name: 'SET', op: ':-', arg: 'x' },
      { name: 'NOPE', op: '', arg: '' },
    ]);
  });
});
