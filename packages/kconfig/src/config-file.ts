import { readFileSync } from 'node:fs';
import { SourceError } from '@nx-kbuild/diagnostics';

/** One symbol assignment as it appears in a .config / auto.conf style file. */
export interface ConfigEntry {
  /** Full name, with the CONFIG_ prefix. */
  name: string;
  /** Raw value text: y, m, a number, or a double-quoted string (quotes kept, as make sees it). */
  value: string;
  line: number;
}

export interface ConfigValues {
  file: string;
  entries: ConfigEntry[];
  /** name -> raw value; symbols set to n ("# CONFIG_X is not set") are absent, as in auto.conf. */
  values: Map<string, string>;
}

const ASSIGN = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;
const VALUE = /^(y|m|n|-?[0-9]+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/;

/**
 * Reads a config file in the kernel's .config syntax (or auto.conf's, whose strings are unquoted) (the format conf writes and kbuild includes):
 * `CONFIG_X=y|m|<number>|"string"`, `# CONFIG_X is not set`, comments and blank lines.
 * Any other line is an error with its file:line: a config line is never dropped silently.
 */
export type ConfigFormat = 'config' | 'auto.conf';

export function parseConfigText(file: string, text: string, format: ConfigFormat = 'config'): ConfigValues {
  const entries: ConfigEntry[] = [];
  const values = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === '') continue;
    const unset = NOT_SET.exec(line);
    if (unset) {
      values.delete(unset[1]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = ASSIGN.exec(line);
    if (!m) throw new SourceError(file, lineNo, `not a config assignment: '${raw}' (expected CONFIG_NAME=value)`);
    const value = m[2];
    // auto.conf is written for make: strings are stored unquoted, so any text is a value there.
    if (format === 'config' && !VALUE.test(value)) {
      throw new SourceError(file, lineNo, `invalid value for ${m[1]}: '${value}' (expected y, m, n, a number or a "string")`);
    }
    entries.push({ name: m[1], value, line: lineNo });
    if (value === 'n') values.delete(m[1]);
    else values.set(m[1], value);
  }
  return { file, entries, values };
}

export function readConfigFile(file: string, format: ConfigFormat = 'config'): ConfigValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SourceError(file, 0, `cannot read config file: ${(e as Error).message}`);
  }
  return parseConfigText(file, text, format);
}
