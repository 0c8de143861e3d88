import { describe, expect, it } from 'vitest';
import { parseConfigText } from './config-file';

describe('parseConfigText', () => {
  it('reads assignments, unset symbols and comments', () => {
    const c = parseConfigText('config', '# top\nCONFIG_A=m\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_S="x y"\nCONFIG_N=0x10\n');
    expect([...c.values]).toEqual([
      ['CONFIG_A', 'm'],
      ['CONFIG_B', 'y'],
      ['CONFIG_S', '"x y"'],
      ['CONFIG_N', '0x10'],
    ]);
  });
  it('rejects bad lines with file:line, never dropping them', () => {
    expect(() => parseConfigText('config', 'CONFIG_A=m\nCONFIG_B=maybe\n')).toThrow(/^config:2: invalid value for CONFIG_B: 'maybe'/);
    expect(() => parseConfigText('config', 'FOO=y\n')).toThrow(/^config:1: not a config assignment/);
  });
  it('accepts auto.conf strings, which are unquoted', () => {
    expect(parseConfigText('auto.conf', 'CONFIG_DEV=binder\n', 'auto.conf').values.get('CONFIG_DEV')).toBe('binder');
  });
});
