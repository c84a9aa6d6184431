import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, freePort, round } from '../lib';
import {
  measure,
  median,
  startPinned,
  stopProc,
  TS_NODE,
  waitServing,
  type Measured,
  type Proc,
} from './procs';

/**
 * Switchyard's load balancer against HAProxy (Debian's haproxy, `nbthread 1`) in the same run,
 * with the same backends (one node:http process, 1 KiB and 64 KiB bodies) and the same CPU budget:
 * each proxy alone on CPU 1, wrk and the backends on CPU 0 (taskset). Scenarios, all wrk with
 * keep-alive client connections (`-t1 -c<connections> --latency`, a warm-up run first, then
 * `runs` measured runs; medians reported):
 *
 *   http      L7: HTTP frontend, round-robin, keep-alive pools to the backends, 1 KiB responses
 *   tcp       L4: TCP frontend (one backend connection per client connection), 1 KiB responses
 *   tcp-bulk  L4: the same frontend, 64 KiB responses (bytes/s)
 *
 * The proxies alternate run by run so drift hits both. A direct run against one backend (no
 * proxy) shows the ceiling the backends set. Targets: http req/s ≥ 0.6× HAProxy, tcp and
 * tcp-bulk throughput ≥ 0.9×, p99 ≤ 2× in every scenario. The last line is one JSON object.
 *
 *   npm run bench:lb [-- --runs 3 --duration 10 --warmup 3 --connections 50 --backends 4 --cpu-prof]
 */
const RUNS = flag('runs', 3);
const DURATION = flag('duration', 10);
const WARMUP = flag('warmup', 3);
const CONNECTIONS = flag('connections', 50);
const BACKENDS = flag('backends', 4);
const CPU_PROF = process.argv.includes('--cpu-prof');
const PROXY_CPU = 1;
const LOAD_CPU = 0;
const WRK = {
  cpu: LOAD_CPU,
  connections: CONNECTIONS,
  warmupS: WARMUP,
  durationS: DURATION,
  proxyCpu: PROXY_CPU,
};

type Target = 'switchyard' | 'haproxy';
type Scenario = 'http' | 'tcp' | 'tcp-bulk';
const SCENARIOS: readonly { name: Scenario; port: 'http' | 'tcp'; path: string }[] = [
  { name: 'http', port: 'http', path: '/' },
  { name: 'tcp', port: 'tcp', path: '/' },
  { name: 'tcp-bulk', port: 'tcp', path: '/big' },
];
const TARGETS = { http: 0.6, tcp: 0.9, 'tcp-bulk': 0.9, p99: 2 } as const;

interface Ports {
  readonly backends: number[];
  readonly switchyard: { http: number; tcp: number };
  readonly haproxy: { http: number; tcp: number };
}

function haproxyConfig(ports: Ports): string {
  const servers = ports.backends.map((p, i) => `  server b${i} 127.0.0.1:${p} check inter 2s rise 2 fall 3`);
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    'defaults',
    '  timeout connect 3s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 5s',
    '  timeout http-request 15s',
    'frontend fe_http',
    '  mode http',
    '  option forwardfor',
    `  bind 127.0.0.1:${ports.haproxy.http}`,
    '  default_backend be_http',
    'backend be_http',
    '  mode http',
    '  balance roundrobin',
    '  http-reuse always',
    ...servers,
    'frontend fe_tcp',
    '  mode tcp',
    `  bind 127.0.0.1:${ports.haproxy.tcp}`,
    '  default_backend be_tcp',
    'backend be_tcp',
    '  mode tcp',
    '  balance roundrobin',
    ...servers,
    '',
  ].join('\n');
}

interface Summary {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  mbPerSec: number;
  proxyCpu: number;
  cpuUsPerRequest: number;
  cpuBusy: number;
  errors: number;
  runs: number[];
}

function summarize(results: readonly Measured[]): Summary {
  return {
    rps: round(median(results.map((r) => r.rps)), 0),
    p50Ms: round(median(results.map((r) => r.p50Ms)), 2),
    p99Ms: round(median(results.map((r) => r.p99Ms)), 2),
    mbPerSec: round(median(results.map((r) => r.bytesPerSec)) / 1024 ** 2, 1),
    proxyCpu: median(results.map((r) => r.proxyCpu)),
    cpuUsPerRequest: median(results.map((r) => r.cpuUsPerRequest)),
    cpuBusy: median(results.map((r) => r.proxyCpuBusy)),
    errors: results.reduce((a, r) => a + r.errors, 0),
    runs: results.map((r) => round(r.rps, 0)),
  };
}

/** 1-minute load averages seen at each measured run: other work on the machine shows here. */
const loads: number[] = [];
function loadAverage(): number {
  const load = round(loadavg()[0] ?? NaN, 2);
  loads.push(load);
  return load;
}

async function main(): Promise<void> {
  const ports: Ports = {
    backends: await Promise.all(Array.from({ length: BACKENDS }, () => freePort())),
    switchyard: { http: await freePort(), tcp: await freePort() },
    haproxy: { http: await freePort(), tcp: await freePort() },
  };
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-lb-'));
  const procs: Proc[] = [];
  const results = new Map<string, Measured[]>();
  const direct = new Map<Scenario, Summary>();
  const stopAll = async (): Promise<void> => {
    for (const p of procs.reverse()) await stopProc(p);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    const backendArgs = [...TS_NODE, 'bench/lb/backend.ts', ...ports.backends.map(String)];
    procs.push(await startPinned('backends', LOAD_CPU, 'node', backendArgs, { ready: /^ready/ }));
    const proxyArgs = [
      ...TS_NODE,
      'bench/lb/switchyard-proxy.ts',
      JSON.stringify({
        httpPort: ports.switchyard.http,
        tcpPort: ports.switchyard.tcp,
        backends: ports.backends,
      }),
    ];
    if (CPU_PROF)
      proxyArgs.unshift('--cpu-prof', `--cpu-prof-dir=${join(process.cwd(), 'bench/lb/profiles')}`);
    const switchyard = await startPinned('switchyard', PROXY_CPU, 'node', proxyArgs, { ready: /^ready/ });
    procs.push(switchyard);
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(ports));
    const haproxy = await startPinned('haproxy', PROXY_CPU, 'haproxy', ['-db', '-f', cfg]);
    procs.push(haproxy);
    const proxies: Record<Target, { proc: Proc; ports: { http: number; tcp: number } }> = {
      switchyard: { proc: switchyard, ports: ports.switchyard },
      haproxy: { proc: haproxy, ports: ports.haproxy },
    };
    for (const t of Object.values(proxies)) {
      // Switchyard's backends start DOWN until they pass `rise` checks; wait for every one.
      const serving = async (port: number): Promise<void> =>
        waitServing(`http://127.0.0.1:${port}/`, BACKENDS * 2, 20_000).catch((err: Error) => {
          throw new Error(`${t.proc.name}: ${err.message}: ${t.proc.output.join(' | ')}`);
        });
      await serving(t.ports.http);
      await serving(t.ports.tcp);
    }
    for (const s of SCENARIOS) {
      const r = await measure(`http://127.0.0.1:${ports.backends[0]}${s.path}`, WRK, undefined);
      direct.set(s.name, summarize([r]));
      console.log(`direct   ${s.name.padEnd(8)} ${round(r.rps, 0)} req/s  p99 ${r.p99Ms} ms`);
    }
    for (let run = 1; run <= RUNS; run++) {
      for (const s of SCENARIOS) {
        const order: Target[] = run % 2 === 1 ? ['switchyard', 'haproxy'] : ['haproxy', 'switchyard'];
        for (const target of order) {
          const { proc, ports: p } = proxies[target];
          const r = await measure(`http://127.0.0.1:${p[s.port]}${s.path}`, WRK, proc.pid);
          const key = `${target}/${s.name}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.log(
            `run ${run} ${target.padEnd(10)} ${s.name.padEnd(8)} ${round(r.rps, 0)} req/s  ` +
              `${round(r.bytesPerSec / 1024 ** 2, 1)} MiB/s  p99 ${r.p99Ms} ms  proxy ${r.proxyCpu}% ` +
              `(${r.cpuUsPerRequest} µs/req), CPU ${PROXY_CPU} busy ${r.proxyCpuBusy}%  errors ${r.errors}  load ${loadAverage()}`,
          );
        }
      }
    }
  } finally {
    await stopAll();
  }
  report(results, direct);
}

function report(results: Map<string, Measured[]>, direct: Map<Scenario, Summary>): void {
  const scenarios: Record<string, unknown> = {};
  let pass = true;
  console.log(
    '\nscenario  switchyard req/s (MiB/s, p99)      haproxy req/s (MiB/s, p99)       ratio req/s  ' +
      'ratio p99  req per CPU-s',
  );
  for (const s of SCENARIOS) {
    const sy = summarize(results.get(`switchyard/${s.name}`) ?? []);
    const ha = summarize(results.get(`haproxy/${s.name}`) ?? []);
    const rpsRatio = round(sy.rps / ha.rps, 2);
    const p99Ratio = round(sy.p99Ms / ha.p99Ms, 2);
    // Requests per CPU-second, Switchyard over HAProxy: steadier than req/s when other work shares the CPU.
    const perCpuRatio = round(ha.cpuUsPerRequest / sy.cpuUsPerRequest, 2);
    const ok = rpsRatio >= TARGETS[s.name] && p99Ratio <= TARGETS.p99 && sy.errors === 0;
    pass &&= ok;
    scenarios[s.name] = {
      switchyard: sy,
      haproxy: ha,
      direct: direct.get(s.name),
      ratio: { rps: rpsRatio, p99: p99Ratio, requestsPerCpuSecond: perCpuRatio },
      target: { rps: `>= ${TARGETS[s.name]}`, p99: `<= ${TARGETS.p99}` },
      pass: ok,
    };
    console.log(
      `${s.name.padEnd(9)} ${String(sy.rps).padStart(7)} (${sy.mbPerSec} MiB/s, ${sy.p99Ms} ms)`.padEnd(44) +
        ` ${String(ha.rps).padStart(7)} (${ha.mbPerSec} MiB/s, ${ha.p99Ms} ms)`.padEnd(36) +
        ` ${String(rpsRatio).padStart(6)}x     ${String(p99Ratio).padStart(5)}x  ${String(perCpuRatio).padStart(5)}x` +
        `  ${ok ? 'ok' : 'BELOW TARGET'}`,
    );
  }
  // What else ran on the proxies' CPU while they were measured (the kernel's share of their work included).
  const others = [...results.values()].flat().map((r) => r.proxyCpuBusy - r.proxyCpu);
  const otherCpu = { median: median(others), max: Math.max(...others) };
  if (otherCpu.median > 15)
    console.log(
      `warning: other work used a median ${otherCpu.median}% of CPU ${PROXY_CPU} during the runs ` +
        `(max ${otherCpu.max}%): req/s ratios are unreliable, the per-CPU-second ratio less so`,
    );
  console.log(
    JSON.stringify({
      bench: 'lb',
      command: `npm run bench:lb -- ${process.argv.slice(2).join(' ')}`.trim(),
      method: {
        wrk: `-t1 -c${CONNECTIONS} --latency, ${WARMUP}s warm-up + ${DURATION}s, median of ${RUNS}`,
        pinning: `proxy on CPU ${PROXY_CPU}; wrk + backends on CPU ${LOAD_CPU}`,
        backends: BACKENDS,
        haproxy: 'Debian haproxy, nbthread 1, roundrobin, http-reuse always, option forwardfor',
        switchyard: 'one node process, accessLog off, admin off, round-robin',
      },
      scenarios,
      loadAverage1m: { min: Math.min(...loads), max: Math.max(...loads), cpus: cpus().length },
      otherWorkOnProxyCpuPercent: otherCpu,
      pass,
    }),
  );
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
