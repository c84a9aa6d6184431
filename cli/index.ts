// The cli room's door: the `switchyard` program (for tests and embedding) and the all-in-one node.
export { buildProgram, parseKind } from './program';
export { startNode, runUp, type UpOptions, type RunningNode } from './commands/up';
export { CliError, CliErrorCode, parseManifests } from './manifest';
export { formatError } from './errors';
export type { CliIo } from './io';
