import { runCni, type CniEnv } from '../envelope';
import { CniError, CniErrorCode } from '../errors';
import type { AttachmentRecord, HostIpam, PluginHost } from '../host';
import { attachmentId, type AttachmentKey } from '../types';
import { ipamHandlers } from '../ipam/commands';
import { pluginHandlers } from './commands';

/** A fake host that records what the commands asked of it, in order. */
function fakeHost(
  options: { attachFails?: boolean; natFails?: boolean } = {},
): PluginHost & { log: string[]; records: Map<string, AttachmentRecord> } {
  const records = new Map<string, AttachmentRecord>();
  const releasing = new Set<string>();
  const log: string[] = [];
  let next = 2;
  const ipam: HostIpam = {
    get: (k: AttachmentKey) => records.get(attachmentId(k)),
    list: () => [...records.values()],
    async reserve(input, requested) {
      const ip = requested ?? `198.18.1.${next++}`;
      const record = { ...input, ip, createdAt: '2026-01-01T00:00:00.000Z' };
      records.set(attachmentId(input), record);
      log.push(`reserve ${ip}`);
      return record;
    },
    markReleasing: (k) => void releasing.add(attachmentId(k)),
    async release(k) {
      const r = records.get(attachmentId(k));
      records.delete(attachmentId(k));
      log.push(`release ${r?.ip ?? 'none'}`);
      return r;
    },
  };
  return {
    log,
    records,
    network: () => ({
      subnet: '198.18.1.0/26',
      prefix: 26,
      gateway: '198.18.1.1',
      podCIDR: '198.18.0.0/16',
      bridge: 'sy0',
      bridgeMac: '02:00:00:00:00:01',
    }),
    status: () => undefined,
    ipam,
    links: {
      async attach(input) {
        log.push(`attach ${input.hostIf} ${input.address}`);
        if (options.attachFails)
          throw new CniError(CniErrorCode.UNKNOWN_CONTAINER, 'the network namespace does not exist');
        return { hostIf: input.hostIf, hostMac: '02:00:00:00:00:02', containerMac: '02:00:00:00:00:03' };
      },
      async detach(hostIf) {
        log.push(`detach ${hostIf}`);
      },
      async check() {
        log.push('check');
      },
    },
    async syncNat() {
      log.push(
        `nat ${[...records.values()]
          .filter((r) => !releasing.has(attachmentId(r)))
          .flatMap((r) => r.portMappings.map((m) => m.hostPort))
          .join(',')}`,
      );
      if (options.natFails) throw new CniError(CniErrorCode.DATAPLANE, 'nft failed');
    },
  };
}

const env = (command: string, id = 'c1'): CniEnv => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: id,
  CNI_NETNS: '/run/netns/p1',
  CNI_IFNAME: 'eth0',
});
const conf = (extra: object = {}): string =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: 'switchyard-cni', ...extra });
const mapped = { runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80 }] } };

describe('switchyard-cni commands', () => {
  it('ADD answers interfaces, the address and a default route via the gateway', async () => {
    const host = fakeHost();
    const out = await runCni(env('ADD'), conf(), pluginHandlers(host));
    const json = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'sy0', mac: '02:00:00:00:00:01' },
        { name: expect.stringMatching(/^sy[0-9a-f]{12}$/), mac: '02:00:00:00:00:02' },
        { name: 'eth0', mac: '02:00:00:00:00:03', sandbox: '/run/netns/p1' },
      ],
      ips: [{ interface: 2, address: '198.18.1.2/26', gateway: '198.18.1.1' }],
      routes: [{ dst: '0.0.0.0/0', gw: '198.18.1.1' }],
      dns: {},
    });
  });

  it.each([
    {
      desc: 'attach fails: the address is released, the error keeps its code',
      opts: { attachFails: true },
      extra: {},
      code: 3,
    },
    {
      desc: 'NAT fails: veth removed, NAT re-synced without it, address released',
      opts: { natFails: true },
      extra: mapped,
      code: 104,
    },
  ])('ADD rolls back when $desc', async ({ opts, extra, code }) => {
    const host = fakeHost(opts);
    const out = await runCni(env('ADD'), conf(extra), pluginHandlers(host));
    expect(JSON.parse(out.stdout)).toMatchObject({ code });
    expect(host.records.size).toBe(0);
    expect(host.log.at(-1)).toBe('release 198.18.1.2');
  });

  it('a second ADD of the same attachment is refused (102)', async () => {
    const host = fakeHost();
    await runCni(env('ADD'), conf(), pluginHandlers(host));
    expect(JSON.parse((await runCni(env('ADD'), conf(), pluginHandlers(host))).stdout)).toMatchObject({
      code: 102,
    });
  });

  it('a host port held by another container is refused (105)', async () => {
    const host = fakeHost();
    await runCni(env('ADD', 'a'), conf(mapped), pluginHandlers(host));
    const out = await runCni(env('ADD', 'b'), conf(mapped), pluginHandlers(host));
    expect(JSON.parse(out.stdout)).toMatchObject({
      code: 105,
      msg: 'host ports already mapped: tcp/8080 (held by 198.18.1.2)',
    });
  });

  it('a requested address outside the node subnet is invalid config (7)', async () => {
    const out = await runCni(
      { ...env('ADD'), CNI_ARGS: 'IP=198.18.2.9' },
      conf(),
      pluginHandlers(fakeHost()),
    );
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 7 });
  });

  it('DEL removes port mappings, then the veth, then releases the address; again is a no-op', async () => {
    const host = fakeHost();
    await runCni(env('ADD'), conf(mapped), pluginHandlers(host));
    host.log.length = 0;
    expect(await runCni({ ...env('DEL'), CNI_NETNS: '' }, conf(mapped), pluginHandlers(host))).toEqual({
      exitCode: 0,
      stdout: '',
    });
    expect(host.log).toEqual(['nat ', expect.stringMatching(/^detach sy/), 'release 198.18.1.2']);
    expect(await runCni(env('DEL'), conf(), pluginHandlers(host))).toEqual({ exitCode: 0, stdout: '' });
  });

  it('GC removes attachments missing from cni.dev/valid-attachments, only of its network', async () => {
    const host = fakeHost();
    await runCni(env('ADD', 'keep'), conf(), pluginHandlers(host));
    await runCni(env('ADD', 'stale'), conf(), pluginHandlers(host));
    await runCni(
      env('ADD', 'other'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'net2' }),
      pluginHandlers(host),
    );
    const gc = JSON.stringify({
      cniVersion: '1.1.0',
      name: 'net1',
      'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }],
    });
    expect((await runCni({ CNI_COMMAND: 'GC' }, gc, pluginHandlers(host))).exitCode).toBe(0);
    expect([...host.records.values()].map((r) => r.containerId).sort()).toEqual(['keep', 'other']);
  });

  it('CHECK fails (103) when prevResult does not list the reserved address', async () => {
    const host = fakeHost();
    await runCni(env('ADD'), conf(), pluginHandlers(host));
    const prev = conf({ prevResult: { cniVersion: '1.0.0', ips: [{ address: '198.18.1.9/26' }] } });
    expect(JSON.parse((await runCni(env('CHECK'), prev, pluginHandlers(host))).stdout)).toMatchObject({
      code: 103,
    });
  });

  it('STATUS reports 50 while the agent has no subnet', async () => {
    const host = {
      ...fakeHost(),
      status: () => {
        throw new CniError(CniErrorCode.NOT_READY, 'not ready');
      },
    };
    const out = await runCni(
      { CNI_COMMAND: 'STATUS' },
      JSON.stringify({ cniVersion: '1.1.0', name: 'n' }),
      pluginHandlers(host),
    );
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 50 });
  });
});

describe('switchyard-ipam commands', () => {
  it('ADD answers the abbreviated IPAM result with gateway-bearing routes', async () => {
    const out = await runCni(
      env('ADD'),
      JSON.stringify({ cniVersion: '0.4.0', name: 'n', type: 'bridge', ipam: { type: 'switchyard-ipam' } }),
      ipamHandlers(fakeHost()),
    );
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: '0.4.0',
      ips: [{ version: '4', address: '198.18.1.2/26', gateway: '198.18.1.1' }],
      routes: [{ dst: '198.18.0.0/16', gw: '198.18.1.1' }],
      dns: {},
    });
  });
  it('DEL is idempotent and CHECK fails after it', async () => {
    const host = fakeHost();
    const c = JSON.stringify({ cniVersion: '1.0.0', name: 'n', ipam: { type: 'switchyard-ipam' } });
    await runCni(env('ADD'), c, ipamHandlers(host));
    expect((await runCni(env('DEL'), c, ipamHandlers(host))).exitCode).toBe(0);
    expect((await runCni(env('DEL'), c, ipamHandlers(host))).exitCode).toBe(0);
    expect(JSON.parse((await runCni(env('CHECK'), c, ipamHandlers(host))).stdout)).toMatchObject({
      code: 103,
    });
  });
});
