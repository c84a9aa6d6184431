import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarize } from '../lib';
import { sh, World } from '../../test/netns/world';
import { eventually } from '../../test/helpers/eventually';

/**
 * How should a host make VIP:port reach its local proxy? Two ways, measured in the same run on one
 * simulated host (network namespaces, root):
 *
 * - `dummy`: the VIP address (/32) on a dummy interface the agent owns; the proxy listens on VIP:port.
 * - `nft`:   one nftables map `VIP . port → proxy address . port` with a DNAT rule in prerouting;
 *            the proxy listens on the host's own address.
 * - `direct`: the proxy's own address, no VIP at all (the floor).
 *
 * A client in a task namespace (veth to the host, as the CNI plugin wires it) opens N connections
 * one after another, rotating over the three targets so load drift hits all, and times each from
 * `connect()` to the first byte the server writes on accept. Then the same with `VIPS` VIPs
 * installed (addresses on the dummy interface, entries in the map), and the time to apply them.
 * Env: N (connections per target, default 500), VIPS (default 1000).
 *
 *   node -r ./test/helpers/ts-register.js bench/agent/vip-dataplane.ts
 */
const N = Number(process.env.N ?? 500);
const VIPS = Number(process.env.VIPS ?? 1000);
const HOST_IP = '198.18.5.1';
const TASK_IP = '198.18.5.2';
const VIP = '198.19.240.10';
const PORT = 8000;
const NFT_TARGET_PORT = 18000;

const SERVER = String.raw`
const net = require('net');
const eps = JSON.parse(process.argv[1]);
let n = 0;
for (const [host, port] of eps) net.createServer((s) => { s.on('error', () => {}); s.end('x'); })
  .listen(port, host, () => { if (++n === eps.length) console.log('listening'); });
`;

const CLIENT = String.raw`
const net = require('net');
const [n, targets] = [Number(process.argv[1]), JSON.parse(process.argv[2])];
const out = Object.fromEntries(targets.map((t) => [t.name, []]));
function once(t) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host: t.host, port: t.port });
    s.once('data', () => { out[t.name].push(Number(process.hrtime.bigint() - t0) / 1e6); s.destroy(); resolve(); });
    s.once('error', reject);
  });
}
(async () => {
  for (let i = 0; i < 20; i++) for (const t of targets) await once(t); // warm-up
  for (const k of Object.keys(out)) out[k] = [];
  for (let i = 0; i < n; i++) for (const t of targets) await once(t);
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function vipAddress(i: number): string {
  return `198.19.${240 + Math.floor(i / 240)}.${10 + (i % 240)}`;
}

function nftRuleset(count: number): string {
  const elements = Array.from(
    { length: count },
    (_, i) => `${vipAddress(i)} . ${PORT} : ${HOST_IP} . ${NFT_TARGET_PORT}`,
  );
  return [
    'table ip syvipbench',
    'delete table ip syvipbench',
    'table ip syvipbench {',
    '\tmap vips {',
    '\t\ttype ipv4_addr . inet_service : ipv4_addr . inet_service',
    `\t\telements = { ${elements.join(', ')} }`,
    '\t}',
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tdnat ip to ip daddr . tcp dport map @vips',
    '\t}',
    '}',
    '',
  ].join('\n');
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await run();
  return Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100;
}

async function measure(
  world: World,
  task: string,
): Promise<Record<string, ReturnType<typeof summarize> & { mean: number }>> {
  const targets = [
    { name: 'direct', host: HOST_IP, port: PORT },
    { name: 'dummy', host: VIP, port: PORT },
    { name: 'nft', host: VIP, port: PORT + 1 },
  ];
  const out = await sh('ip', [
    'netns',
    'exec',
    task,
    process.execPath,
    '-e',
    CLIENT,
    String(N),
    JSON.stringify(targets),
  ]);
  const samples = JSON.parse(out) as Record<string, number[]>;
  const mean = (v: number[]): number => Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 1000) / 1000;
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { ...summarize(v), mean: mean(v) }]));
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/agent/vip-dataplane needs root (network namespaces)');
  const world = new World('vb');
  try {
    const host = await world.addNamespace('host');
    const task = await world.addNamespace('task');
    await sh('ip', ['-n', host, 'link', 'add', 'vh0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', task]);
    await sh('ip', ['-n', host, 'addr', 'add', `${HOST_IP}/24`, 'dev', 'vh0']);
    await sh('ip', ['-n', host, 'link', 'set', 'vh0', 'up']);
    await sh('ip', ['-n', task, 'addr', 'add', `${TASK_IP}/24`, 'dev', 'eth0']);
    await sh('ip', ['-n', task, 'link', 'set', 'eth0', 'up']);
    await sh('ip', ['-n', task, 'route', 'add', 'default', 'via', HOST_IP]);
    // Kernels built without CONFIG_DUMMY (this test machine's) get a bridge without ports instead.
    const linkType = await sh('ip', ['-n', host, 'link', 'add', 'sy-vip0', 'type', 'dummy']).then(
      () => 'dummy',
      async () => (await sh('ip', ['-n', host, 'link', 'add', 'sy-vip0', 'type', 'bridge']), 'bridge'),
    );
    await sh('ip', ['-n', host, 'link', 'set', 'sy-vip0', 'up']);
    await sh('ip', ['-n', host, 'addr', 'add', `${VIP}/32`, 'dev', 'sy-vip0']);
    // The nft variant uses VIP:8001 so both ways can share one VIP address in one run.
    const ruleset = nftRuleset(1).replace(`. ${PORT} :`, `. ${PORT + 1} :`);
    const file = join(world.dir, 'vips.nft');
    writeFileSync(file, ruleset);
    await sh('ip', ['netns', 'exec', host, 'nft', '-f', file]);
    const endpoints = [
      [HOST_IP, PORT],
      [VIP, PORT],
      [HOST_IP, NFT_TARGET_PORT],
    ];
    const server = world.spawnIn(host, [process.execPath, '-e', SERVER, JSON.stringify(endpoints)]);
    await eventually(() => server.output().includes('listening'), 10000);

    const one = await measure(world, task);
    // Many VIPs: VIPS addresses on the dummy interface, VIPS entries in the map; time the applies.
    const addrLines = Array.from({ length: VIPS }, (_, i) => `addr replace ${vipAddress(i)}/32 dev sy-vip0`);
    const dummyApplyMs = await timed(() =>
      sh('ip', ['-n', host, '-force', '-batch', '-'], addrLines.join('\n') + '\n'),
    );
    const big = nftRuleset(VIPS).replace(`${VIP} . ${PORT} :`, `${VIP} . ${PORT + 1} :`);
    writeFileSync(file, big);
    const nftApplyMs = await timed(() => sh('ip', ['netns', 'exec', host, 'nft', '-f', file]));
    const oneMoreDummyMs = await timed(() =>
      sh('ip', ['-n', host, 'addr', 'replace', '198.19.250.1/32', 'dev', 'sy-vip0']),
    );
    const many = await measure(world, task);
    const result = {
      linkType,
      command: `N=${N} VIPS=${VIPS} node -r ./test/helpers/ts-register.js bench/agent/vip-dataplane.ts`,
      connectToFirstByteMs: { oneVip: one, [`${VIPS}Vips`]: many },
      applyMs: {
        [`dummy ${VIPS} addresses, one ip -batch`]: dummyApplyMs,
        [`nft ${VIPS}-entry map, one nft -f`]: nftApplyMs,
        'dummy one more address': oneMoreDummyMs,
      },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await world.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
