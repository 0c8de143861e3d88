import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changesFile, fewChanges, readLayers, writeChanges, writeWhole, type Layer } from './layered-file';

type Doc = Layer & { records: string[] };
const encode = (d: Doc) => new TextEncoder().encode(JSON.stringify(d));
const read = (path: string): Doc | undefined => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Doc) : undefined);

describe('layered file', () => {
  it('reads changes only on top of the whole file they were written for; a whole write removes them', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'layered-')), 'kept');
    expect(readLayers(file, read)).toEqual({ whole: undefined });
    writeWhole(file, (layer) => encode({ ...layer, records: ['a', 'b'] }));
    const first = readLayers(file, read).whole!;
    expect(first.records).toEqual(['a', 'b']);
    writeChanges(file, first.id!, (layer) => encode({ ...layer, records: ['b2'] }));
    expect(readLayers(file, read).changes?.records).toEqual(['b2']);
    // A new whole file: the changes are gone, and changes made for an older one would not apply.
    writeWhole(file, (layer) => encode({ ...layer, records: ['c'] }));
    expect(existsSync(changesFile(file))).toBe(false);
    writeChanges(file, first.id!, (layer) => encode({ ...layer, records: ['stale'] }));
    expect(readLayers(file, read)).toEqual({ whole: expect.objectContaining({ records: ['c'] }), changes: undefined });
  });

  it('writes changes while they are at most a twentieth of the records', () => {
    expect(fewChanges(5, 100)).toBe(true);
    expect(fewChanges(6, 100)).toBe(false);
  });
});
