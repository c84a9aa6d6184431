import { CniError, CniErrorCode, toCniErrorJson } from './errors';
import { CNI_COMMANDS, type CniCommand, type CniRequest } from './types';
import {
  COMMAND_SINCE,
  LATEST_VERSION,
  SUPPORTED_VERSIONS,
  isSupportedVersion,
  versionAtLeast,
} from './version';

/**
 * The envelope every plugin command goes through (the CNI `skel` layer): environment and stdin in,
 * a parsed request or a spec-coded error out; and the dispatch that turns a handler's answer into
 * stdout and an exit code. Pure: the caller supplies env and stdin and writes the output.
 */
export type CniEnv = Readonly<Record<string, string | undefined>>;

/** ^[A-Za-z0-9][A-Za-z0-9_.-]*$ (SPEC.md "Parameters"). */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const REQUIRED_ENV: Readonly<Record<CniCommand, readonly string[]>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  VERSION: [],
  GC: [],
  STATUS: [],
};

function envError(message: string, details = ''): CniError {
  return new CniError(CniErrorCode.ENV, message, details);
}

export function parseCommand(env: CniEnv): CniCommand {
  const command = env.CNI_COMMAND ?? '';
  if (command === '') throw envError('required env variables [CNI_COMMAND] missing');
  if (!(CNI_COMMANDS as readonly string[]).includes(command)) {
    throw envError(`unknown CNI_COMMAND: ${command}`, `supported: ${CNI_COMMANDS.join(', ')}`);
  }
  return command as CniCommand;
}

/** `IgnoreUnknown=1;IP=198.18.1.9` → pairs; a pair without `=` is a code-4 error. */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === '') return out;
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw envError(`invalid CNI_ARGS pair ${JSON.stringify(pair)}`, 'expected K=V;K2=V2');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Linux interface name rules (the reference `ValidateInterfaceName`). */
export function interfaceNameReason(name: string): string | undefined {
  if (name.length > 15) return 'is longer than 15 characters';
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (/[/:\s]/.test(name)) return 'must not contain "/", ":" or whitespace';
  return undefined;
}

function checkEnv(command: CniCommand, env: CniEnv): void {
  const missing = REQUIRED_ENV[command].filter((key) => (env[key] ?? '') === '');
  if (missing.length > 0) throw envError(`required env variables [${missing.join(',')}] missing`);
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId !== '' && !CONTAINER_ID.test(containerId)) {
    throw envError(
      'invalid characters in CNI_CONTAINERID',
      `${JSON.stringify(containerId)} must match ${CONTAINER_ID.source}`,
    );
  }
  const ifname = env.CNI_IFNAME ?? '';
  const reason = ifname === '' ? undefined : interfaceNameReason(ifname);
  if (reason !== undefined)
    throw envError(`invalid CNI_IFNAME ${JSON.stringify(ifname)}`, `the name ${reason}`);
}

/** stdin → the config object; code 6 when it is not a JSON object. */
export function decodeConfig(stdin: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(stdin);
  } catch (error) {
    throw new CniError(
      CniErrorCode.DECODE,
      'failed to decode the network configuration',
      (error as Error).message,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CniError(
      CniErrorCode.DECODE,
      'failed to decode the network configuration',
      'stdin must be a JSON object',
    );
  }
  return value as Record<string, unknown>;
}

function checkVersion(command: CniCommand, config: Record<string, unknown>): string {
  const version = config.cniVersion;
  if (!isSupportedVersion(version)) {
    const given = version === undefined ? 'no cniVersion' : `cniVersion ${JSON.stringify(version)}`;
    throw new CniError(
      CniErrorCode.VERSION,
      'incompatible CNI versions',
      `config has ${given}; plugin supports ${JSON.stringify(SUPPORTED_VERSIONS)}`,
    );
  }
  const since = COMMAND_SINCE[command] ?? '0.3.0';
  if (!versionAtLeast(version, since)) {
    throw new CniError(
      CniErrorCode.VERSION,
      `config version does not allow ${command}`,
      `${command} needs cniVersion ${since} or newer, config has ${version}`,
    );
  }
  return version;
}

function checkName(config: Record<string, unknown>): void {
  const name = config.name;
  if (typeof name !== 'string' || name === '') {
    throw new CniError(CniErrorCode.CONFIG, 'missing network name', 'the configuration needs a "name"');
  }
  if (!NETWORK_NAME.test(name)) {
    throw new CniError(
      CniErrorCode.CONFIG,
      'invalid network name',
      `${JSON.stringify(name)} must match ${NETWORK_NAME.source}`,
    );
  }
}

/** Everything but VERSION: env, stdin, cniVersion and name checked, in the spec's order of codes. */
export function parseRequest(env: CniEnv, stdin: string): CniRequest {
  const command = parseCommand(env);
  checkEnv(command, env);
  const config = decodeConfig(stdin);
  const cniVersion = checkVersion(command, config);
  checkName(config);
  return {
    command,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname: env.CNI_IFNAME ?? '',
    args: parseCniArgs(env.CNI_ARGS ?? ''),
    path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
    cniVersion,
    config,
  };
}

/** VERSION's answer: the request's version when we speak it (else the latest) and the list. */
export function versionInfo(stdin: string): { cniVersion: string; supportedVersions: string[] } {
  let requested: unknown;
  try {
    requested = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
  } catch {
    requested = undefined;
  }
  const cniVersion = isSupportedVersion(requested) ? requested : LATEST_VERSION;
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}

export interface CniOutput {
  exitCode: number;
  /** What the plugin prints: a result, VERSION info, an error object, or nothing. */
  stdout: string;
}

/** A command's answer: an object to print, or undefined to print nothing (DEL, CHECK, GC, STATUS). */
export type CniHandler = (request: CniRequest) => Promise<object | undefined>;
export type CniHandlers = Readonly<Record<Exclude<CniCommand, 'VERSION'>, CniHandler>>;

function requestedVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return isSupportedVersion(v) ? v : LATEST_VERSION;
  } catch {
    return LATEST_VERSION;
  }
}

/** The skel: parse, dispatch to the command's handler, and print its result or the error object. */
export async function runCni(env: CniEnv, stdin: string, handlers: CniHandlers): Promise<CniOutput> {
  try {
    const command = parseCommand(env);
    if (command === 'VERSION') return { exitCode: 0, stdout: JSON.stringify(versionInfo(stdin)) };
    const request = parseRequest(env, stdin);
    const answer = await handlers[command](request);
    return { exitCode: 0, stdout: answer === undefined ? '' : JSON.stringify(answer) };
  } catch (error) {
    return { exitCode: 1, stdout: JSON.stringify(toCniErrorJson(error, requestedVersion(stdin))) };
  }
}
