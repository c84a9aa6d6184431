import type { ObjectInput, StoredObject } from '../../model';
import { planSync, sameValue } from './plan';

function stored(input: ObjectInput, revision: number): StoredObject {
  return { ...input, labels: input.labels ?? {}, revision, createRevision: revision } as StoredObject;
}

const node = (name: string, address: string, extra: object = {}): ObjectInput<'Node'> => ({
  kind: 'Node',
  name,
  labels: { 'switchyard.io/source': 'mesos' },
  spec: { address, ...extra },
});

const task = (name: string, health = 'healthy'): ObjectInput =>
  ({
    kind: 'Task',
    name,
    namespace: 'default',
    labels: { 'switchyard.io/source': 'mesos' },
    spec: {
      app: name,
      framework: 'marathon',
      node: 'n1',
      state: 'running',
      health,
      networkMode: 'host',
      ips: [],
      ports: [],
    },
  }) as ObjectInput;

describe('planSync', () => {
  it.each([
    {
      desc: 'nothing owned: create all, Nodes first',
      desired: [task('t1'), node('n1', '198.18.1.1')],
      owned: [],
      expected: { applies: ['create Node/n1@0', 'create Task/t1@0'], deletes: [], unchanged: 0 },
    },
    {
      desc: 'unchanged objects are not written',
      desired: [node('n1', '198.18.1.1'), task('t1')],
      owned: [stored(node('n1', '198.18.1.1'), 1), stored(task('t1'), 2)],
      expected: { applies: [], deletes: [], unchanged: 2 },
    },
    {
      desc: 'a changed spec is updated at its revision',
      desired: [node('n1', '198.18.1.1'), task('t1', 'unhealthy')],
      owned: [stored(node('n1', '198.18.1.1'), 1), stored(task('t1'), 2)],
      expected: { applies: ['update Task/t1@2'], deletes: [], unchanged: 1 },
    },
    {
      desc: 'vanished objects are deleted, Tasks before Nodes',
      desired: [],
      owned: [stored(node('n1', '198.18.1.1'), 1), stored(task('t1'), 2)],
      expected: { applies: [], deletes: ['Task/t1@2', 'Node/n1@1'], unchanged: 0 },
    },
    {
      desc: "another writer's fields (a node lease) are kept, not counted as a change",
      desired: [node('n1', '198.18.1.1')],
      owned: [
        stored(
          node('n1', '198.18.1.1', { podSubnet: '198.18.4.0/24', heartbeatAt: '2024-01-01T00:00:00Z' }),
          1,
        ),
      ],
      expected: { applies: [], deletes: [], unchanged: 1 },
    },
  ])('$desc', ({ desired, owned, expected }) => {
    const plan = planSync(desired, owned);
    expect({
      applies: plan.applies.map((a) => `${a.op} ${a.input.kind}/${a.input.name}@${a.expectedRevision}`),
      deletes: plan.deletes.map((d) => `${d.ref.kind}/${d.ref.name}@${d.expectedRevision}`),
      unchanged: plan.unchanged,
    }).toEqual(expected);
  });

  it('an address change keeps the lease in the update', () => {
    const plan = planSync(
      [node('n1', '198.18.1.2')],
      [stored(node('n1', '198.18.1.1', { podSubnet: '198.18.4.0/24' }), 1)],
    );
    expect(plan.applies[0]?.input.spec).toEqual({ address: '198.18.1.2', podSubnet: '198.18.4.0/24' });
  });

  it('keeps an owned object the source could not express this time', () => {
    const plan = planSync([], [stored(task('t1'), 2)], new Set(['Task/default/t1']));
    expect(plan.deletes).toEqual([]);
  });

  it.each([
    {
      desc: 'key order does not matter',
      a: { x: 1, y: [1, { z: 2 }] },
      b: { y: [1, { z: 2 }], x: 1 },
      same: true,
    },
    { desc: 'an undefined key is absent', a: { x: 1, y: undefined }, b: { x: 1 }, same: true },
    { desc: 'array order matters', a: [1, 2], b: [2, 1], same: false },
    { desc: 'an array is not an object', a: [], b: {}, same: false },
  ])('sameValue: $desc', ({ a, b, same }) => {
    expect(sameValue(a, b)).toBe(same);
  });
});
