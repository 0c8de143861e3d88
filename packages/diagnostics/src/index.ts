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
