import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { createLogger, createRegistry } from '../../lib';
import { startLoadBalancer, type LoadBalancer } from '../../lb';
import { createInformer, type StateApi } from '../../state';
import { DEFAULTS, parseHostPort } from '../defaults';
import type { CliIo } from '../io';
import { CliError, CliErrorCode } from '../manifest';

/** What commander hands over for `switchyard lb`; checked by parseLbFlags before anything starts. */
export interface LbFlags {
  listenHost?: string;
  /** Already a port (program.ts parses it); undefined: the default. */
  ingressPort?: number;
  /** false with --no-ingress. */
  ingress: boolean;
  /** false with --no-admin; undefined: the default. */
  admin?: string | false;
  /** false with --no-vips. */
  vips: boolean;
  /** false with --no-access-log. */
  accessLog: boolean;
  /** The HTTPS ingress frontend's port (program.ts parses it); undefined: none. */
  httpsPort?: number;
  /** The certificate directory for --https-port. */
  certs?: string;
  logLevel?: string;
}

export interface LbCommandOptions {
  listenHost: string;
  /** null: no ingress frontend. */
  ingressPort: number | null;
  admin: { host: string; port: number } | false;
  serveVips: boolean;
  accessLog: boolean;
  /** null: no HTTPS ingress frontend. */
  httpsPort: number | null;
  /** An absolute directory path, with httpsPort. */
  certificates?: string;
  /** undefined: SWITCHYARD_LOG_LEVEL, else info. */
  logLevel?: string;
}

/** Flags → options, with the same defaults as the proxy in `switchyard up`; throws SY_CLI_USAGE. */
export function parseLbFlags(flags: LbFlags): LbCommandOptions {
  const listenHost = flags.listenHost ?? DEFAULTS.lbListenHost;
  if (isIP(listenHost) === 0) {
    throw usage('--listen-host', `expected an IP address (e.g. 127.0.0.1 or 0.0.0.0), got "${listenHost}"`);
  }
  if (!flags.ingress && flags.ingressPort !== undefined) {
    throw usage('--ingress-port', 'contradicts --no-ingress; give one of them');
  }
  const options: LbCommandOptions = {
    listenHost,
    ingressPort: flags.ingress ? (flags.ingressPort ?? DEFAULTS.ingressPort) : null,
    admin: flags.admin === false ? false : adminAddress(flags.admin ?? DEFAULTS.lbAdmin),
    serveVips: flags.vips,
    accessLog: flags.accessLog,
    ...parseHttpsFlags(flags.httpsPort, flags.certs),
  };
  if (flags.logLevel !== undefined) options.logLevel = flags.logLevel;
  return options;
}

/**
 * `--https-port` and `--certs` (for `lb` and `up`): both or neither, and the directory must exist
 * (its certificates are loaded when the frontend binds, and reloaded as it changes).
 */
export function parseHttpsFlags(
  httpsPort: number | undefined,
  certs: string | undefined,
): { httpsPort: number | null; certificates?: string } {
  if (httpsPort === undefined && certs === undefined) return { httpsPort: null };
  if (httpsPort === undefined) throw usage('--certs', 'needs --https-port (the HTTPS ingress frontend)');
  if (certs === undefined) throw usage('--https-port', 'needs --certs <dir> (the PEM certificates to serve)');
  const dir = resolve(certs);
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw usage('--certs', `"${certs}" is not a directory`);
  return { httpsPort, certificates: dir };
}

function adminAddress(text: string): { host: string; port: number } {
  try {
    return parseHostPort(text, '--admin');
  } catch (err) {
    throw new CliError(CliErrorCode.USAGE, (err as Error).message, '--admin');
  }
}

function usage(flag: string, reason: string): CliError {
  return new CliError(CliErrorCode.USAGE, `${flag}: ${reason}`, flag);
}

/**
 * `switchyard lb`: the load balancer on its own, following the state API — an extra proxy
 * instance, or (with --no-vips) an edge proxy. Service ports are bound as they are: unlike
 * `switchyard up`, no +10000 for ports below 1024, so those need root or CAP_NET_BIND_SERVICE.
 * Runs until Ctrl-C or SIGTERM, then lets open requests finish for the drain grace time.
 */
export async function runLb(api: StateApi, o: LbCommandOptions, io: CliIo): Promise<number> {
  const logger = createLogger(o.logLevel === undefined ? {} : { level: o.logLevel });
  const registry = createRegistry({ processMetrics: true });
  const stop = new AbortController();
  // Handlers go in before anything starts: a signal while the state API is still out of reach
  // stops the informer, which ends the start-up instead of leaving the process deaf to signals.
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: string): void => {
      stop.abort();
      resolve(signal);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    stop.signal.addEventListener('abort', () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    });
  });
  let lb: LoadBalancer;
  try {
    lb = await startLoadBalancer({
      informer: createInformer({ api, logger, signal: stop.signal }),
      listenHost: o.listenHost,
      ingressPort: o.ingressPort,
      admin: o.admin,
      serveVips: o.serveVips,
      accessLog: o.accessLog,
      httpsPort: o.httpsPort,
      certificates: o.certificates,
      logger,
      registry,
    });
  } catch (err) {
    if (stop.signal.aborted) return 0; // stopped on purpose before it was ready
    stop.abort();
    throw err;
  }
  io.stdout.write(`${listeningLine(lb)}\n`);
  const signal = await stopped;
  io.stdout.write(`Received ${signal}, draining…\n`);
  process.once('SIGINT', () => process.exit(130)); // a second Ctrl-C does not wait for the drain
  await lb.close(); // open requests get the drain grace time (timeouts.drainGraceMs)
  io.stdout.write('Stopped.\n');
  return 0;
}

/** One line for a person: the frontends bound at start (more bind as services appear) and the admin URL. */
function listeningLine(lb: LoadBalancer): string {
  const frontends = lb.frontends
    .map((f) => `${f.tls ? 'https' : f.mode} ${hostText(f.host)}:${f.port}`)
    .join(', ');
  const admin =
    lb.adminAddress === undefined
      ? 'no admin endpoint'
      : `admin http://${hostText(lb.adminAddress.host)}:${lb.adminAddress.port}`;
  return `Load balancer listening: frontends ${frontends === '' ? 'none yet' : frontends}; ${admin}`;
}

function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
