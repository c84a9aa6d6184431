import { randomBytes } from 'node:crypto';
import type { CniRoute } from './types';

/**
 * The veth + bridge wiring of one container as `ip -batch` lines (pure). The host side creates the
 * pair with its host end already enslaved and up and the container end placed in the netns; the
 * container side adds the address, brings the link up and adds the routes.
 */
export interface AttachSpec {
  hostIf: string;
  hostMac: string;
  bridge: string;
  netns: string;
  ifname: string;
  containerMac: string;
  /** `198.18.1.2/24`. */
  address: string;
  gateway: string;
  routes: readonly CniRoute[];
  mtu?: number;
  hairpin: boolean;
}

/** A locally administered unicast MAC. */
export function randomMac(random: (n: number) => Buffer = randomBytes): string {
  const b = random(6);
  b[0] = ((b[0] ?? 0) & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** ip -batch quoting: batch lines are split on blanks; refuse anything that would break a line. */
function word(value: string): string {
  if (!/^[A-Za-z0-9_.:/@%+=-]+$/.test(value))
    throw new Error(`unsafe value for ip batch: ${JSON.stringify(value)}`);
  return value;
}

export function compileHostAttach(spec: AttachSpec): string[] {
  const mtu = spec.mtu === undefined ? '' : ` mtu ${spec.mtu}`;
  const lines = [
    `link add ${word(spec.hostIf)} address ${word(spec.hostMac)}${mtu} master ${word(spec.bridge)} up type veth ` +
      `peer name ${word(spec.ifname)} address ${word(spec.containerMac)}${mtu} netns ${word(spec.netns)}`,
  ];
  if (spec.hairpin) lines.push(`link set ${spec.hostIf} type bridge_slave hairpin on`);
  return lines;
}

export function compileContainerAttach(spec: AttachSpec): string[] {
  const lines = [`addr add ${word(spec.address)} dev ${word(spec.ifname)}`, `link set ${spec.ifname} up`];
  for (const route of spec.routes) {
    const dst = route.dst === '0.0.0.0/0' ? 'default' : word(route.dst);
    lines.push(`route add ${dst} via ${word(route.gw ?? spec.gateway)} dev ${spec.ifname}`);
  }
  return lines;
}

/** The host-side lines that remove a container's veth pair (both ends go with it). */
export function compileDetach(hostIf: string): string[] {
  return [`link del ${word(hostIf)}`];
}
