import type { StoredObject, VipSpec } from '../../state';
import { columnsFor, formatVipBackends, formatVipPorts } from './columns';
import { renderTable } from './table';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function vip(name: string, spec: Partial<VipSpec>): StoredObject<'VIP'> {
  const [vipName = '', ...framework] = name.split('.');
  return {
    kind: 'VIP',
    name,
    labels: {},
    revision: 7,
    createRevision: 3,
    spec: {
      name: vipName,
      framework: framework.join('.'),
      address: '198.19.18.121',
      ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }],
      backends: [],
      owners: [],
      ...spec,
    },
  };
}

const backend = (task: string, weight: number, vipPort = 80) =>
  ({ task, vipPort, protocol: 'tcp', address: '198.18.1.2', port: 8080, weight }) as const;

describe('VIP columns', () => {
  it.each([
    { desc: 'no backends', spec: {}, expected: '0/0' },
    {
      desc: 'all taking connections',
      spec: { backends: [backend('Task/default/web.1', 1), backend('Task/default/web.2', 1)] },
      expected: '2/2',
    },
    {
      desc: 'an unhealthy one at weight 0',
      spec: { backends: [backend('Task/default/web.1', 1), backend('Task/default/web.2', 0)] },
      expected: '1/2',
    },
    {
      desc: 'a task counted once across ports, healthy if any port takes connections',
      spec: {
        ports: [
          { port: 80, protocol: 'tcp', mode: 'tcp' },
          { port: 443, protocol: 'tcp', mode: 'tcp' },
        ],
        backends: [
          backend('Task/default/web.1', 1),
          backend('Task/default/web.1', 1, 443),
          backend('Task/default/web.2', 0, 443),
        ],
      },
      expected: '1/2',
    },
    {
      desc: 'released after the grace period',
      spec: { releaseAt: '2024-05-01T12:04:00Z' },
      expected: '0/0 (released in 4m)',
    },
  ] as const)('BACKENDS: $desc → $expected', ({ spec, expected }) => {
    expect(formatVipBackends(vip('web.marathon', spec as Partial<VipSpec>).spec, NOW)).toBe(expected);
  });

  it.each([
    { desc: 'one port', ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }], expected: '80/tcp' },
    {
      desc: 'protocols and http mode',
      ports: [
        { port: 53, protocol: 'udp', mode: 'tcp' },
        { port: 8080, protocol: 'tcp', mode: 'http' },
      ],
      expected: '53/udp,8080/tcp (http)',
    },
    { desc: 'none', ports: [], expected: '<none>' },
  ] as const)('PORTS: $desc', ({ ports, expected }) => {
    expect(formatVipPorts(ports)).toBe(expected);
  });

  it('renders `get vips` as NAME, ADDRESS, PORTS, BACKENDS', () => {
    const cols = columnsFor('VIP');
    const rows = [
      vip('api.prod.svc', {
        address: '198.19.74.188',
        ports: [{ port: 443, protocol: 'tcp', mode: 'http' }],
      }),
      vip('web.marathon', { backends: [backend('Task/default/web.1', 1), backend('Task/default/web.2', 0)] }),
    ].map((o) => cols.cells(o, { now: NOW }));
    expect(renderTable(cols.headers, rows)).toBe(
      [
        'NAME           ADDRESS         PORTS            BACKENDS',
        'api.prod.svc   198.19.74.188   443/tcp (http)   0/0',
        'web.marathon   198.19.18.121   80/tcp           1/2',
        '',
      ].join('\n'),
    );
  });
});
