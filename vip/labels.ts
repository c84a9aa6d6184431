import { formatIp, parseIp } from '../lib';
import type { Protocol, StoredObject, TaskPort } from '../state';
import { VIP_ERROR_CODES, VipError } from './errors';
import { vipDnsName } from './names';

/**
 * DC/OS VIP port labels (reference lb.md §2.5, dns.md §5.3): any port label whose key starts with
 * `VIP` or `vip` (`VIP_0`, `VIP_1`, `vip_web`), valued `/name:port` (a named VIP) or `ip:port`
 * (an IP VIP; `[v6]:port` too). The value is split at the LAST colon, so `fd00::1:80` is the IPv6
 * address `fd00::1` and port 80. The protocol is the task port's.
 */
export type VipLabel =
  | {
      readonly kind: 'named';
      readonly key: string;
      readonly name: string;
      readonly port: number;
      readonly protocol: Protocol;
    }
  | {
      readonly kind: 'ip';
      readonly key: string;
      readonly address: string;
      readonly port: number;
      readonly protocol: Protocol;
    };

export function isVipLabelKey(key: string): boolean {
  return key.startsWith('VIP') || key.startsWith('vip');
}

const FORMAT = 'must be "/name:port" (a named VIP) or "ip:port" (an IP VIP)';
/** Dotted decimals only, or anything with a colon left of the port: meant as an address. */
const LOOKS_LIKE_IPV4 = /^[0-9.]+$/;

/** Parses one label; throws VipError SY_VIP_BAD_LABEL naming the key (field) and the reason. */
export function parseVipLabel(key: string, value: string, protocol: Protocol): VipLabel {
  const bad = (reason: string): VipError =>
    new VipError(VIP_ERROR_CODES.BAD_LABEL, `port label ${key}=${JSON.stringify(value)}: ${reason}`, {
      field: key,
      reason,
    });
  const colon = value.lastIndexOf(':');
  if (colon < 0) throw bad(`${FORMAT}; there is no ":port"`);
  const left = value.slice(0, colon);
  const portText = value.slice(colon + 1);
  const port = parsePort(portText);
  if (port === undefined) {
    throw bad(`the port after the last ":" must be an integer 1-65535, got ${JSON.stringify(portText)}`);
  }
  if (left === '' || left === '/') throw bad(`${FORMAT}; the name before ":${port}" is empty`);
  const host = left.startsWith('[') && left.endsWith(']') ? left.slice(1, -1) : left;
  if (LOOKS_LIKE_IPV4.test(host) || host.includes(':')) {
    const address = canonicalIp(host);
    if (address === undefined) {
      const hint = host.includes(':') ? ' (an IPv6 VIP is "[address]:port" or "address:port")' : '';
      throw bad(`${JSON.stringify(host)} looks like an IP address but is not one${hint}`);
    }
    return { kind: 'ip', key, address, port, protocol };
  }
  if (/\s/.test(left)) throw bad(`the name ${JSON.stringify(left)} contains white space`);
  if (vipDnsName(left) === '') {
    throw bad(`the name ${JSON.stringify(left)} has no letters or digits to make a DNS name from`);
  }
  return { kind: 'named', key, name: left, port, protocol };
}

function parsePort(text: string): number | undefined {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  return port >= 1 && port <= 65535 ? port : undefined;
}

function canonicalIp(text: string): string | undefined {
  try {
    const ip = parseIp(text);
    return formatIp(ip.family, ip.value);
  } catch {
    return undefined;
  }
}

/** A VIP label found on a task, with the task port it sits on. */
export interface TaskVipLabel {
  readonly label: VipLabel;
  readonly taskPort: TaskPort;
}

/**
 * Every VIP label on a task's ports, in port then key order. Bad labels become problems (VipError
 * with `details.owner`, the task's key): never thrown, so one bad label cannot stop a compile.
 */
export function taskVipLabels(
  task: StoredObject<'Task'>,
  owner: string,
): {
  labels: TaskVipLabel[];
  problems: VipError[];
} {
  const labels: TaskVipLabel[] = [];
  const problems: VipError[] = [];
  for (const taskPort of task.spec.ports) {
    const portLabels = taskPort.labels;
    if (portLabels === undefined) continue;
    for (const key of Object.keys(portLabels).sort()) {
      const value = portLabels[key];
      if (!isVipLabelKey(key) || value === undefined) continue;
      try {
        labels.push({ label: parseVipLabel(key, value, taskPort.protocol), taskPort });
      } catch (err) {
        if (!(err instanceof VipError)) throw err;
        problems.push(
          new VipError(err.code, `${owner} ${err.message}`, {
            ...(err.field === undefined ? {} : { field: err.field }),
            ...(err.reason === undefined ? {} : { reason: err.reason }),
            details: { owner },
          }),
        );
      }
    }
  }
  return { labels, problems };
}
