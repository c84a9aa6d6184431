/**
 * A synthetic but realistic cluster for the DNS benchmarks: Marathon apps (some in groups, so
 * they also get Mesos-DNS legacy dotted names), ~10 tasks per app spread over the agents, 70%
 * ip-per-container and 30% port-mapped, one or two named ports per task, and one Service per app
 * (90% with a VIP and a named VIP, 10% headless). Every address is in 198.18.0.0/15.
 * Pure and deterministic: the same arguments give the same objects.
 */
import type { StoredObject, TaskSpec } from '../../state';

export interface ClusterShape {
  readonly tasks: number;
  readonly services: number;
  readonly nodes: number;
}

/** 198.18.0.0 + offset, dotted. Offsets 1–2047 are agents, 4096+ tasks, 110000+ VIPs. */
export function benchAddress(offset: number): string {
  const v = 0xc6120000 + offset;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function appName(a: number): string {
  // One app in four lives in a group (`prod/web-12` → `web-12-prod` and legacy `web-12.prod`).
  return a % 4 === 0 ? `prod/web-${a}` : `app-${a}`;
}

export function benchNode(i: number, revision = i + 1): StoredObject<'Node'> {
  return {
    kind: 'Node',
    name: `agent-${i}`,
    labels: {},
    revision,
    createRevision: revision,
    spec: { address: benchAddress(1 + i) },
  };
}

export function benchTaskSpec(i: number, shape: ClusterShape, generation = 0): TaskSpec {
  const app = appName(i % shape.services);
  const mapped = i % 10 >= 7;
  const ports: TaskSpec['ports'] = [
    {
      name: 'http',
      containerPort: 8080,
      protocol: 'tcp',
      ...(mapped ? { hostPort: 20000 + (i % 10000) } : {}),
    },
  ];
  if (i % 3 === 0)
    ports.push({
      name: 'metrics',
      containerPort: 9090 + (generation % 100),
      protocol: 'tcp',
      ...(mapped ? { hostPort: 30000 + (i % 10000) } : {}),
    });
  return {
    id: `${app.replace(/\//g, '_')}.${i.toString(16).padStart(8, '0')}-task`,
    app,
    framework: 'marathon',
    node: `agent-${i % shape.nodes}`,
    state: 'running',
    health: 'healthy',
    networkMode: mapped ? 'port-mapped' : 'ip-per-container',
    ips: mapped ? [] : [benchAddress(4096 + i)],
    ports,
  };
}

export function benchTask(
  i: number,
  shape: ClusterShape,
  revision: number,
  generation = 0,
): StoredObject<'Task'> {
  const spec = benchTaskSpec(i, shape, generation);
  return {
    kind: 'Task',
    name: `task-${i}`,
    namespace: 'default',
    labels: { app: spec.app.replace(/\//g, '-') },
    revision,
    createRevision: revision,
    spec,
  };
}

export function benchService(a: number, revision: number): StoredObject<'Service'> {
  const headless = a % 10 === 9;
  const app = appName(a);
  return {
    kind: 'Service',
    name: app.replace(/\//g, '-'),
    namespace: 'default',
    labels: {},
    revision,
    createRevision: revision,
    spec: {
      selector: { app },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'tcp' }],
      ...(headless ? { headless: true } : { vip: { name: `/${app}`, address: benchAddress(110000 + a) } }),
    },
  };
}

export function benchNetwork(revision = 1): StoredObject<'Network'> {
  return {
    kind: 'Network',
    name: 'default',
    labels: {},
    revision,
    createRevision: revision,
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
}

export interface BenchCluster {
  readonly tasks: StoredObject<'Task'>[];
  readonly services: StoredObject<'Service'>[];
  readonly nodes: StoredObject<'Node'>[];
  readonly networks: StoredObject<'Network'>[];
}

export function buildCluster(shape: ClusterShape): BenchCluster {
  let revision = 1;
  const networks = [benchNetwork(revision++)];
  const nodes = Array.from({ length: shape.nodes }, (_, i) => benchNode(i, revision++));
  const services = Array.from({ length: shape.services }, (_, a) => benchService(a, revision++));
  const tasks = Array.from({ length: shape.tasks }, (_, i) => benchTask(i, shape, revision++));
  return { tasks, services, nodes, networks };
}
