import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { removeAbandonedTemps, writeKeptFileAtomic } from '@nx-kbuild/diagnostics';

/**
 * A kept file of many records (the evaluation memo, the kept symbol scan) that is large to write:
 * written whole with an id of its own, and, while few records differ from it, only those are
 * written next to it (`<file>.changes`, naming the whole file's id as their base). A reader takes
 * the changes only on top of the whole file they were made for; a whole write removes them.
 */
export interface Layer {
  /** A whole file's own id. */
  id?: string;
  /** Changes: the id of the whole file they apply to. */
  base?: string;
}

export const changesFile = (file: string): string => `${file}.changes`;

/** The whole file (`read` answers undefined for none, or one not for these inputs) and its changes, if they are for it. */
export function readLayers<T extends Layer>(file: string, read: (path: string) => T | undefined): { whole?: T; changes?: T } {
  const whole = read(file);
  if (!whole?.id) return { whole };
  const changes = read(changesFile(file));
  return { whole, changes: changes?.base === whole.id ? changes : undefined };
}

/** Whether `changed` of `total` records are few enough to be written as changes. */
export const fewChanges = (changed: number, total: number): boolean => changed <= total / 20;

/** How a layer's bytes are written (atomically): at once, or on libuv's threads (a promise). */
export type Write = (path: string, content: Uint8Array) => void | Promise<void>;

/** Writes the changes since the whole file whose id is `base`. */
export function writeChanges(file: string, base: string, content: (layer: { base: string }) => Uint8Array, write: Write = writeKeptFileAtomic): void | Promise<void> {
  // The whole file is not written this time: what a killed whole write left goes now.
  removeAbandonedTemps(file);
  return write(changesFile(file), content({ base }));
}

/**
 * Writes the file whole under a new id, then removes the changes to the old one (changes left by
 * a run that stopped in between name an id no whole file has: they are never read).
 */
export function writeWhole(file: string, content: (layer: { id: string }) => Uint8Array, write: Write = writeKeptFileAtomic): void | Promise<void> {
  const done = write(file, content({ id: randomUUID() }));
  const forgetChanges = () => rmSync(changesFile(file), { force: true });
  return done instanceof Promise ? done.then(forgetChanges) : forgetChanges();
}
