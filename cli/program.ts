import { Command, Option } from 'commander';
import { isSwitchyardError } from '../lib';
import { createMemoryStore, kindFromName, StateErrorCode, type Kind, type StateApi } from '../state';
import { runAgent } from './commands/agent';
import { runApply } from './commands/apply';
import { runDelete } from './commands/delete';
import { runDns, type DnsCommandOptions } from './commands/dns';
import { parseWorkers } from './commands/dns-primary';
import { parseHttpsFlags, parseLbFlags, runLb, type LbFlags } from './commands/lb';
import { runDescribe } from './commands/describe';
import { parseOutput, runGet } from './commands/get';
import { runUp } from './commands/up';
import { runWatch } from './commands/watch';
import { connect, defaultDataDir } from './connect';
import { DEFAULTS, env } from './defaults';
import type { CliIo } from './io';
import { CliError, CliErrorCode } from './manifest';

type Connector = (o: { server?: string; token?: string; data?: string }) => StateApi & { close(): void };

/**
 * The `switchyard` command. Each action sets `exitCode`; main() prints errors as one line.
 * Tests build it with their own io and connector.
 */
export function buildProgram(
  io: CliIo,
  result: { exitCode: number },
  connector: Connector = connect,
): Command {
  const program = new Command('switchyard')
    .description('Service-mesh networking, DNS and load balancing for container clusters')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError()
    .option(
      '-s, --server <host:port>',
      `state API gRPC address (env SWITCHYARD_SERVER, default ${DEFAULTS.server})`,
    )
    .option(
      '--token <token>',
      'bearer token for writes (env SWITCHYARD_TOKEN, default: read from the data dir)',
    )
    .option(
      '--data <dir>',
      `data dir of the local node (env SWITCHYARD_DATA, default ./${DEFAULTS.dataDir})`,
    );

  const withApi = async (run: (api: StateApi) => Promise<number>): Promise<void> => {
    const opts = program.opts<{ server?: string; token?: string; data?: string }>();
    const api = connector(opts);
    try {
      result.exitCode = await run(api);
    } catch (err) {
      if (!isSwitchyardError(err, StateErrorCode.UNAVAILABLE)) throw err;
      const where = opts.server ?? env('SWITCHYARD_SERVER') ?? DEFAULTS.server;
      throw new CliError(
        CliErrorCode.UNREACHABLE,
        `cannot reach the state API at ${where} (is \`switchyard up\` running?): ${err.message}`,
      );
    } finally {
      api.close();
    }
  };

  registerUp(program, io, result);
  registerObjectCommands(program, io, withApi);
  registerWatch(program, io, withApi);
  registerDns(program, io, withApi, result);
  registerLb(program, withApi, io);
  program
    .command('agent')
    .description('run the per-host agent: node subnet lease, routes, and the CNI service')
    .requiredOption('-c, --config <file>', 'agent config (YAML or JSON; see agent/README.md)')
    .action(async (o: { config: string }) => {
      result.exitCode = await runAgent(o.config, io);
    });
  return program;
}

interface UpFlags {
  http: string;
  grpc: string;
  /** false with --no-dns. */
  dns: string | false;
  dnsHttp: string;
  /** false with --no-lb. */
  lb: boolean;
  lbListen: string;
  lbAdmin: string;
  ingressPort: number;
  httpsPort?: number;
  certs?: string;
  example?: string[];
  demo?: boolean;
  logLevel: string;
}

type WithApi = (run: (api: StateApi) => Promise<number>) => Promise<void>;

/** The HTTPS ingress flags `up` and `lb` share. */
function httpsPortOption(): Option {
  return new Option(
    '--https-port <port>',
    'port of the HTTPS ingress frontend (the ingress rules over TLS; needs --certs; default none)',
  ).argParser((v) => parsePort(v, '--https-port'));
}

function certsOption(): Option {
  return new Option(
    '--certs <dir>',
    'PEM certificates for --https-port, chosen by SNI (*.pem, or name.crt + name.key)',
  );
}

function registerUp(program: Command, io: CliIo, result: { exitCode: number }): void {
  program
    .command('up')
    .description('run the all-in-one node: embedded store, state API, DNS and proxy')
    .option('--http <host:port>', 'REST listen address', DEFAULTS.httpListen)
    .option('--grpc <host:port>', 'gRPC listen address', DEFAULTS.grpcListen)
    .option('--dns <host:port>', 'DNS listen address (UDP and TCP)', DEFAULTS.dnsListen)
    .option(
      '--dns-http <host:port>',
      'DNS HTTP API (Mesos-DNS /v1/...) listen address',
      DEFAULTS.dnsHttpListen,
    )
    .option('--no-dns', 'do not run the DNS server')
    .option('--lb-listen <host>', 'address the proxy frontends bind', DEFAULTS.lbListenHost)
    .option('--lb-admin <host:port>', 'proxy stats page, JSON, /metrics and admin API', DEFAULTS.lbAdmin)
    .option(
      '--ingress-port <port>',
      'port of the HTTP ingress (host/path rules) frontend',
      (v) => parsePort(v, '--ingress-port'),
      DEFAULTS.ingressPort,
    )
    .addOption(httpsPortOption())
    .addOption(certsOption())
    .option('--no-lb', 'do not run the proxy')
    .option('--example <file...>', 'manifests to apply at start (idempotent)')
    .option('--demo', 'serve a tiny HTTP backend for each example task that runs on this machine')
    .option('--log-level <level>', 'trace, debug, info, warn, error (env SWITCHYARD_LOG_LEVEL, default info)')
    .action(async (o: UpFlags) => {
      const g = program.opts<{ token?: string; data?: string }>();
      const https = parseHttpsFlags(o.httpsPort, o.certs);
      result.exitCode = await runUp(
        {
          dataDir: g.data ?? defaultDataDir(),
          http: o.http,
          grpc: o.grpc,
          ...(o.dns === false ? {} : { dns: o.dns, dnsHttp: o.dnsHttp }),
          ...(o.lb === false
            ? {}
            : {
                lb: {
                  listenHost: o.lbListen,
                  admin: o.lbAdmin,
                  ingressPort: o.ingressPort,
                  ...(https.httpsPort === null
                    ? {}
                    : { httpsPort: https.httpsPort, certificates: https.certificates }),
                },
              }),
          examples: o.example ?? [],
          demo: o.demo === true,
          logLevel: o.logLevel,
          ...(g.token === undefined ? {} : { token: g.token }),
        },
        io,
      );
    });
}

function registerObjectCommands(program: Command, io: CliIo, withApi: WithApi): void {
  program
    .command('apply')
    .description('create or update objects from YAML or JSON files (several documents each; - for stdin)')
    .requiredOption('-f, --filename <file...>', 'files to apply')
    .action((o: { filename: string[] }) => withApi((api) => runApply(api, { files: o.filename }, io)));

  program
    .command('get')
    .description('show objects of a kind (networks, nodes, tasks, services, policies, vips)')
    .argument('<kind>')
    .argument('[name]')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
    .option('-n, --namespace <ns>', 'namespace (namespaced kinds; default "default")')
    .option('-A, --all-namespaces', 'every namespace')
    .addOption(
      new Option('-o, --output <format>', 'table, json or yaml').default('table').argParser(parseOutput),
    )
    .action((kind: string, name: string | undefined, o: GetFlags) =>
      withApi((api) =>
        runGet(api, { kind: parseKind(kind), ...optional({ name }), ...flags(o), output: o.output }, io),
      ),
    );

  program
    .command('describe')
    .description('show one object in detail, with related objects')
    .argument('<kind>')
    .argument('<name>')
    .option('-n, --namespace <ns>', 'namespace')
    .action((kind: string, name: string, o: { namespace?: string }) =>
      withApi((api) =>
        runDescribe(api, { kind: parseKind(kind), name, ...optional({ namespace: o.namespace }) }, io),
      ),
    );

  program
    .command('delete')
    .description('delete objects by name')
    .argument('<kind>')
    .argument('<name...>')
    .option('-n, --namespace <ns>', 'namespace')
    .action((kind: string, names: string[], o: { namespace?: string }) =>
      withApi((api) =>
        runDelete(api, { kind: parseKind(kind), names, ...optional({ namespace: o.namespace }) }, io),
      ),
    );
}

function registerWatch(program: Command, io: CliIo, withApi: WithApi): void {
  program
    .command('watch')
    .description('show objects of a kind, then every change as it happens (Ctrl-C to stop)')
    .argument('<kind>')
    .option('-l, --selector <selector>', 'label selector')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-A, --all-namespaces', 'every namespace')
    .option('--from <revision>', 'only changes after this revision', (v) => parseRevision(v))
    .addOption(
      new Option('-o, --output <format>', 'table or json').choices(['table', 'json']).default('table'),
    )
    .action((kind: string, o: GetFlags & { from?: number }) =>
      withApi(async (api) => {
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        try {
          const output = o.output === 'json' ? 'json' : 'table';
          return await runWatch(
            api,
            {
              kind: parseKind(kind),
              ...flags(o),
              ...optional({ from: o.from }),
              output,
              signal: stop.signal,
            },
            io,
          );
        } finally {
          process.removeListener('SIGINT', onSignal);
        }
      }),
    );
}

interface GetFlags {
  selector?: string;
  namespace?: string;
  allNamespaces?: boolean;
  output: 'table' | 'json' | 'yaml';
}

function flags(o: GetFlags): { selector?: string; namespace?: string; allNamespaces?: boolean } {
  return optional({ selector: o.selector, namespace: o.namespace, allNamespaces: o.allNamespaces });
}

/** Drop undefined values (exactOptionalPropertyTypes-friendly spreading). */
function optional<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

export function parseKind(text: string): Kind {
  const kind = kindFromName(text);
  if (kind === undefined) {
    throw new CliError(
      CliErrorCode.USAGE,
      `unknown kind "${text}": expected networks, nodes, tasks, services, policies or vips`,
      'kind',
    );
  }
  return kind;
}

function parseRevision(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CliError(CliErrorCode.USAGE, `--from: expected a revision, got "${v}"`, 'from');
  return n;
}

function registerDns(program: Command, io: CliIo, withApi: WithApi, result: { exitCode: number }): void {
  program
    .command('dns')
    .description('run the DNS server alone, following the state API at --server (or a Mesos cluster)')
    .option('--listen <host:port>', 'DNS listen address, UDP and TCP (default 127.0.0.1:8053)')
    .option('--http <host:port>', 'Mesos-DNS HTTP API listen address (default 127.0.0.1:8123)')
    .option('--no-http', 'no HTTP API')
    .option(
      '--upstream <ip[:port]...>',
      'resolvers for names outside the zones (default: the Network, then /etc/resolv.conf)',
    )
    .option('--no-recursion', 'answer REFUSED for names outside the zones')
    .option(
      '--mesos-dns-config <file>',
      'a Mesos-DNS config.json, as is: follow its masters and serve with its settings; without --server the state is kept in memory',
    )
    .option(
      '--workers <n|auto>',
      'processes serving the same sockets (auto: one per CPU); a primary forks and restarts them (default 1)',
      (v) => parseWorkers(v),
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error (env SWITCHYARD_LOG_LEVEL, default info)')
    .action((o: DnsFlags, command: Command) => {
      const explicit = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
      const options: DnsCommandOptions = {
        logLevel: o.logLevel,
        workers: o.workers ?? 1,
        ...(explicit('listen') ? { listen: o.listen } : {}),
        ...(explicit('http') ? { http: o.http } : {}),
        ...(explicit('recursion') ? { recursion: o.recursion } : {}),
        ...optional({ upstreams: o.upstream, mesosDnsConfig: o.mesosDnsConfig }),
      };
      const g = program.opts<{ server?: string }>();
      const remote = g.server !== undefined || env('SWITCHYARD_SERVER') !== undefined;
      if (o.mesosDnsConfig !== undefined && !remote) {
        // A drop-in Mesos-DNS: no state API to talk to, so the state lives in this process.
        // With --workers, the primary serves this state to the workers over a private socket.
        return runDns(createMemoryStore(), { ...options, localState: true }, io).then(
          (code) => void (result.exitCode = code),
        );
      }
      return withApi((api) => runDns(api, options, io));
    });
}

interface DnsFlags {
  listen?: string;
  http?: string | false;
  upstream?: string[];
  recursion: boolean;
  mesosDnsConfig?: string;
  workers?: number;
  logLevel: string;
}

function registerLb(program: Command, withApi: WithApi, io: CliIo): void {
  program
    .command('lb')
    .description('run the load balancer alone, following the state API at --server')
    .option('--listen-host <addr>', `address the frontends bind (default ${DEFAULTS.lbListenHost})`)
    .option(
      '--ingress-port <port>',
      `port of the HTTP ingress (host/path rules) frontend (default ${DEFAULTS.ingressPort})`,
      (v) => parsePort(v, '--ingress-port'),
    )
    .option('--no-ingress', 'no ingress frontend')
    .option('--admin <host:port>', `stats page, JSON, /metrics and admin API (default ${DEFAULTS.lbAdmin})`)
    .option('--no-admin', 'no admin endpoint')
    .option('--no-vips', 'do not serve VIP objects on their addresses (an edge proxy)')
    .addOption(httpsPortOption())
    .addOption(certsOption())
    .option('--no-access-log', 'no log line per request and TCP session')
    .option('--log-level <level>', 'trace, debug, info, warn, error (env SWITCHYARD_LOG_LEVEL, default info)')
    .action((o: LbFlags) => {
      // Checked before connecting: a bad flag fails at once, naming the flag.
      const options = parseLbFlags(o);
      return withApi((api) => runLb(api, options, io));
    });
}

function parsePort(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new CliError(CliErrorCode.USAGE, `${flag}: expected a port, got "${v}"`, flag);
  }
  return n;
}
