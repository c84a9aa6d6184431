/**
 * bench:dns-scale — the zone compiler at cluster scale (default 100,000 tasks, 10,000 services,
 * 1,000 agents; see cluster.ts for the mix):
 *   1. full compile: `compileZone(snapshot)` from nothing, wall and CPU time, run twice (the first
 *      run also pays for JIT warm-up); heap used by the zone (after a forced GC) and RSS;
 *   2. incremental: `updateZone(prev, [one event])` for `--changes` single-task changes (a third
 *      each: modified — new IP and port —, added, deleted), p50/p99/max, plus a few heavier
 *      single events (an agent's address change moves its ~100 tasks; a headless service change);
 *   3. a check that the incrementally maintained zone equals a full compile of the final state.
 * No peer: Mesos-DNS has no incremental path (it rebuilds every record set on each 60 s poll).
 * Prints one JSON object as its last line. Flags: --tasks --services --nodes --changes.
 */
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compileZone, updateZone, type CompiledZone, type ZoneChange } from '../../dns';
import type { StoredObject } from '../../state';
import { flag, round, summarize } from '../lib';
import { benchNode, benchService, benchTask, buildCluster, type BenchCluster } from './cluster';

const cfg = {
  tasks: flag('tasks', 100000),
  services: flag('services', 10000),
  nodes: flag('nodes', 1000),
  changes: flag('changes', 1000),
};
const shape = { tasks: cfg.tasks, services: cfg.services, nodes: cfg.nodes };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** CPU time of this process (its GC helper threads included; time other processes run does not count). */
function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function mb(bytes: number): number {
  return round(bytes / 1048576, 1);
}

function fullCompile(cluster: BenchCluster): { zone: CompiledZone; wallMs: number; cpuMs: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const zone = compileZone({ ...cluster, revision: 1 });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { zone, wallMs: round(wallMs, 0), cpuMs: round((cpu.user + cpu.system) / 1000, 0) };
}

/** A deterministic sequence of single-task events over the live set. */
function* changes(
  count: number,
  live: Map<string, StoredObject<'Task'>>,
  firstRevision: number,
): Generator<ZoneChange> {
  let revision = firstRevision;
  let next = cfg.tasks;
  for (let i = 0; i < count; i++) {
    revision++;
    const kind = i % 3;
    if (kind === 1) {
      const task = benchTask(next++, shape, revision);
      live.set(task.name, task);
      yield { type: 'ADDED', object: task };
      continue;
    }
    const index = (i * 7919) % cfg.tasks;
    const existing = live.get(`task-${index}`);
    if (existing === undefined) continue;
    if (kind === 2) {
      live.delete(existing.name);
      yield { type: 'DELETED', object: existing };
    } else {
      const spec = existing.spec;
      const task: StoredObject<'Task'> = {
        ...existing,
        revision,
        spec: {
          ...spec,
          ips: spec.ips.length > 0 ? [`198.19.${(i >> 8) & 255}.${i & 255}`] : [],
          ports: spec.ports.map((p) => ({ ...p, containerPort: p.containerPort + 1 })),
        },
      };
      live.set(task.name, task);
      yield { type: 'MODIFIED', object: task };
    }
  }
}

/** Wall time and process CPU time (time spent preempted by other processes shows as the difference). */
function timed(zone: CompiledZone, events: ZoneChange[]): { zone: CompiledZone; ms: number; cpuMs: number } {
  const cpu0 = processCpuMs();
  const t0 = performance.now();
  const next = updateZone(zone, events);
  return { zone: next, ms: performance.now() - t0, cpuMs: processCpuMs() - cpu0 };
}

function main(): void {
  gc();
  const base = process.memoryUsage();
  const cluster = buildCluster(shape);
  gc();
  const withInput = process.memoryUsage();
  const loadBefore = loadavg()[0] as number;
  let first: ReturnType<typeof fullCompile> | undefined = fullCompile(cluster);
  const firstRun = { wallMs: first.wallMs, cpuMs: first.cpuMs };
  gc();
  const withZone = process.memoryUsage();
  first = undefined;
  gc();
  const second = fullCompile(cluster);
  let zone = second.zone;

  const live = new Map(cluster.tasks.map((t) => [t.name, t]));
  // Settle the heap first: the marking a full compile leaves behind is not what a change costs.
  gc();
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  for (const event of changes(cfg.changes, live, 10_000_000)) {
    const step = timed(zone, [event]);
    zone = step.zone;
    samples.push(step.ms);
    cpuSamples.push(step.cpuMs);
  }
  // Heavier single events: an agent's address moves (its port-mapped tasks, .slave. names and
  // slave.mesos follow), and a headless service's selector target changes.
  const agent = benchNode(0, 20_000_000);
  const moved = timed(zone, [{ type: 'MODIFIED', object: { ...agent, spec: { address: '198.19.255.1' } } }]);
  zone = moved.zone;
  const headless = benchService(9, 20_000_001);
  const retargeted = timed(zone, [
    {
      type: 'MODIFIED',
      object: {
        ...headless,
        spec: { ...headless.spec, ports: [{ name: 'web', port: 8080, targetPort: 'http', protocol: 'tcp' }] },
      },
    },
  ]);
  zone = retargeted.zone;

  // The incremental result must be what a full compile of the final state gives.
  const finalNodes = cluster.nodes.map((n) =>
    n.name === agent.name ? { ...agent, spec: { address: '198.19.255.1' } } : n,
  );
  const finalServices = cluster.services.map((s) =>
    s.name === headless.name
      ? {
          ...headless,
          spec: {
            ...headless.spec,
            ports: [{ name: 'web', port: 8080, targetPort: 'http', protocol: 'tcp' as const }],
          },
        }
      : s,
  );
  const reference = compileZone({
    ...cluster,
    tasks: [...live.values()],
    nodes: finalNodes,
    services: finalServices,
    revision: zone.revision,
  });
  const sameAsFull =
    reference.nameCount === zone.nameCount &&
    reference.recordCount === zone.recordCount &&
    reference.zoneText() === zone.zoneText();

  const incremental = summarize(samples);
  const incrementalCpu = summarize(cpuSamples);
  const result = {
    benchmark: 'dns-scale',
    command:
      `node -r ./test/helpers/ts-register.js bench/dns/scale.ts ${process.argv.slice(2).join(' ')}`.trim(),
    tasks: cfg.tasks,
    services: cfg.services,
    nodes: cfg.nodes,
    names: second.zone.nameCount,
    records: second.zone.recordCount,
    full: {
      firstRun,
      secondRun: { wallMs: second.wallMs, cpuMs: second.cpuMs },
    },
    memory: {
      inputHeapMB: mb(withInput.heapUsed - base.heapUsed),
      zoneHeapMB: mb(withZone.heapUsed - withInput.heapUsed),
      zoneExternalMB: mb(withZone.external - withInput.external),
      rssMB: mb(withZone.rss),
    },
    incremental: {
      changes: samples.length,
      p50Ms: incremental.p50,
      p99Ms: incremental.p99,
      maxMs: incremental.max,
      processCpu: { p50Ms: incrementalCpu.p50, p99Ms: incrementalCpu.p99, maxMs: incrementalCpu.max },
      agentAddressChangeMs: round(moved.ms, 2),
      headlessServiceChangeMs: round(retargeted.ms, 2),
    },
    incrementalEqualsFull: sameAsFull,
    // Other work on the machine shows here: the figures above are wall and CPU time of this process.
    loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0] as number, 2) },
  };
  console.log(
    `full compile ${cfg.tasks} tasks / ${cfg.services} services: ${second.wallMs} ms (first run ${firstRun.wallMs} ms); ` +
      `zone heap ${result.memory.zoneHeapMB} MB + ${result.memory.zoneExternalMB} MB answers; ` +
      `incremental p50 ${incremental.p50} ms, p99 ${incremental.p99} ms, max ${incremental.max} ms`,
  );
  console.log(JSON.stringify(result));
}

main();
