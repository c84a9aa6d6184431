import { writeFile } from 'node:fs/promises';
import {
  CniError,
  CniErrorCode,
  CommandError,
  compileContainerAttach,
  compileDetach,
  compileHostAttach,
  ipBatch,
  ipIn,
  randomMac,
  type CommandRunner,
  type HostLinks,
} from '../cni';

/**
 * The host side of the dataplane, run by the agent in its own network namespace: the node bridge,
 * the forwarding sysctls, and the veth pairs of containers (two `ip -batch` processes per ADD: one
 * here, one in the container's namespace through nsenter; one per DEL).
 */
export interface DataplaneOptions {
  run: CommandRunner;
  bridge: string;
  /** Writes one /proc/sys value (in this process's network namespace). */
  writeSysctl?: (path: string, value: string) => Promise<void>;
}

export interface Dataplane extends HostLinks {
  /** Creates the bridge if needed, puts `gatewayCidr` on it, brings it up; answers its MAC. */
  ensureBridge(gatewayCidr: string): Promise<string>;
}

const defaultSysctl = (path: string, value: string): Promise<void> => writeFile(`/proc/sys/${path}`, value);

function mapError(error: unknown, what: string): CniError {
  if (!(error instanceof CommandError))
    return new CniError(CniErrorCode.DATAPLANE, `${what} failed`, String(error));
  const text = error.stderr.trim();
  if (/File exists/.test(text)) {
    return new CniError(CniErrorCode.DUPLICATE, `${what}: the interface already exists`, text);
  }
  if (/Cannot open network namespace|No such file or directory|Invalid "netns" value/.test(text)) {
    return new CniError(
      CniErrorCode.UNKNOWN_CONTAINER,
      `${what}: the network namespace does not exist`,
      text,
    );
  }
  return new CniError(CniErrorCode.DATAPLANE, `${what} failed`, text);
}

interface IpLink {
  ifname: string;
  address?: string;
  master?: string;
}
interface IpAddr {
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

export function createDataplane(options: DataplaneOptions): Dataplane {
  const { run, bridge } = options;
  const sysctl = options.writeSysctl ?? defaultSysctl;

  async function linkInfo(name: string, netns?: string): Promise<IpLink | undefined> {
    const args = ['-j', 'link', 'show', 'dev', name];
    try {
      const { stdout } = netns === undefined ? await run('ip', args) : await run(...ipIn(netns, args));
      return (JSON.parse(stdout) as IpLink[])[0];
    } catch {
      return undefined;
    }
  }

  return {
    async ensureBridge(gatewayCidr) {
      const lines: string[] = [];
      if ((await linkInfo(bridge)) === undefined) lines.push(`link add ${bridge} type bridge`);
      lines.push(`addr replace ${gatewayCidr} dev ${bridge}`, `link set ${bridge} up`);
      await ipBatch(run, lines);
      await sysctl('net/ipv4/ip_forward', '1');
      // DNAT of 127.0.0.1:<hostPort> must be routable out of the bridge.
      await sysctl(`net/ipv4/conf/${bridge}/route_localnet`, '1');
      const info = await linkInfo(bridge);
      return info?.address ?? '';
    },

    async attach(input) {
      const spec = { ...input, bridge, hostMac: randomMac(), containerMac: randomMac() };
      try {
        await ipBatch(run, compileHostAttach(spec));
      } catch (error) {
        throw mapError(error, `creating ${input.ifname} in ${input.netns}`);
      }
      try {
        await ipBatch(run, compileContainerAttach(spec), input.netns);
      } catch (error) {
        await ipBatch(run, compileDetach(input.hostIf)).catch(() => undefined);
        throw mapError(error, `configuring ${input.ifname} in ${input.netns}`);
      }
      return { hostIf: input.hostIf, hostMac: spec.hostMac, containerMac: spec.containerMac };
    },

    async detach(hostIf) {
      try {
        await ipBatch(run, compileDetach(hostIf));
      } catch (error) {
        if (error instanceof CommandError && /Cannot find device/.test(error.stderr)) return;
        throw mapError(error, `deleting ${hostIf}`);
      }
    },

    async check(input) {
      const host = await linkInfo(input.hostIf);
      if (host === undefined)
        throw new CniError(CniErrorCode.CHECK_FAILED, `host veth ${input.hostIf} is missing`);
      if (host.master !== bridge)
        throw new CniError(CniErrorCode.CHECK_FAILED, `host veth ${input.hostIf} is not on bridge ${bridge}`);
      let addrs: IpAddr[];
      try {
        const { stdout } = await run(...ipIn(input.netns, ['-j', 'addr', 'show', 'dev', input.ifname]));
        addrs = JSON.parse(stdout) as IpAddr[];
      } catch (error) {
        throw new CniError(
          CniErrorCode.CHECK_FAILED,
          `${input.ifname} is missing in ${input.netns}`,
          String((error as Error).message),
        );
      }
      const [ip, prefix] = input.address.split('/');
      const has = (addrs[0]?.addr_info ?? []).some((a) => a.local === ip && String(a.prefixlen) === prefix);
      if (!has)
        throw new CniError(
          CniErrorCode.CHECK_FAILED,
          `${input.ifname} in ${input.netns} lacks ${input.address}`,
        );
    },
  };
}
