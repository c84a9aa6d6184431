import type { NetworkSpec, NodeSpec, ServiceSpec, StoredObject, TaskSpec, VipSpec } from '../../state';

/** Fixture builders for dns tests (would live in test/helpers/ once that room exists). */
let revision = 0;

export function nextRevision(): number {
  revision += 1;
  return revision;
}

export function network(dns: Partial<NetworkSpec['dns']> = {}, name = 'default'): StoredObject<'Network'> {
  const rev = nextRevision();
  return {
    kind: 'Network',
    name,
    labels: {},
    revision: rev,
    createRevision: rev,
    spec: {
      podCIDR: '198.18.0.0/16',
      nodeSubnetPrefix: 24,
      serviceCIDR: '198.19.0.0/16',
      dns: {
        mesosDomain: 'mesos',
        clusterDomain: 'cluster.local',
        vipDomain: 'l4lb.thisdcos.directory',
        upstreams: [],
        ...dns,
      },
    },
  };
}

export function node(
  name: string,
  address: string,
  spec: Partial<NodeSpec> = {},
  labels: Record<string, string> = {},
): StoredObject<'Node'> {
  const rev = nextRevision();
  return { kind: 'Node', name, labels, revision: rev, createRevision: rev, spec: { address, ...spec } };
}

/** A VIP object as the VIP controller writes it: named `<name>.<framework>`, one tcp port 80 by default. */
export function vip(
  name: string,
  framework: string,
  address: string,
  spec: Partial<VipSpec> = {},
): StoredObject<'VIP'> {
  const rev = nextRevision();
  return {
    kind: 'VIP',
    name: `${name}.${framework}`,
    labels: {},
    revision: rev,
    createRevision: rev,
    spec: {
      name,
      framework,
      address,
      ports: [{ port: 80, protocol: 'tcp', mode: 'tcp' }],
      backends: [],
      owners: [],
      ...spec,
    },
  };
}

export function task(
  name: string,
  spec: Partial<TaskSpec> = {},
  meta: { namespace?: string; labels?: Record<string, string> } = {},
): StoredObject<'Task'> {
  const rev = nextRevision();
  return {
    kind: 'Task',
    name,
    namespace: meta.namespace ?? 'default',
    labels: meta.labels ?? {},
    revision: rev,
    createRevision: rev,
    spec: {
      app: 'web',
      framework: 'marathon',
      node: 'node-s1',
      state: 'running',
      health: 'healthy',
      networkMode: 'ip-per-container',
      ips: [],
      ports: [],
      ...spec,
    },
  };
}

export function service(
  name: string,
  spec: Partial<ServiceSpec> = {},
  meta: { namespace?: string; labels?: Record<string, string> } = {},
): StoredObject<'Service'> {
  const rev = nextRevision();
  return {
    kind: 'Service',
    name,
    namespace: meta.namespace ?? 'default',
    labels: meta.labels ?? {},
    revision: rev,
    createRevision: rev,
    spec: { selector: {}, ports: [], ...spec },
  };
}

/** The same object at a new revision with a changed spec. */
export function modified<K extends 'Task' | 'Service' | 'Node' | 'VIP'>(
  object: StoredObject<K>,
  spec: Partial<StoredObject<K>['spec']>,
): StoredObject<K> {
  return { ...object, revision: nextRevision(), spec: { ...object.spec, ...spec } } as StoredObject<K>;
}
