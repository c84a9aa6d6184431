import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from '../lib';
import { Cluster } from '../../test/netns/cluster';
import { PLUGIN, sh } from '../../test/netns/world';

/**
 * ADD and DEL latency of switchyard-cni (shell forwarder → agent) against the reference bridge +
 * host-local (Debian containernetworking-plugins) in the same run, on the same simulated host.
 * Like shared/bench/cni-reference.sh, the plugins are exec'd by a bash loop already inside the host
 * namespace, so each sample is fork + exec + work. Rounds alternate between the two so load drift
 * hits both. Needs root. Env: N (pods per round, default 20), ROUNDS (default 3), CNI_BIN.
 *
 *   npm run bench:cni
 */
const N = Number(process.env.N ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CNI_BIN = process.env.CNI_BIN ?? '/usr/lib/cni';

const LOOP = String.raw`
set -u
impl=$1; op=$2; exe=$3; conf=$4; prefix=$5; n=$6
for i in $(seq 1 "$n"); do
  t0=$EPOCHREALTIME
  CNI_COMMAND=$op CNI_CONTAINERID="bench-$impl-$i" CNI_NETNS="/run/netns/$prefix-pod$i" CNI_IFNAME=eth0 \
    CNI_PATH="$CNI_BIN" "$exe" <"$conf" >/dev/null || { echo "FAIL $impl $op $i" >&2; exit 1; }
  t1=$EPOCHREALTIME
  echo "$impl $op $t0 $t1"
done
`;

interface Row {
  impl: string;
  op: string;
  ms: number;
}

function stats(values: number[]): { n: number; median: number; p95: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 100) / 100;
  return {
    n: s.length,
    median: r(percentile(s, 50)),
    p95: r(percentile(s, 95)),
    min: r(s[0] ?? NaN),
    max: r(s[s.length - 1] ?? NaN),
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:cni needs root (it builds network namespaces)');
  const cluster = new Cluster('b');
  const rows: Row[] = [];
  const agentMs: Record<string, number> = {};
  try {
    await cluster.start(['node']);
    const host = cluster.host('node');
    for (let i = 1; i <= N; i++) await cluster.world.addNamespace(`pod${i}`);
    const dir = cluster.world.dir;
    const script = join(dir, 'loop.sh');
    writeFileSync(script, LOOP);
    const ours = join(dir, 'ours.json');
    writeFileSync(ours, JSON.stringify({ cniVersion: '1.0.0', name: 'bench-sy', type: 'switchyard-cni' }));
    const ref = join(dir, 'ref.json');
    writeFileSync(
      ref,
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'bench-ref',
        type: 'bridge',
        bridge: 'refbr0',
        isGateway: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '198.19.100.0/24', gateway: '198.19.100.1' }]],
          routes: [{ dst: '0.0.0.0/0', gw: '198.19.100.1' }],
          dataDir: join(dir, 'host-local'),
        },
      }),
    );
    const loop = async (impl: string, op: string, exe: string, conf: string): Promise<void> => {
      const env = ['env', `CNI_BIN=${CNI_BIN}`, `SWITCHYARD_CNI_SOCKET=${host.socket}`];
      const out = await sh('ip', [
        'netns',
        'exec',
        host.ns,
        ...env,
        'bash',
        script,
        impl,
        op,
        exe,
        conf,
        cluster.world.prefix,
        String(N),
      ]);
      for (const line of out.trim().split('\n')) {
        const [i, o, t0, t1] = line.split(' ');
        rows.push({ impl: i ?? '', op: o ?? '', ms: (Number(t1) - Number(t0)) * 1000 });
      }
    };
    for (let round = 0; round < ROUNDS; round++) {
      await loop('switchyard', 'ADD', join(__dirname, '..', '..', 'cni', 'bin', 'switchyard-cni'), ours);
      await loop('switchyard', 'DEL', PLUGIN, ours);
      await loop('reference', 'ADD', join(CNI_BIN, 'bridge'), ref);
      await loop('reference', 'DEL', join(CNI_BIN, 'bridge'), ref);
    }
    const metrics = await sh('curl', ['-s', '--unix-socket', host.socket, 'http://agent/metrics']);
    for (const op of ['ADD', 'DEL']) {
      const grab = (what: string): number =>
        Number(
          new RegExp(
            `switchyard_agent_cni_duration_seconds_${what}\\{role="plugin",command="${op}"\\} ([0-9.e-]+)`,
          ).exec(metrics)?.[1] ?? NaN,
        );
      agentMs[op] = Math.round((grab('sum') / grab('count')) * 1e5) / 100;
    }
  } finally {
    await cluster.destroy();
  }
  const pick = (impl: string, op: string): ReturnType<typeof stats> =>
    stats(rows.filter((r) => r.impl === impl && r.op === op).map((r) => r.ms));
  const table: Record<string, ReturnType<typeof stats>> = {};
  for (const impl of ['switchyard', 'reference'])
    for (const op of ['ADD', 'DEL']) table[`${impl} ${op}`] = pick(impl, op);
  console.log(`bench:cni  N=${N} ROUNDS=${ROUNDS}  (ms per call, exec'd from bash inside the host netns)`);
  console.log('| operation        |   n | median |    p95 |    min |    max |');
  for (const [name, s] of Object.entries(table)) {
    console.log(
      `| ${name.padEnd(16)} | ${String(s.n).padStart(3)} | ${s.median.toFixed(2).padStart(6)} | ${s.p95.toFixed(2).padStart(6)} | ${s.min.toFixed(2).padStart(6)} | ${s.max.toFixed(2).padStart(6)} |`,
    );
  }
  const ratio = (op: string, k: 'median' | 'p95'): number =>
    Math.round(((table[`switchyard ${op}`]?.[k] ?? NaN) / (table[`reference ${op}`]?.[k] ?? NaN)) * 100) /
    100;
  const summary = {
    bench: 'cni-add-del',
    n: N,
    rounds: ROUNDS,
    switchyard: { add: table['switchyard ADD'], del: table['switchyard DEL'] },
    reference: { add: table['reference ADD'], del: table['reference DEL'] },
    ratio: {
      addMedian: ratio('ADD', 'median'),
      addP95: ratio('ADD', 'p95'),
      delMedian: ratio('DEL', 'median'),
      delP95: ratio('DEL', 'p95'),
    },
    agentMeanMs: agentMs,
    target: 'medians <= 1.5x reference',
  };
  console.log(`agent-side mean per call (inside the agent): ADD ${agentMs.ADD} ms, DEL ${agentMs.DEL} ms`);
  console.log(
    `ratios switchyard/reference: ADD median ${summary.ratio.addMedian}x p95 ${summary.ratio.addP95}x; DEL median ${summary.ratio.delMedian}x p95 ${summary.ratio.delP95}x`,
  );
  console.log(JSON.stringify(summary));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
