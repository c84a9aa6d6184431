// The cli room's door: the `switchyard` program (for tests and embedding) and the all-in-one node.
export { buildProgram, parseKind } from './program';
export { runUp, startUp, type UpOptions } from './commands/up';
export { startNode, type NodeOptions, type RunningNode } from './node';
export { CliError, CliErrorCode, parseManifests } from './manifest';
export { formatError } from './errors';
export type { CliIo } from './io';
