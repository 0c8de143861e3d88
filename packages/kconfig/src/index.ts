export { SourceError } from '@nx-kbuild/diagnostics';
export { parseConfigText, readConfigFile } from './config-file';
export type { ConfigEntry, ConfigFormat, ConfigValues } from './config-file';
export { kbuildEnvironment, kernelVersion, loadKconfig, runOperation } from './conf';
export type { KconfigTree, LoadOptions, Operation, OperationInput, OperationOutput } from './conf';
export { CachedShell } from './parse/shell-cache';
export { Kconfig } from './model/kconfig';
export { explainAll, explainSymbol, formatReport } from './model/explain';
export type { Decision, SymbolReport } from './model/explain';
