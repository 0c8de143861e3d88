/** A user-facing error tied to a place in an input file. Printed as `file:line: message`. */
export class SourceError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'SourceError';
  }
}

/**
 * Runs a command-line entry point: user mistakes (a SourceError, a file that cannot be read or
 * written) print one clear line and exit 1; anything else is a bug and keeps its stack trace.
 */
export function runCli(name: string, main: () => number | Promise<number>): void {
  const fail = (e: unknown): void => {
    if (e instanceof SourceError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 1;
    } else if (e instanceof Error && 'code' in e && 'path' in e) {
      process.stderr.write(`${name}: ${e.message}\n`);
      process.exitCode = 1;
    } else throw e;
  };
  try {
    const r = main();
    if (typeof r === 'number') process.exitCode = r;
    else
      r.then(
        (code) => (process.exitCode = code),
        (e: unknown) => {
          try {
            fail(e);
          } catch (bug) {
            process.exitCode = 70;
            process.stderr.write(`${(bug as Error).stack ?? String(bug)}\n`);
          }
        },
      );
  } catch (e) {
    fail(e);
  }
}
export { jsonArrayChunks, removeAbandonedTemps, writeChunksAtomic, writeFileAtomic, writeFileAtomicAsync, writeKeptFileAtomic } from './atomic-write';
export { codeDigest } from './code-digest';
