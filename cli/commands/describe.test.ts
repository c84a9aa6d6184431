import { createMemoryStore, validateInput, type ObjectInput } from '../../state';
import { describeVip } from './describe';

// Addresses come from the benchmarking range: tasks in 198.18.0.0/16, VIPs in 198.19.0.0/16.
const NOW = Date.parse('2024-05-01T12:00:00Z');

function task(name: string, health: string, draining = false): ObjectInput {
  return validateInput({
    kind: 'Task',
    name,
    labels: { app: 'web' },
    spec: {
      app: 'web',
      framework: 'marathon',
      node: 'node-1',
      state: 'running',
      health,
      draining,
      networkMode: 'host',
    },
  });
}

describe('describeVip', () => {
  it('shows the address, ports, owners and each backend with its weight and health', async () => {
    const store = createMemoryStore();
    await store.apply(task('web.1', 'healthy'));
    await store.apply(task('web.2', 'unhealthy', true));
    const lines = await describeVip(
      store,
      {
        name: 'web',
        framework: 'marathon',
        address: '198.19.18.121',
        ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }],
        backends: [
          {
            task: 'Task/default/web.1',
            vipPort: 80,
            protocol: 'tcp',
            address: '198.18.255.1',
            port: 31000,
            weight: 1,
          },
          {
            task: 'Task/default/web.2',
            vipPort: 80,
            protocol: 'tcp',
            address: '198.18.255.2',
            port: 31001,
            weight: 0,
          },
          {
            task: 'Task/default/web.3',
            vipPort: 80,
            protocol: 'tcp',
            address: 'fd00::3',
            port: 8080,
            weight: 0,
          },
        ],
        owners: [{ kind: 'app', namespace: 'default', name: 'web', source: 'VIP_0' }],
      },
      NOW,
    );
    await store.close();
    expect(lines.join('\n')).toBe(
      [
        'Address:      198.19.18.121',
        'Ports:        80/tcp',
        'Owners:       app default/web (VIP_0)',
        'Backends:     1/3 taking new connections',
        '  PORT     BACKEND              WEIGHT   STATE/HEALTH                   TASK',
        '  80/tcp   198.18.255.1:31000   1        running/healthy                Task/default/web.1',
        '  80/tcp   198.18.255.2:31001   0        running/unhealthy (draining)   Task/default/web.2',
        '  80/tcp   [fd00::3]:8080       0        <gone>                         Task/default/web.3',
      ].join('\n'),
    );
  });

  it('says when a VIP without owners will be released', async () => {
    const store = createMemoryStore();
    const lines = await describeVip(
      store,
      {
        name: 'web',
        framework: 'marathon',
        address: '198.19.18.121',
        ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }],
        backends: [],
        owners: [],
        releaseAt: '2024-05-01T12:04:00Z',
      },
      NOW,
    );
    await store.close();
    expect(lines).toEqual([
      'Address:      198.19.18.121',
      'Ports:        80/tcp',
      'Owners:       <none>',
      'Released:     2024-05-01T12:04:00Z (in 4m), unless an owner returns',
      'Backends:     <none>',
    ]);
  });
});
