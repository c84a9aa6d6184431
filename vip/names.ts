import { parseIp } from '../lib';
import { DEFAULT_NAMESPACE, type StoredObject } from '../state';

/**
 * How a VIP is named. A VIP is identified by (name, framework), both DNS names, and its object is
 * `<name>.<framework>` — the DC/OS `<vip>.<framework>.l4lb.thisdcos.directory` without the zone.
 */

/** The framework of IP VIPs (`VIP_0: 198.19.0.10:80`): dotted, so no task framework (a DNS label) can collide. */
export const IP_VIP_FRAMEWORK = 'ip.vip';

/** A Service label that puts its named VIP in a framework's namespace instead (`marathon`). */
export const SERVICE_FRAMEWORK_LABEL = 'switchyard.io/framework';

const MAX_LABEL = 63;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * DC/OS `mesos_state:domain_frag/1`: split on `.`, and per piece lower-case, map `-` and `_` to
 * `-`, drop every other character (so `/` vanishes), cut at 63; empty pieces are dropped.
 * `/mygroup/myapp` → `mygroupmyapp`, `/web` → `web`, `/My_App.v2` → `my-app.v2`. Unlike DC/OS,
 * leading and trailing `-` are trimmed so the result is always an RFC 1123 name (or empty).
 */
export function vipDnsName(raw: string): string {
  return raw
    .split('.')
    .map((piece) =>
      piece
        .toLowerCase()
        .replace(/[-_]/g, '-')
        .replace(/[^a-z0-9-]/g, '')
        .replace(/^-+/, '')
        .slice(0, MAX_LABEL)
        .replace(/-+$/, ''),
    )
    .filter((piece) => piece !== '')
    .join('.');
}

/** The VIP object name: `web.marathon`, `web.prod.svc`, `198-19-0-10.ip.vip`. */
export function vipObjectName(name: string, framework: string): string {
  return `${name}.${framework}`;
}

/** The name of an IP VIP: `198-19-0-10`, or the 32 hex digits of an IPv6 address. */
export function ipVipName(address: string): string {
  const ip = parseIp(address);
  return ip.family === 4 ? address.replace(/\./g, '-') : ip.value.toString(16).padStart(32, '0');
}

/**
 * The framework of a Service's named VIP: the Service's `switchyard.io/framework` label when it is
 * a DNS label (to share a DC/OS name such as `web.marathon` on purpose), else `<namespace>.svc` —
 * dotted, so Services in different namespaces never share a VIP and never collide with an app's.
 */
export function serviceVipFramework(service: StoredObject<'Service'>): {
  framework: string;
  problem?: string;
} {
  const namespaced = `${service.namespace ?? DEFAULT_NAMESPACE}.svc`;
  const label = service.labels[SERVICE_FRAMEWORK_LABEL];
  if (label === undefined) return { framework: namespaced };
  if (label.length <= MAX_LABEL && DNS_LABEL.test(label)) return { framework: label };
  return {
    framework: namespaced,
    problem: `label ${SERVICE_FRAMEWORK_LABEL}=${JSON.stringify(label)} is not a DNS label (lowercase letters, digits, "-"); using ${namespaced}`,
  };
}

/** Why a (name, framework) pair cannot make an object name, or undefined. */
export function objectNameProblem(name: string, framework: string): string | undefined {
  if (name === '') return 'has no letters or digits to make a DNS name from';
  const full = vipObjectName(name, framework);
  if (full.length > 253) return `makes the object name ${JSON.stringify(full)}, longer than 253 characters`;
  return undefined;
}
