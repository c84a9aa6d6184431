/**
 * bench:state — the cluster state API against etcd (Debian's etcd-server), in the same run:
 *   1. apply throughput: N durable writes over gRPC at a fixed concurrency (Switchyard's client
 *      against etcd3's put; both fsync before they answer);
 *   2. watch fan-out over the wire: W watchers × U updates, events/s and delivery latency (from
 *      the writer's send to the watcher's receipt, one clock);
 *   3. watch fan-out in process (what the all-in-one node's DNS and proxy use): W × U at full size;
 * Switchyard's state server runs in its own process, as etcd does; the clients share this one.
 *   4. start-up with 100,000 tasks on disk.
 * Prints one JSON object as its last line. Flags: --applies --concurrency --watchers --updates
 * --wire-updates --startup-tasks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { createGrpcStateClient, openEmbeddedStore, type ObjectInput, type StateApi } from '../../state';
import { flag, freePort, round, runConcurrent, spawnPeer, stopPeer, summarize } from '../lib';

const cfg = {
  applies: flag('applies', 10000),
  concurrency: flag('concurrency', 64),
  watchers: flag('watchers', 1000),
  updates: flag('updates', 10000),
  wireUpdates: flag('wire-updates', 200),
  startupTasks: flag('startup-tasks', 100000),
};

function task(i: number, generation = 0): ObjectInput<'Task'> {
  return {
    kind: 'Task',
    name: `bench-${i}`,
    labels: { app: `app-${i % 50}` },
    spec: {
      app: `app-${i % 50}`,
      framework: 'marathon',
      node: 'node-1',
      state: 'running',
      health: 'healthy',
      networkMode: 'ip-per-container',
      ips: [`198.18.${(i >> 8) & 255}.${i & 255}`],
      ports: [{ name: 'http', containerPort: 8080 + (generation % 1000), protocol: 'tcp' }],
    },
  };
}

/** Fan-out: `watchers` subscriptions, then `updates` writes; latency sampled on every watcher. */
async function fanOut(
  subscribe: (onEvent: (name: string) => void) => Promise<() => void>,
  write: (i: number) => Promise<unknown>,
  watchers: number,
  updates: number,
  sampleEvery = 1,
): Promise<{ eventsPerSecond: number; p50Ms: number; p99Ms: number; delivered: number }> {
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  let delivered = 0;
  let lastAt = 0;
  let done!: () => void;
  const allDelivered = new Promise<void>((resolve) => (done = resolve));
  const closers: Array<() => void> = [];
  for (let w = 0; w < watchers; w++) {
    const sample = w % sampleEvery === 0;
    closers.push(
      await subscribe((name) => {
        const now = performance.now();
        if (sample) samples.push(now - (sentAt.get(name) ?? now));
        lastAt = now;
        if (++delivered === watchers * updates) done();
      }),
    );
  }
  const t0 = performance.now();
  await runConcurrent(updates, cfg.concurrency, (i) => {
    sentAt.set(`bench-${i}`, performance.now());
    return write(i);
  });
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 120000).unref());
  await Promise.race([allDelivered, timeout]);
  for (const close of closers) close();
  const s = summarize(samples);
  return {
    eventsPerSecond: round(delivered / ((lastAt - t0) / 1000), 0),
    p50Ms: s.p50,
    p99Ms: s.p99,
    delivered,
  };
}

function watchNames(api: StateApi, from: number, onEvent: (name: string) => void): () => void {
  const ac = new AbortController();
  void (async () => {
    try {
      for await (const ev of api.watch({ kind: 'Task', from, signal: ac.signal })) {
        if (ev.type !== 'BOOKMARK') onEvent(ev.object.name);
      }
    } catch (err) {
      if (!ac.signal.aborted) process.stderr.write(`watch ended: ${String(err)}\n`);
    }
  })();
  return () => ac.abort();
}

/** The Switchyard state server in its own process (as etcd is), reached over gRPC. */
async function startServerProcess(dir: string): Promise<{ address: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(__dirname, 'server.js'), dir, 'bench'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`state server exited with ${code}`)));
  });
  return { address, stop: () => stopPeer(child) };
}

async function benchSwitchyard(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-state-'));
  try {
    const server = await startServerProcess(join(dir, 'store'));
    const client = createGrpcStateClient({ address: server.address, token: 'bench' });
    const revision = async (): Promise<number> => (await client.list({ kind: 'Network' })).revision;
    // A first pass creates (and warms up); the timed pass updates: the same shape etcd gets below.
    await runConcurrent(cfg.applies, cfg.concurrency, (i) => client.apply(task(i)));
    const t0 = performance.now();
    const lat = await runConcurrent(cfg.applies, cfg.concurrency, (i) => client.apply(task(i, 1)));
    const appliesPerSecond = cfg.applies / ((performance.now() - t0) / 1000);
    const applyLatency = summarize(lat);
    const from = await revision();
    const wire = await fanOut(
      async (onEvent) => watchNames(client, from, onEvent),
      (i) => client.apply(task(i, 2)),
      cfg.watchers,
      cfg.wireUpdates,
    );
    client.close();
    await server.stop();
    const inProcess = await benchInProcess(join(dir, 'in-process'));
    const startupMs = await measureStartup(join(dir, 'startup'));
    return {
      appliesPerSecond: round(appliesPerSecond, 0),
      applyP50Ms: applyLatency.p50,
      applyP99Ms: applyLatency.p99,
      wire,
      inProcess,
      startupMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fan-out inside one process: what the all-in-one node's DNS, proxy and VIP controller use. */
async function benchInProcess(dir: string): Promise<Record<string, unknown>> {
  const store = await openEmbeddedStore({ dir });
  try {
    await runConcurrent(cfg.updates, cfg.concurrency, (i) => store.apply(task(i)));
    return await fanOut(
      async (onEvent) => watchNames(store, store.revision, onEvent),
      (i) => store.apply(task(i, 1)),
      cfg.watchers,
      cfg.updates,
      10,
    );
  } finally {
    await store.close();
  }
}

async function measureStartup(dir: string): Promise<Record<string, number>> {
  const store = await openEmbeddedStore({ dir });
  await runConcurrent(cfg.startupTasks, 512, (i) => store.apply(task(i)));
  await store.close();
  const t0 = performance.now();
  const reopened = await openEmbeddedStore({ dir });
  const ms = performance.now() - t0;
  const count = (await reopened.list({ kind: 'Task' })).items.length;
  await reopened.close();
  return { tasks: count, ms: round(ms, 0) };
}

async function benchEtcd(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = spawnPeer(etcdBinary(), [
    '--data-dir',
    join(dir, 'data'),
    '--name',
    'bench',
    '--listen-client-urls',
    clientUrl,
    '--advertise-client-urls',
    clientUrl,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    `bench=${peerUrl}`,
    '--log-level',
    'error',
  ]);
  const client = new Etcd3({ hosts: clientUrl });
  try {
    await waitForEtcd(client);
    const put = async (i: number, gen: number): Promise<unknown> =>
      await client.put(`/bench/tasks/bench-${i}`).value(JSON.stringify(task(i, gen)));
    await runConcurrent(cfg.applies, cfg.concurrency, (i) => put(i, 0));
    const t0 = performance.now();
    const lat = await runConcurrent(cfg.applies, cfg.concurrency, (i) => put(i, 1));
    const appliesPerSecond = cfg.applies / ((performance.now() - t0) / 1000);
    const wire = await fanOut(
      async (onEvent) => {
        const watcher = await client.watch().prefix('/bench/tasks/').create();
        // Decode the value as a consumer must (Switchyard's client hands out parsed objects).
        watcher.on('put', (kv) => {
          const object = JSON.parse(kv.value.toString()) as { name: string };
          onEvent(object.name);
        });
        return () => void watcher.cancel();
      },
      (i) => put(i, 2),
      cfg.watchers,
      cfg.wireUpdates,
    );
    const s = summarize(lat);
    return {
      version: etcdVersion(),
      appliesPerSecond: round(appliesPerSecond, 0),
      applyP50Ms: s.p50,
      applyP99Ms: s.p99,
      wire,
    };
  } finally {
    client.close();
    await stopPeer(etcd);
    rmSync(dir, { recursive: true, force: true });
  }
}

function etcdBinary(): string {
  for (const candidate of ['/usr/bin/etcd', '/usr/local/bin/etcd']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  process.stderr.write('bench:state: installing etcd-server (Debian)\n');
  execFileSync(
    'bash',
    ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server'],
    {
      stdio: 'inherit',
    },
  );
  return '/usr/bin/etcd';
}

function etcdVersion(): string {
  return /etcd Version: (\S+)/.exec(execFileSync(etcdBinary(), ['--version']).toString())?.[1] ?? 'unknown';
}

async function waitForEtcd(client: Etcd3): Promise<void> {
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      await client.put('/bench/ready').value('1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  process.stderr.write(`bench:state ${JSON.stringify(cfg)}\n`);
  const switchyard = await benchSwitchyard();
  process.stderr.write(`switchyard: ${JSON.stringify(switchyard)}\n`);
  const etcd = await benchEtcd();
  process.stderr.write(`etcd: ${JSON.stringify(etcd)}\n`);
  const sw = switchyard.wire as { eventsPerSecond: number; p99Ms: number };
  const ew = etcd.wire as { eventsPerSecond: number; p99Ms: number };
  const result = {
    bench: 'state',
    command: `npm run bench:state -- ${process.argv.slice(2).join(' ')}`.trim(),
    config: cfg,
    switchyard,
    etcd,
    ratio: {
      appliesPerSecond: round((switchyard.appliesPerSecond as number) / (etcd.appliesPerSecond as number)),
      wireEventsPerSecond: round(sw.eventsPerSecond / ew.eventsPerSecond),
      wireP99: round(sw.p99Ms / ew.p99Ms),
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:state failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
