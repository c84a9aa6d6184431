import { createHash } from 'node:crypto';
import { sanitizeDomain, sanitizeLabel } from '../../../lib';
import { dnsSubdomainReason, labelKeyReason, labelValueReason } from '../../validate/names';

/**
 * Names for what the Mesos source writes. Object names must be RFC 1123 subdomains; Mesos ids
 * (`prod_web.4f1b…`, agent `…-S7`) often are not. `objectNameFor` keeps a valid id as it is, and
 * otherwise sanitises it and adds a short hash of the original, so names are stable (the same id
 * always gives the same name) and distinct ids never share one. The original id stays in the spec
 * (`Task.spec.id`) or a label.
 *
 * Where a Mesos name becomes a DNS label in the spec (framework, port names) the Mesos-DNS rules
 * apply, from lib/mesos-labels.ts — the same code DNS uses.
 */

const MAX_LABEL = 63;
const MAX_NAME = 253;
const HASH_LENGTH = 8;

/** Mesos-DNS `spec(name)` (RFC 1123): one DNS label from any text; may be empty. */
export function mesosLabel(input: string): string {
  return sanitizeLabel(input);
}

/** Mesos-DNS `DomainFrag`: sanitise each dot-separated piece, drop empty ones, keep the dots. */
export function mesosDomainFrag(input: string): string {
  return sanitizeDomain(input);
}

/** 8 hex characters of SHA-256: enough to keep sanitised ids apart, short enough to read. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_LENGTH);
}

function trimDashes(text: string): string {
  return text.replace(/^-+/, '').replace(/-+$/, '');
}

function sanitizedLabels(id: string): string[] {
  return id
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .split('.')
    .map((label) => trimDashes(trimDashes(label).slice(0, MAX_LABEL)))
    .filter((label) => label.length > 0);
}

/** `head-<hash>` or, keeping the tail after the last `-`, `head-<hash>-<tail>`, within 63 characters. */
function hashedLabel(last: string, hash: string, keepTail: boolean): string {
  const dash = keepTail ? last.lastIndexOf('-') : -1;
  const tail = dash > 0 ? last.slice(dash + 1).slice(0, 20) : '';
  const head = dash > 0 ? last.slice(0, dash) : last;
  const suffix = tail === '' ? hash : `${hash}-${tail}`;
  const room = MAX_LABEL - suffix.length - 1;
  const cut = trimDashes(head.slice(0, Math.max(room, 0)));
  return cut === '' ? suffix : `${cut}-${suffix}`;
}

export interface ObjectNameOptions {
  /**
   * Keep the part after the last `-` at the end of the name (Node names for agents: DNS takes the
   * canonical name's `agentTail` — `s7` of `…-S7` — from the node name).
   */
  readonly keepTail?: boolean;
}

/** A valid, stable, collision-free object name for an outside id (see the file comment). */
export function objectNameFor(id: string, options: ObjectNameOptions = {}): string {
  if (id.length > 0 && dnsSubdomainReason(id) === undefined) return id;
  const labels = sanitizedLabels(id);
  const last = hashedLabel(labels.pop() ?? '', shortHash(id), options.keepTail === true);
  let prefix = labels.join('.');
  const room = MAX_NAME - last.length - 1;
  if (prefix.length > room) prefix = sanitizedLabels(prefix.slice(0, room)).join('.');
  return prefix === '' ? last : `${prefix}.${last}`;
}

/** True when `key: value` is a valid Kubernetes label (what the state accepts in `labels`). */
export function isValidLabel(key: string, value: string): boolean {
  return labelKeyReason(key) === undefined && labelValueReason(value) === undefined;
}
