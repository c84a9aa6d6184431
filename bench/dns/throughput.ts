/**
 * bench:dns — queries per second, Switchyard against dnsmasq, same names, same run.
 *
 * 1. A cluster (apps of 4 tasks, a service per app; see cluster.ts) goes into a memory store
 *    behind a real state server (gRPC on loopback). From its compiled zone we pick `--names`
 *    (2,000) names that have A or SRV records — every SRV target picked too, so both servers put
 *    the same addresses in the additional section — and write the same records as a dnsmasq
 *    hosts file and `srv-host` lines (TTL 5 on both sides).
 * 2. dnsmasq (`--no-daemon --port P --listen-address 127.0.0.1 --bind-interfaces --no-resolv
 *    --no-hosts`) and Switchyard — the real `switchyard dns` command, one process, then
 *    `--workers N` processes sharing the UDP socket, each worker following the state server —
 *    are started in turn, waited for until every worker serves the cluster's revision (its
 *    /metrics), checked with a query, driven by dnsperf with the same query file, duration, -c
 *    and -q, and stopped by PID (SIGTERM; the `dns` primary stops its workers).
 *    Each server gets: the mixed query file at full speed (the headline), the A queries alone
 *    (dnsmasq keeps `srv-host` records in a list it scans per query, so the mix matters; a last
 *    run gives dnsmasq's A rate with no SRV records at all), and
 * 3. a latency run: dnsperf 2.10 prints no percentiles, so dnsperf -v at a fixed rate
 *    (`--latency-qps`, 10,000 — below every server's capacity, the same for all) gives each
 *    query's latency; p50/p99/max come from those.
 * Pinning (`--pin 1`): servers on CPU 0, dnsperf on CPU 1 (taskset); multi-worker Switchyard is
 * then pinned to both CPUs, sharing them with dnsperf. Default: no pinning.
 * Prints one JSON object as its last line. Flags: --names --seconds --clients --outstanding
 * --workers --latency-seconds --latency-qps --pin, --keep 1 (keep the generated files).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileZone, type CompiledZone } from '../../dns';
import { createMemoryStore, startStateServer, type ObjectInput, type StoredObject } from '../../state';
import { flag, freePort, round, spawnPeer, stopPeer } from '../lib';
import { buildCluster } from './cluster';
import { QTYPE, UdpClient, pollUntil } from './udp-client';

const cfg = {
  names: flag('names', 2000),
  seconds: flag('seconds', 10),
  clients: flag('clients', 4),
  outstanding: flag('outstanding', 100),
  workers: flag('workers', 2),
  latencySeconds: flag('latency-seconds', 5),
  latencyQps: flag('latency-qps', 10000),
  pin: flag('pin', 0) === 1,
  keep: flag('keep', 0) === 1,
};

interface Picked {
  readonly queries: string[];
  readonly hosts: string[];
  readonly srvHosts: string[];
  readonly mix: { A: number; SRV: number };
  readonly probe: string;
}

function rdataOf(zone: CompiledZone, name: string, type: 'A' | 'SRV'): ReturnType<CompiledZone['records']> {
  return zone.records(name).filter((r) => r.data.type === type);
}

/** `--names` names with A or SRV records; every picked SRV name brings its targets along. */
function pickNames(zone: CompiledZone): Picked {
  const aNames: string[] = [];
  const srvNames: string[] = [];
  for (const [name, answers] of zone.state.answers.entries()) {
    if (!name.endsWith('.mesos') && !name.endsWith('.local') && !name.endsWith('.directory')) continue;
    if (answers.has(QTYPE.SRV)) srvNames.push(name);
    else if (answers.has(QTYPE.A) && !name.startsWith('ns1.')) aNames.push(name);
  }
  aNames.sort();
  srvNames.sort();
  const picked = new Map<string, 'A' | 'SRV'>();
  for (const name of srvNames) {
    const targets = rdataOf(zone, name, 'SRV').map((r) => (r.data.type === 'SRV' ? r.data.target : ''));
    const fresh = targets.filter((t) => !picked.has(t));
    // About a quarter of the queries are SRV, as in a service-discovery workload.
    if (
      picked.size + 1 + fresh.length > cfg.names ||
      [...picked.values()].filter((t) => t === 'SRV').length >= cfg.names / 4
    )
      break;
    picked.set(name, 'SRV');
    for (const t of fresh) picked.set(t, 'A');
  }
  for (const name of aNames) {
    if (picked.size >= cfg.names) break;
    if (!picked.has(name)) picked.set(name, 'A');
  }
  if (picked.size < cfg.names) throw new Error(`the zone has only ${picked.size} A/SRV names`);
  const hosts: string[] = [];
  const srvHosts: string[] = [];
  for (const [name, type] of picked) {
    for (const r of rdataOf(zone, name, 'A'))
      if (r.data.type === 'A') hosts.push(`${r.data.address} ${name}`);
    if (type === 'SRV')
      for (const r of rdataOf(zone, name, 'SRV'))
        if (r.data.type === 'SRV')
          srvHosts.push(
            `srv-host=${name},${r.data.target},${r.data.port},${r.data.priority},${r.data.weight}`,
          );
  }
  // A fixed shuffle, so consecutive queries do not walk the zone in order.
  const queries = [...picked].map(([name, type]) => `${name} ${type}`);
  let seed = 12345;
  for (let i = queries.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [queries[i], queries[j]] = [queries[j] as string, queries[i] as string];
  }
  const srv = [...picked.values()].filter((t) => t === 'SRV').length;
  const probe = [...picked].find(([, t]) => t === 'A')?.[0] as string;
  return { queries, hosts, srvHosts, mix: { A: picked.size - srv, SRV: srv }, probe };
}

function inputOf(o: StoredObject): ObjectInput {
  return {
    kind: o.kind,
    name: o.name,
    namespace: o.namespace,
    labels: { ...o.labels },
    spec: o.spec as ObjectInput['spec'],
  };
}

interface PerfResult {
  readonly qps: number;
  readonly sent: number;
  readonly completed: number;
  readonly lost: number;
  readonly avgMs: number;
  readonly maxMs: number;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(out));
  });
}

function pinned(cpu: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpu === undefined ? [cmd, args] : ['taskset', ['-c', cpu, cmd, ...args]];
}

function number(text: string, label: RegExp): number {
  const m = label.exec(text);
  return m === null ? NaN : Number(m[1]);
}

async function dnsperf(port: number, queryFile: string, extra: string[], seconds: number): Promise<string> {
  const args = [
    '-s',
    '127.0.0.1',
    '-p',
    String(port),
    '-d',
    queryFile,
    '-l',
    String(seconds),
    '-c',
    String(cfg.clients),
    '-q',
    String(cfg.outstanding),
    ...extra,
  ];
  const [cmd, argv] = pinned(cfg.pin ? '1' : undefined, 'dnsperf', args);
  return run(cmd, argv);
}

async function throughput(port: number, queryFile: string): Promise<PerfResult> {
  const out = await dnsperf(port, queryFile, [], cfg.seconds);
  return {
    qps: round(number(out, /Queries per second:\s+([\d.]+)/), 0),
    sent: number(out, /Queries sent:\s+(\d+)/),
    completed: number(out, /Queries completed:\s+(\d+)/),
    lost: number(out, /Queries lost:\s+(\d+)/),
    avgMs: round(number(out, /Average Latency \(s\):\s+([\d.]+)/) * 1000, 3),
    maxMs: round(number(out, /Average Latency \(s\):.*max ([\d.]+)/) * 1000, 3),
  };
}

async function latency(port: number, queryFile: string, rate: number): Promise<Record<string, number>> {
  const out = await dnsperf(port, queryFile, ['-v', '-Q', String(rate)], cfg.latencySeconds);
  const samples: number[] = [];
  for (const line of out.split('\n'))
    if (line.startsWith('> ')) samples.push(Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000);
  samples.sort((a, b) => a - b);
  const at = (p: number): number =>
    round(samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)] ?? NaN, 3);
  return {
    rateQps: rate,
    answered: samples.length,
    lost: number(out, /Queries lost:\s+(\d+)/),
    p50Ms: at(50),
    p99Ms: at(99),
    maxMs: at(100),
  };
}

interface Server {
  readonly label: string;
  start(port: number): Promise<ChildProcess>;
}

/** The DNS HTTP API's URL, from `switchyard dns`'s "DNS listening on …, API http://…" line. */
async function waitForApi(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`not listening within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      seen += c.toString();
      const m = /DNS listening on .*, API (http:\/\/\S+)/.exec(seen);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.once('exit', () => reject(new Error('server exited before it was ready')));
  });
}

/** Until every worker (or the one process) serves a zone at `revision` or later, per /metrics. */
async function waitForRevision(
  api: string,
  workers: number,
  revision: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await fetch(`${api}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    const serving = [...text.matchAll(/^switchyard_dns_zone_revision(?:\{[^}]*\})? (\d+)/gm)].filter(
      (m) => Number(m[1]) >= revision,
    ).length;
    if (serving >= workers) return;
    if (Date.now() > deadline) throw new Error(`${serving} of ${workers} serve revision ${revision}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-dns-'));
  const apps = Math.ceil(cfg.names / 12);
  const cluster = buildCluster({ tasks: apps * 4, services: apps, nodes: 16 });
  const store = createMemoryStore();
  for (const o of [...cluster.networks, ...cluster.nodes, ...cluster.services, ...cluster.tasks])
    await store.apply(inputOf(o));
  const listed: StoredObject[] = [];
  for (const kind of ['Network', 'Node', 'Service', 'Task'] as const)
    listed.push(...(await store.list({ kind })).items);
  const revision = Math.max(...listed.map((o) => o.revision));
  const of = (kind: string): StoredObject[] => listed.filter((o) => o.kind === kind);
  const zone = compileZone({
    tasks: of('Task'),
    services: of('Service'),
    nodes: of('Node'),
    networks: of('Network'),
  });
  const picked = pickNames(zone);
  const queryFile = join(dir, 'queries.txt');
  writeFileSync(queryFile, `${picked.queries.join('\n')}\n`);
  writeFileSync(join(dir, 'hosts'), `${picked.hosts.join('\n')}\n`);
  writeFileSync(join(dir, 'dnsmasq.conf'), `${picked.srvHosts.join('\n')}\n`);
  const state = await startStateServer({
    api: store,
    token: 'bench-token',
    grpc: { address: '127.0.0.1:0' },
  });
  const stateAddress = state.grpcAddress as string;
  const serverCpu = cfg.pin ? '0' : undefined;

  const startDnsmasq = async (port: number, conf: string): Promise<ChildProcess> => {
    const args = [
      '--no-daemon',
      '--port',
      String(port),
      '--listen-address',
      '127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${join(dir, 'hosts')}`,
      `--conf-file=${conf}`,
      '--local-ttl=5',
      '--log-facility=/dev/null',
    ];
    const [cmd, argv] = pinned(serverCpu, 'dnsmasq', args);
    return spawnPeer(cmd, argv);
  };
  writeFileSync(join(dir, 'no-srv.conf'), '');
  const servers: Server[] = [
    { label: 'dnsmasq', start: async (port) => startDnsmasq(port, join(dir, 'dnsmasq.conf')) },
    ...[1, cfg.workers]
      .filter((w, i, all) => all.indexOf(w) === i)
      .map((workers) => ({
        label: `switchyard ${workers} worker${workers > 1 ? 's' : ''}`,
        start: async (port: number) => {
          const serveArgs = [
            '-r',
            './test/helpers/ts-register.js',
            'cli/main.ts',
            '--server',
            stateAddress,
            'dns',
            '--workers',
            String(workers),
            '--listen',
            `127.0.0.1:${port}`,
            '--http',
            '127.0.0.1:0',
            '--no-recursion',
            '--log-level',
            'warn',
          ];
          const [cmd, argv] = pinned(
            workers > 1 ? (cfg.pin ? '0,1' : undefined) : serverCpu,
            process.execPath,
            serveArgs,
          );
          const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
          const api = await waitForApi(child, 60000);
          await waitForRevision(api, workers, revision, 60000);
          return child;
        },
      })),
  ];

  const aOnlyFile = join(dir, 'queries-a.txt');
  writeFileSync(aOnlyFile, `${picked.queries.filter((q) => q.endsWith(' A')).join('\n')}\n`);
  const results: Record<
    string,
    { throughput: PerfResult; aOnly: PerfResult; latency: Record<string, number> }
  > = {};
  const loadBefore = loadavg()[0] as number;
  try {
    for (const server of servers) {
      const port = await freePort();
      const child = await server.start(port);
      try {
        const client = new UdpClient(port);
        const answered = await pollUntil(
          client,
          picked.probe,
          QTYPE.A,
          (r) => r.rcode === 0 && r.answers > 0,
          10000,
        );
        client.close();
        if (!answered) throw new Error(`${server.label} does not answer ${picked.probe}`);
        // The mixed run also warms the server up (JIT) before the latency run.
        const mixed = await throughput(port, queryFile);
        const aOnly = await throughput(port, aOnlyFile);
        const lat = await latency(port, queryFile, cfg.latencyQps);
        results[server.label] = { throughput: mixed, aOnly, latency: lat };
        console.log(`${server.label}: mixed ${JSON.stringify(mixed)}`);
        console.log(`${server.label}: A only ${JSON.stringify(aOnly)}`);
        console.log(`${server.label}: at ${cfg.latencyQps} qps ${JSON.stringify(lat)}`);
      } finally {
        await stopPeer(child);
      }
    }
    // dnsmasq keeps srv-host records in a list it walks for every query: its A rate with the
    // same hosts but no SRV records shows what the SRV names cost it.
    const port = await freePort();
    const bare = await startDnsmasq(port, join(dir, 'no-srv.conf'));
    try {
      const client = new UdpClient(port);
      await pollUntil(client, picked.probe, QTYPE.A, (r) => r.rcode === 0 && r.answers > 0, 10000);
      client.close();
      const aOnly = await throughput(port, aOnlyFile);
      (results.dnsmasq as Record<string, unknown>).aOnlyWithoutSrvRecords = aOnly;
      console.log(`dnsmasq without srv-host records: A only ${JSON.stringify(aOnly)}`);
    } finally {
      await stopPeer(bare);
    }
  } finally {
    await state.close();
    if (cfg.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  const peer = results.dnsmasq;
  const ratios = Object.fromEntries(
    Object.entries(results)
      .filter(([label]) => label !== 'dnsmasq')
      .map(([label, r]) => [
        label,
        {
          mixed: round(r.throughput.qps / (peer?.throughput.qps ?? NaN), 2),
          aOnly: round(r.aOnly.qps / (peer?.aOnly.qps ?? NaN), 2),
        },
      ]),
  );
  const summary = {
    benchmark: 'dns-throughput',
    command:
      `node -r ./test/helpers/ts-register.js bench/dns/throughput.ts ${process.argv.slice(2).join(' ')}`.trim(),
    dnsperf: `dnsperf -s 127.0.0.1 -p PORT -d queries.txt -l ${cfg.seconds} -c ${cfg.clients} -q ${cfg.outstanding}`,
    names: picked.queries.length,
    queryMix: picked.mix,
    pinning: cfg.pin ? 'servers on CPU 0 (multi-worker: 0,1), dnsperf on CPU 1' : 'none',
    results,
    ratioToDnsmasq: ratios,
    loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0] as number, 2) },
  };
  console.log(JSON.stringify(summary));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
