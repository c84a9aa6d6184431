import { join } from 'node:path';
import { createMemoryStore, startStateServer, type StateApi, type StateServer } from '../../state';
import { World } from './world';

/**
 * A cluster of simulated hosts for the netns suites: one state store in the test process, served
 * over gRPC on a unix socket (reachable from every namespace through the filesystem), and one
 * agent per host namespace, each running `agent/main.ts` inside its host.
 */
export const TOKEN = 'netns-test-token-0123456789';
export const POD_CIDR = '198.18.0.0/16';
export const NODE_PREFIX = 26;

export interface HostHandle {
  name: string;
  ns: string;
  address: string;
  socket: string;
  dataDir: string;
  agent: Awaited<ReturnType<World['startAgent']>>;
}

export class Cluster {
  readonly world: World;
  readonly store: StateApi = createMemoryStore();
  server?: StateServer;
  readonly hosts = new Map<string, HostHandle>();

  constructor(tag: string) {
    this.world = new World(tag);
  }

  async start(hostNames: readonly string[]): Promise<void> {
    await this.store.apply({
      kind: 'Network',
      name: 'default',
      spec: {
        podCIDR: POD_CIDR,
        nodeSubnetPrefix: NODE_PREFIX,
        serviceCIDR: '198.19.240.0/20',
        dns: {
          mesosDomain: 'mesos',
          clusterDomain: 'cluster.local',
          vipDomain: 'l4lb.thisdcos.directory',
          upstreams: [],
        },
      },
    });
    const stateDir = join(this.world.dir, 'state');
    this.server = await startStateServer({
      api: this.store,
      token: TOKEN,
      grpc: { address: `unix://${stateDir}/state.sock` },
    });
    await this.world.addLan();
    await Promise.all(hostNames.map((name, i) => this.addHost(name, `198.19.0.${11 + i}`)));
  }

  agentConfig(name: string, address: string): Record<string, unknown> {
    const run = this.world.mkdir(`run-${name}`);
    return {
      nodeName: name,
      nodeAddress: address,
      state: { address: this.server?.grpcAddress, token: TOKEN },
      dataDir: join(this.world.dir, `data-${name}`),
      socketPath: join(run, 'cni.sock'),
      heartbeatIntervalMs: 2000,
      leaseTtlMs: 60_000,
    };
  }

  async addHost(name: string, address: string): Promise<HostHandle> {
    const ns = await this.world.addHost(name, address);
    const config = this.agentConfig(name, address);
    const agent = await this.world.startAgent(ns, config);
    const handle = { name, ns, address, socket: agent.socket, dataDir: String(config.dataDir), agent };
    this.hosts.set(name, handle);
    return handle;
  }

  /** SIGKILL (a crash) or SIGTERM the host's agent and start it again with the same config. */
  async restartAgent(name: string, signal: NodeJS.Signals): Promise<HostHandle> {
    const host = this.host(name);
    await this.world.stop(host.agent, signal);
    const agent = await this.world.startAgent(host.ns, this.agentConfig(name, host.address));
    const next = { ...host, agent, socket: agent.socket };
    this.hosts.set(name, next);
    return next;
  }

  host(name: string): HostHandle {
    const h = this.hosts.get(name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  async destroy(): Promise<void> {
    await this.world.destroy();
    await this.server?.close();
  }
}
