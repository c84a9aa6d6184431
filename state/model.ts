/**
 * The cluster state model (DESIGN.md "The state model"). Every object is an envelope —
 * kind, name, optional namespace, labels, store-assigned revisions — around a kind-specific spec.
 * These types are what every consumer (dns/, lb/, vip/, agent/, cli/) reads.
 */

export const KINDS = ['Network', 'Node', 'Task', 'Service', 'Policy', 'VIP'] as const;
export type Kind = (typeof KINDS)[number];

/** Network, Node and VIP are cluster-wide; the rest live in a namespace (default `default`). */
export const CLUSTER_SCOPED: ReadonlySet<Kind> = new Set<Kind>(['Network', 'Node', 'VIP']);
export const DEFAULT_NAMESPACE = 'default';

/** URL and CLI names: `/v1/tasks`, `switchyard get tasks`. */
export const KIND_PLURALS: Readonly<Record<Kind, string>> = {
  Network: 'networks',
  Node: 'nodes',
  Task: 'tasks',
  Service: 'services',
  Policy: 'policies',
  VIP: 'vips',
};

export type Labels = Readonly<Record<string, string>>;

// ---- specs -------------------------------------------------------------------------------------

export interface NetworkSpec {
  /** e.g. 10.244.0.0/16: node subnets are carved from it. */
  podCIDR: string;
  /** Prefix length of each node's subnet, longer than podCIDR's (e.g. 24). */
  nodeSubnetPrefix: number;
  /** e.g. 10.96.0.0/12: VIP (ClusterIP) addresses come from it. */
  serviceCIDR: string;
  dns: {
    /** Mesos-DNS domain, default `mesos`. */
    mesosDomain: string;
    /** Kubernetes-style zone, default `cluster.local`. */
    clusterDomain: string;
    /** DC/OS named-VIP zone, default `l4lb.thisdcos.directory`. */
    vipDomain: string;
    /** Upstream resolvers (`ip` or `ip:port`); empty means /etc/resolv.conf. */
    upstreams: string[];
  };
}

export interface NodeSpec {
  /** The host's address other hosts route pod traffic through. */
  address: string;
  /** The leased pod subnet (a `nodeSubnetPrefix` slice of the pod CIDR), once leased. */
  podSubnet?: string;
  /** Lease expiry, RFC 3339; renewed by the agent's heartbeat. */
  leaseExpiresAt?: string;
  /** Last heartbeat, RFC 3339. */
  heartbeatAt?: string;
  /** A node being drained gets no new tasks. */
  unschedulable?: boolean;
}

export const TASK_STATES = [
  'staging',
  'starting',
  'running',
  'killing',
  'finished',
  'failed',
  'killed',
  'lost',
] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const TASK_HEALTH = ['healthy', 'unhealthy', 'unknown'] as const;
export type TaskHealth = (typeof TASK_HEALTH)[number];
export const NETWORK_MODES = ['ip-per-container', 'port-mapped', 'host'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];
export const PROTOCOLS = ['tcp', 'udp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface TaskPort {
  name?: string;
  containerPort: number;
  /** Set in port-mapped and host modes. */
  hostPort?: number;
  protocol: Protocol;
  /** Port labels, e.g. `VIP_0: /web:80` (DC/OS style). */
  labels?: Record<string, string>;
}

export interface TaskSpec {
  /** The scheduler's task id (Mesos task id, pod uid); defaults to the object name. */
  id?: string;
  /** The app (Marathon app id without the leading slash, or a workload name). */
  app: string;
  /** The framework (`marathon`, `kubernetes`, …). */
  framework: string;
  /** The Node object name the task runs on. */
  node: string;
  state: TaskState;
  health: TaskHealth;
  /** Set by operators (or a scheduler) to stop new traffic while open connections finish. */
  draining?: boolean;
  networkMode: NetworkMode;
  /** Task addresses (container IPs in ip-per-container mode; may be empty before the network is up). */
  ips: string[];
  ports: TaskPort[];
  /** When the task started, RFC 3339. */
  startedAt?: string;
}

export interface ServicePort {
  name?: string;
  /** The port clients use (on the VIP, or the proxy frontend). */
  port: number;
  /** The task port: a number, or the name of a task port. Defaults to `port`. */
  targetPort?: number | string;
  protocol: Protocol;
  /** L7 (`http`) or L4 (`tcp`) on the proxy. Defaults to `tcp`. */
  mode?: 'http' | 'tcp';
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** Kubernetes-style selector: all of matchLabels and matchExpressions must hold. */
export interface SelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface HealthCheckSpec {
  type: 'http' | 'tcp';
  path?: string;
  intervalMs?: number;
  timeoutMs?: number;
  rise?: number;
  fall?: number;
}

export interface ServiceSpec {
  /** Which tasks back the service: by app id, by labels, or both (all must match). */
  selector: { app?: string } & SelectorSpec;
  ports: ServicePort[];
  /** No VIP: DNS answers with the ready endpoints. */
  headless?: boolean;
  vip?: { name?: string; address?: string };
  loadBalancing?: {
    algorithm?: 'round-robin' | 'least-connections' | 'consistent-hash';
    hashOn?: 'cookie' | 'client-ip';
    healthCheck?: HealthCheckSpec;
  };
  ingress?: IngressRule[];
}

export interface IngressRule {
  host?: string;
  path: string;
  pathType: 'Exact' | 'Prefix';
  /** The service port (number or name) to send matching requests to. */
  port: number | string;
}

export interface PolicyPeer {
  taskSelector?: SelectorSpec;
  namespaceSelector?: SelectorSpec;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface PolicyPort {
  protocol: Protocol;
  port?: number;
  endPort?: number;
}

export interface PolicyRule {
  peers?: PolicyPeer[];
  ports?: PolicyPort[];
}

/** Kubernetes NetworkPolicy semantics. */
export interface PolicySpec {
  taskSelector: SelectorSpec;
  policyTypes: Array<'Ingress' | 'Egress'>;
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

/** A port a VIP serves: clients connect to `address:port`. Unique per protocol. */
export interface VipPort {
  port: number;
  protocol: Protocol;
  /** L4 (`tcp`, the default; VIP labels are always tcp) or L7 (`http`, from a Service port). */
  mode: 'tcp' | 'http';
}

/** One backend of one VIP port. */
export interface VipBackend {
  /** The task's object key, `Task/<namespace>/<name>`. */
  task: string;
  /** The VIP port (and protocol) this backend serves; one of `spec.ports`. */
  vipPort: number;
  protocol: Protocol;
  /** Where to send: the task IP (ip-per-container) or the node address (port-mapped, host). */
  address: string;
  /** The container port (ip-per-container) or the host port (port-mapped, host). */
  port: number;
  /**
   * 1 for a running, not unhealthy, not draining task; 0 (no new connections, existing ones
   * finish — DC/OS l4lb semantics) for unhealthy, draining, killing, staging and starting tasks.
   */
  weight: number;
}

/** Who asked for a VIP: an app's port label (`VIP_0: /web:80`) or a Service's `spec.vip.name`. */
export interface VipOwner {
  kind: 'app' | 'service';
  namespace: string;
  /** The app id (Task.spec.app) or the Service name. */
  name: string;
  /** The port label key (`VIP_0`) for apps; `spec.vip` for Services. */
  source: string;
}

/**
 * A named (or IP) VIP, written by the VIP controller (vip/), read by DNS, the proxy and the agent.
 * The object name is `<name>.<framework>` (e.g. `web.marathon`), so one (name, framework) pair
 * is one object and one address.
 *
 * A type alias (not an interface) so it has an implicit index signature: code that handles any
 * spec as a Record<string, unknown> (state/sources) keeps type-checking.
 */
export type VipSpec = {
  /** The VIP name as a DNS name: `/mygroup/myapp` → `mygroupmyapp` (DC/OS `domain_frag`). */
  name: string;
  /**
   * Task VIPs: the task's framework (`marathon`). Service VIPs: `<namespace>.svc`, or the
   * Service's `switchyard.io/framework` label. IP VIPs (`VIP_0: 198.19.0.10:80`): `ip.vip`.
   */
  framework: string;
  /** From a Network's serviceCIDR; never its network or broadcast address. */
  address: string;
  ports: VipPort[];
  backends: VipBackend[];
  owners: VipOwner[];
  /** Set when the last owner is gone (RFC 3339); the VIP is deleted once this time has passed. */
  releaseAt?: string;
};

export interface SpecOf {
  Network: NetworkSpec;
  Node: NodeSpec;
  Task: TaskSpec;
  Service: ServiceSpec;
  Policy: PolicySpec;
  VIP: VipSpec;
}

// ---- envelopes -----------------------------------------------------------------------------------

/** What a writer sends: no revisions (the store assigns them). */
export interface ObjectInput<K extends Kind = Kind> {
  kind: K;
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  spec: SpecOf[K];
}

/** What the store holds and returns. Treat as immutable: stores and caches share these objects. */
export interface StoredObject<K extends Kind = Kind> {
  readonly kind: K;
  readonly name: string;
  /** Present (defaulted to `default`) for namespaced kinds, absent for cluster-scoped ones. */
  readonly namespace?: string;
  readonly labels: Labels;
  /** The store revision of the last change to this object. */
  readonly revision: number;
  /** The store revision at which this object was created. */
  readonly createRevision: number;
  readonly spec: Readonly<SpecOf[K]>;
}

export interface ObjectRef {
  kind: Kind;
  name: string;
  namespace?: string;
}

/** The store key of an object: `Kind/name` or `Kind/namespace/name`. */
export function objectKey(ref: ObjectRef): string {
  if (CLUSTER_SCOPED.has(ref.kind)) return `${ref.kind}/${ref.name}`;
  return `${ref.kind}/${ref.namespace ?? DEFAULT_NAMESPACE}/${ref.name}`;
}

export function isKind(value: unknown): value is Kind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}

/** Accepts `Task`, `task`, `tasks` (CLI and URL spellings); undefined when unknown. */
export function kindFromName(name: string): Kind | undefined {
  const lower = name.toLowerCase();
  for (const kind of KINDS) {
    if (kind.toLowerCase() === lower || KIND_PLURALS[kind] === lower) return kind;
  }
  return undefined;
}
