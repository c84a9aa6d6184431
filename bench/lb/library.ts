import http from 'node:http';
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
 * The upstream library for the L7 proxy, measured: minimal forwarders (`forwarder.ts`) on undici
 * (Pool.dispatch, Pool.request), node:http with a keep-alive Agent, and http-proxy 1.18 when it
 * is installed (bench-only devDependency; skipped with the reason otherwise), plus Switchyard's
 * own proxy, against the same backends. Each forwarder alone on CPU 1, wrk and the backends on
 * CPU 0 (deps.md §3's method: wrk -t1 -c50, 1 KiB responses, warm-up then measured run, median
 * of `runs`, forwarders alternating). Then, per forwarder:
 *   - client aborts: 100 clients ask for a 5 s answer and vanish after 300 ms; how many upstream
 *     requests does the backend still hold 1 s later (0 = cancelled, 100 = leaked)?
 *   - backend resets: 20 requests to a backend that dies mid-answer; does the forwarder still
 *     answer a normal request afterwards (process alive, no unhandled error)?
 * The last line is one JSON object.
 *
 *   npm run bench:lb-library [-- --runs 3 --duration 10 --warmup 3]
 */
const RUNS = flag('runs', 3);
const DURATION = flag('duration', 10);
const WARMUP = flag('warmup', 3);
const KINDS = ['undici-dispatch', 'undici-request', 'node-http', 'http-proxy', 'switchyard'] as const;
type Kind = (typeof KINDS)[number];
const WRK = { cpu: 0, connections: 50, warmupS: WARMUP, durationS: DURATION };

interface Forwarder {
  readonly kind: Kind;
  readonly port: number;
  readonly proc: Proc;
}

function backendInflight(backends: Proc): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('backend did not report')), 5000);
    const onData = (chunk: Buffer): void => {
      const m = /inflight (\d+)/.exec(chunk.toString());
      if (!m) return;
      clearTimeout(timer);
      backends.child.stdout?.off('data', onData);
      resolve(Number(m[1]));
    };
    backends.child.stdout?.on('data', onData);
    process.kill(backends.pid, 'SIGUSR2');
  });
}

/** 100 clients that go away 300 ms into a 5 s answer; upstream requests still open 1 s later. */
async function abortLeak(port: number, backends: Proc): Promise<number> {
  for (let i = 0; i < 100 && (await backendInflight(backends)) > 0; i++) await sleep(100);
  await Promise.all(
    Array.from(
      { length: 100 },
      () =>
        new Promise<void>((resolve) => {
          const req = http.get({ host: '127.0.0.1', port, path: '/slow?ms=5000', agent: false });
          req.on('error', () => undefined).once('close', () => resolve());
          setTimeout(() => req.destroy(), 300);
        }),
    ),
  );
  await sleep(1000);
  return backendInflight(backends);
}

/** 20 requests to a backend that resets mid-answer, then one normal request: still serving? */
async function survivesResets(f: Forwarder): Promise<boolean> {
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push(await status(`http://127.0.0.1:${f.port}/reset`));
  await sleep(200);
  const alive = f.proc.child.exitCode === null && f.proc.child.signalCode === null;
  return alive && (await status(`http://127.0.0.1:${f.port}/`)) === 200;
}

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0)).on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy()).on('error', () => resolve(0));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function startForwarder(kind: Kind, backendPorts: number[]): Promise<Forwarder | string> {
  const port = await freePort();
  const args =
    kind === 'switchyard'
      ? [
          ...TS_NODE,
          'bench/lb/switchyard-proxy.ts',
          JSON.stringify({ httpPort: port, backends: backendPorts }),
        ]
      : [...TS_NODE, 'bench/lb/forwarder.ts', kind, String(port), ...backendPorts.map(String)];
  const proc = await startPinned(kind, 1, 'node', args, { ready: /^(ready|skip)/ });
  const skip = proc.output.find((l) => l.startsWith('skip '));
  if (skip) {
    await stopProc(proc);
    return skip.slice(5);
  }
  await waitServing(`http://127.0.0.1:${port}/`, backendPorts.length * 2, 20_000);
  return { kind, port, proc };
}

async function main(): Promise<void> {
  const backendPorts = await Promise.all(Array.from({ length: 4 }, () => freePort()));
  const procs: Proc[] = [];
  const forwarders: Forwarder[] = [];
  const skipped: Partial<Record<Kind, string>> = {};
  const results = new Map<Kind, Measured[]>();
  const robustness: Partial<Record<Kind, { leakedUpstream: number; survivesBackendResets: boolean }>> = {};
  try {
    const backendArgs = [...TS_NODE, 'bench/lb/backend.ts', ...backendPorts.map(String)];
    const backends = await startPinned('backends', 0, 'node', backendArgs, { ready: /^ready/ });
    procs.push(backends);
    for (const kind of KINDS) {
      const started = await startForwarder(kind, backendPorts);
      if (typeof started === 'string') {
        skipped[kind] = started;
        console.log(`${kind}: skipped (${started})`);
        continue;
      }
      forwarders.push(started);
      procs.push(started.proc);
    }
    for (let run = 1; run <= RUNS; run++) {
      const order = run % 2 === 1 ? forwarders : [...forwarders].reverse();
      for (const f of order) {
        const r = await measure(`http://127.0.0.1:${f.port}/`, WRK, f.proc.pid);
        results.set(f.kind, [...(results.get(f.kind) ?? []), r]);
        console.log(
          `run ${run} ${f.kind.padEnd(16)} ${round(r.rps, 0)} req/s  p99 ${r.p99Ms} ms  ` +
            `cpu ${r.proxyCpu}% (${r.cpuUsPerRequest} µs/req)  errors ${r.errors}`,
        );
      }
    }
    for (const f of forwarders) {
      const leakedUpstream = await abortLeak(f.port, backends);
      const survivesBackendResets = await survivesResets(f);
      robustness[f.kind] = { leakedUpstream, survivesBackendResets };
      console.log(
        `${f.kind.padEnd(16)} upstream requests left open after 100 client aborts: ${leakedUpstream}; survives backend resets: ${survivesBackendResets}`,
      );
    }
  } finally {
    for (const p of procs.reverse()) await stopProc(p);
  }
  const summary: Record<string, unknown> = {};
  const base = median((results.get('http-proxy') ?? results.get('node-http') ?? []).map((r) => r.rps));
  const baseName = results.has('http-proxy') ? 'http-proxy' : 'node-http';
  console.log(`\nforwarder         req/s (median)  p99 ms  µs CPU/req  vs ${baseName}`);
  for (const f of forwarders) {
    const rs = results.get(f.kind) ?? [];
    const rps = round(median(rs.map((r) => r.rps)), 0);
    const row = {
      rps,
      p99Ms: round(median(rs.map((r) => r.p99Ms)), 2),
      cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
      runs: rs.map((r) => round(r.rps, 0)),
      rpsVsBaseline: round(rps / base, 2),
      ...robustness[f.kind],
    };
    summary[f.kind] = row;
    console.log(
      `${f.kind.padEnd(17)} ${String(rps).padStart(8)}  ${String(row.p99Ms).padStart(8)}  ` +
        `${String(row.cpuUsPerRequest).padStart(10)}  ${row.rpsVsBaseline}x`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'lb-library',
      command: `npm run bench:lb-library -- ${process.argv.slice(2).join(' ')}`.trim(),
      method: `wrk -t1 -c50 --latency, ${WARMUP}s warm-up + ${DURATION}s, median of ${RUNS}; forwarder on CPU 1, wrk + backends on CPU 0; 1 KiB responses`,
      baseline: baseName,
      forwarders: summary,
      skipped,
    }),
  );
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
