import { createRegistry } from '../lib';
import type { ObjectInput } from '../state';
import { createInformer } from '../state';
import { createMemoryStore } from '../state';
import { startDnsServer } from './start';
import { dig } from './testing/dig';
import { eventually } from '../test/helpers/eventually';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const networkInput: ObjectInput = {
  kind: 'Network',
  name: 'default',
  spec: {
    podCIDR: '198.18.0.0/16',
    nodeSubnetPrefix: 24,
    serviceCIDR: '198.19.0.0/16',
    dns: {
      mesosDomain: 'mesos',
      clusterDomain: 'cluster.local',
      vipDomain: 'l4lb.thisdcos.directory',
      upstreams: [],
    },
  },
};
const nodeInput: ObjectInput = { kind: 'Node', name: 'node-s1', spec: { address: '198.18.1.1' } };

function taskInput(name: string, ip: string): ObjectInput {
  return {
    kind: 'Task',
    name,
    namespace: 'default',
    spec: {
      app: 'api',
      framework: 'marathon',
      node: 'node-s1',
      state: 'running',
      health: 'healthy',
      networkMode: 'ip-per-container',
      ips: [ip],
      ports: [],
    },
  };
}

describe('following a real memory store through a real informer', () => {
  it('a task applied to the store is answered; deleted, it is NXDOMAIN', async () => {
    const store = createMemoryStore();
    cleanups.push(() => store.close());
    await store.apply(networkInput);
    await store.apply(nodeInput);
    const informer = createInformer({ api: store });
    cleanups.push(() => informer.stop());
    const registry = createRegistry();
    const server = await startDnsServer({ port: 0, httpPort: 0, informer, forwarding: false, registry });
    cleanups.push(() => server.close());
    await eventually(() => expect(server.ready()).toBe(true));

    await store.apply(taskInput('api-1', '198.18.5.1'));
    const answered = await eventually(async () => {
      const result = await dig(server.udpAddress.port, ['api.marathon.mesos', 'A']);
      expect(result.answer).toEqual(['api.marathon.mesos. 5 IN A 198.18.5.1']);
      return result;
    });
    expect(answered.status).toBe('NOERROR');

    await store.delete({ kind: 'Task', name: 'api-1', namespace: 'default' });
    await eventually(async () => {
      const result = await dig(server.udpAddress.port, ['api.marathon.mesos', 'A']);
      expect(result.status).toBe('NXDOMAIN');
    });
    const lag = await registry.getSingleMetricAsString('switchyard_dns_sync_lag_seconds');
    expect(lag).toMatch(/switchyard_dns_sync_lag_seconds \d/);
  });

  it('is not ready, and answers SERVFAIL, until the first sync', async () => {
    let release: () => void = () => undefined;
    const informer = {
      start: () => new Promise<void>((resolve) => (release = resolve)),
      hasSynced: () => false,
      list: () => [],
      subscribe: () => () => undefined,
    };
    const server = await startDnsServer({ port: 0, httpPort: 0, informer, forwarding: false });
    cleanups.push(() => server.close());
    const ready = await fetch(`http://127.0.0.1:${server.httpAddress?.port}/readyz`);
    expect(ready.status).toBe(503);
    expect((await dig(server.udpAddress.port, ['leader.mesos', 'A'])).status).toBe('SERVFAIL');
    release();
    await eventually(async () =>
      expect((await fetch(`http://127.0.0.1:${server.httpAddress?.port}/readyz`)).status).toBe(200),
    );
    expect((await dig(server.udpAddress.port, ['nope.mesos', 'A'])).status).toBe('NXDOMAIN');
  });
});
