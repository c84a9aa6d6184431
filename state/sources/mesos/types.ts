/**
 * The small internal shape the Mesos source reads from a master's state endpoint (`/master/state`,
 * the v0 JSON): only the fields the conversion uses, already typed and defaulted by decode.ts.
 * Everything else in the (often many-megabyte) document is ignored.
 */

/** Where task IPs may come from, in the configured order (Mesos-DNS `IPSources`). */
export const IP_SOURCES = ['netinfo', 'mesos', 'docker', 'host'] as const;
export type IpSource = (typeof IP_SOURCES)[number];
/** Mesos-DNS's default order (records/config.go NewConfig). */
export const DEFAULT_IP_SOURCES: readonly IpSource[] = ['netinfo', 'mesos', 'host'];

export interface MesosLabel {
  readonly key: string;
  readonly value: string;
}

export interface MesosNetworkInfo {
  /** `ip_addresses[].ip_address` (Mesos ≥ 0.26), else the single legacy `ip_address` (0.25). */
  readonly ipAddresses: readonly string[];
}

export interface MesosStatus {
  readonly state: string;
  /** Seconds since the epoch (a float); statuses are not ordered in the document. */
  readonly timestamp: number;
  /** Set only when the task has a health check and it has reported. */
  readonly healthy?: boolean;
  readonly labels: readonly MesosLabel[];
  readonly networkInfos: readonly MesosNetworkInfo[];
}

export interface MesosPortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol?: string;
}

export interface MesosDiscoveryPort {
  readonly number: number;
  readonly name: string;
  readonly protocol: string;
  readonly labels: readonly MesosLabel[];
}

export interface MesosDiscovery {
  readonly name: string;
  readonly ports: readonly MesosDiscoveryPort[];
}

export interface MesosTask {
  readonly id: string;
  readonly name: string;
  readonly frameworkId: string;
  readonly agentId: string;
  /** `TASK_RUNNING`, `TASK_KILLED`, … */
  readonly state: string;
  readonly statuses: readonly MesosStatus[];
  /** Expanded from the `resources.ports` range string `[31000-31001, 31005-31005]`. */
  readonly resourcePorts: readonly number[];
  readonly labels: readonly MesosLabel[];
  /** Present only when DiscoveryInfo has a non-empty name (Mesos-DNS `HasDiscoveryInfo`). */
  readonly discovery?: MesosDiscovery;
  /** Docker `port_mappings` and Mesos containerizer `network_infos[].port_mappings`. */
  readonly portMappings: readonly MesosPortMapping[];
}

export interface MesosFramework {
  readonly id: string;
  readonly name: string;
  /** libprocess PID of the scheduler, `scheduler-1@198.18.0.10:15101`. */
  readonly pid?: string;
  readonly hostname?: string;
  readonly tasks: readonly MesosTask[];
}

export interface MesosAgent {
  readonly id: string;
  /** `slave(1)@198.18.1.7:5051`: the host part is the agent address Mesos-DNS uses. */
  readonly pid: string;
  readonly hostname?: string;
}

export interface MesosState {
  /** The leading master's PID, `master@198.18.0.10:5050` (from `leader`, else `leader_info.pid`). */
  readonly leader: string;
  readonly agents: readonly MesosAgent[];
  readonly frameworks: readonly MesosFramework[];
  /** Entries decode.ts skipped (not objects, no id…), for the logs. */
  readonly skipped: readonly string[];
}

/** A host and port, as in a master list entry or a PID. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** What one successful fetch returns: the leader's state plus the lookups conversion needs. */
export interface FetchedState {
  readonly state: MesosState;
  /** The master that answered (`host:port`), i.e. the leader. */
  readonly leader: string;
  /** The state path that worked: `/master/state` or `/master/state.json`. */
  readonly path: string;
  /** Host names seen in PIDs and the master list, resolved to addresses (IP literals are not listed). */
  readonly resolved: Readonly<Record<string, readonly string[]>>;
}
