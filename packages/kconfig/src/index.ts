export { SourceError } from '@nx-kbuild/diagnostics';
export { parseConfigText, readConfigFile } from './config-file';
export type { ConfigEntry, ConfigFormat, ConfigValues } from './config-file';
