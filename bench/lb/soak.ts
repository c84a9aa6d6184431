import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { flag, freePort, round } from '../lib';
import { parseWrk, runWrk, startPinned, stopProc, TS_NODE, waitServing, type Proc } from './procs';

/**
 * Memory over 1,000,000 requests through Switchyard's L7 proxy. The proxy runs in its own process
 * (CPU 1, `--expose-gc`) and answers memory samples over IPC after a forced GC; the backends, wrk
 * and this process share CPU 0. Load: wrk keep-alive clients (`-t1 -c<concurrency>`, 1 KiB
 * responses), in chunks of exactly `sample-every` responses (a Lua script stops wrk there), plus,
 * while each chunk runs, `abort-rate` clients a second that go away mid-request: half after
 * sending part of their headers, half while the backend is still answering (`/slow`, cancelled
 * after 20 ms, which must cancel the upstream request too). The proxy is sampled each time another
 * `sample-every` requests are done, the first sample closing the warm-up; memory is flat when the heap after GC at the end is within
 * max(10 %, 2 MiB) of the first post-warm-up sample, and no upstream request is left open.
 * Bounded by --max-seconds (and each chunk by wrk's -d). The last line is one JSON object.
 *
 *   npm run bench:lb-soak [-- --requests 1000000 --concurrency 50 --abort-rate 100 --max-seconds 900]
 */
const REQUESTS = flag('requests', 1_000_000);
const CONCURRENCY = flag('concurrency', 50);
const ABORT_RATE = flag('abort-rate', 100);
const MAX_SECONDS = flag('max-seconds', 900);
const CHUNK = flag('sample-every', 100_000);
const BACKENDS = 4;

interface Sample {
  requests: number;
  seconds: number;
  rss: number;
  heapUsed: number;
  external: number;
  active: number;
  clients: number;
}

function askSample(proxy: Proc): Promise<Omit<Sample, 'requests' | 'seconds'>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('proxy did not answer a sample in 10 s')), 10_000);
    proxy.child.once('message', (m: Omit<Sample, 'requests' | 'seconds'>) => {
      clearTimeout(timer);
      resolve(m);
    });
    proxy.child.send({ type: 'sample' });
  });
}

/** A client that sends part of a request's headers and disappears. */
function partialHeaders(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.write('GET / HTTP/1.1\r\nHost: soak.example.org\r\nX-Partial: ');
      setTimeout(() => socket.destroy(), 5);
    });
    socket.on('error', () => undefined).once('close', () => resolve());
  });
}

/** A client that gives up while the backend is still answering. */
function abortMidResponse(port: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/slow?ms=200', agent: false }, (res) =>
      res.resume(),
    );
    const timer = setTimeout(() => req.destroy(), 20);
    req
      .on('error', () => undefined)
      .once('close', () => {
        clearTimeout(timer);
        resolve();
      });
  });
}

/** Clients that vanish, `rate` a second (at most 20 at once), until `stop` is called. */
function startAborters(port: number, rate: number): { stop: () => Promise<number> } {
  let count = 0;
  let open = 0;
  const running = new Set<Promise<void>>();
  const timer = setInterval(() => {
    if (open >= 20) return;
    open++;
    const p = (count % 2 === 0 ? partialHeaders(port) : abortMidResponse(port)).finally(() => {
      open--;
      running.delete(p);
    });
    count++;
    running.add(p);
  }, 1000 / rate);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(running);
      return count;
    },
  };
}

async function main(): Promise<void> {
  try {
    // This process drives load: keep it beside the backends and wrk, away from the proxy's CPU.
    execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    console.log('taskset unavailable: load generator not pinned');
  }
  const backendPorts = await Promise.all(Array.from({ length: BACKENDS }, () => freePort()));
  const port = await freePort();
  const procs: Proc[] = [];
  const samples: Sample[] = [];
  const run = { done: 0, failed: 0, aborted: 0, statusErrors: 0, timedOut: false, seconds: 0 };
  const started = performance.now();
  try {
    const backendArgs = [...TS_NODE, 'bench/lb/backend.ts', ...backendPorts.map(String)];
    procs.push(await startPinned('backends', 0, 'node', backendArgs, { ready: /^ready/ }));
    const args = JSON.stringify({ httpPort: port, backends: backendPorts });
    const proxyArgs = ['--expose-gc', ...TS_NODE, 'bench/lb/switchyard-proxy.ts', args];
    const proxy = await startPinned('switchyard', 1, 'node', proxyArgs, { ready: /^ready/, ipc: true });
    procs.push(proxy);
    await waitServing(`http://127.0.0.1:${port}/`, BACKENDS * 2, 20_000);
    const deadline = started + MAX_SECONDS * 1000;
    let nextSample = CHUNK;
    while (run.done < REQUESTS) {
      if (performance.now() + 6000 > deadline) {
        run.timedOut = true;
        break;
      }
      const aborters = startAborters(port, ABORT_RATE);
      const out = await runWrk(0, [`-c${CONCURRENCY}`, '-t1', '-d5s', `http://127.0.0.1:${port}/`], 5);
      run.aborted += await aborters.stop();
      const result = parseWrk(out);
      if (!Number.isFinite(result.requests)) throw new Error(`wrk output not understood: ${out}`);
      run.done += result.requests;
      run.statusErrors += result.non2xx;
      run.failed += result.socketErrors;
      if (run.done < nextSample) continue;
      while (nextSample <= run.done) nextSample += CHUNK;
      const sample = await askSample(proxy);
      const seconds = round((performance.now() - started) / 1000, 1);
      samples.push({ requests: run.done, seconds, ...sample });
      console.log(
        `${run.done} requests  ${seconds} s  heapUsed ${round(sample.heapUsed / 2 ** 20, 1)} MiB  ` +
          `rss ${round(sample.rss / 2 ** 20, 1)} MiB  external ${round(sample.external / 2 ** 20, 1)} MiB  ` +
          `open upstream ${sample.active}  client connections ${sample.clients}`,
      );
    }
    // Let cancelled upstream requests and closed clients settle, then take the final sample.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sample = await askSample(proxy);
    samples.push({ requests: run.done, seconds: round((performance.now() - started) / 1000, 1), ...sample });
  } finally {
    for (const p of procs.reverse()) await stopProc(p);
  }
  run.seconds = (performance.now() - started) / 1000;
  // The first sample is taken after the warm-up chunk; report from there.
  report(samples, run);
}

function report(
  samples: Sample[],
  run: {
    done: number;
    failed: number;
    aborted: number;
    statusErrors: number;
    timedOut: boolean;
    seconds: number;
  },
): void {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const mib = (b: number): number => round(b / 2 ** 20, 2);
  const heapGrowth = first && last ? last.heapUsed - first.heapUsed : NaN;
  const allowed = first ? Math.max(0.1 * first.heapUsed, 2 * 2 ** 20) : NaN;
  const flat = heapGrowth <= allowed;
  const settled = last?.active === 0;
  console.log(
    `\n${run.done} requests in ${round(run.seconds, 1)} s (${round(run.done / run.seconds, 0)}/s), ` +
      `${run.aborted} aborted on purpose, ${run.failed} failed, ${run.statusErrors} non-200`,
  );
  console.log(
    `heapUsed after GC: ${first ? mib(first.heapUsed) : '-'} MiB at ${first?.requests ?? '-'} → ` +
      `${last ? mib(last.heapUsed) : '-'} MiB at ${last?.requests ?? '-'} (growth ${mib(heapGrowth)} MiB, allowed ${mib(allowed)}): ` +
      `${flat ? 'flat' : 'GROWING'}; upstream requests still open at the end: ${last?.active ?? '-'}`,
  );
  console.log(
    JSON.stringify({
      bench: 'lb-soak',
      command: `npm run bench:lb-soak -- ${process.argv.slice(2).join(' ')}`.trim(),
      requests: run.done,
      target: REQUESTS,
      complete: !run.timedOut && run.done >= REQUESTS,
      seconds: round(run.seconds, 1),
      concurrency: CONCURRENCY,
      abortRatePerSecond: ABORT_RATE,
      abortedOnPurpose: run.aborted,
      failed: run.failed,
      non200: run.statusErrors,
      samples: samples.map((s) => ({
        requests: s.requests,
        seconds: s.seconds,
        heapUsedMiB: mib(s.heapUsed),
        rssMiB: mib(s.rss),
        externalMiB: mib(s.external),
        openUpstream: s.active,
      })),
      heapGrowthMiB: mib(heapGrowth),
      allowedGrowthMiB: mib(allowed),
      flat,
      upstreamSettled: settled,
      pass: flat && settled && run.failed === 0 && run.statusErrors === 0 && !run.timedOut,
    }),
  );
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
