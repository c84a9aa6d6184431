import crypto from 'node:crypto';
import { LABEL_LIMITS, sanitizeLabel, trimCut, type LabelSpec } from '../lib';

export { sanitizeLabel, sanitizeDomain, trimCut, type LabelSpec } from '../lib';

/**
 * Mesos-DNS names: sanitisation lives in lib/mesos-labels.ts (shared with the Mesos source); here
 * the canonical instance hash
 * (generator.go hashString: zbase32(sha1(taskID))[:5]) and the Marathon app-id → hostname rule
 * (PathId.toHostname: path segments reversed, joined with `.`). See reference/dns.md §1.2–1.4.
 */

/** Marathon's PathId.toHostname: `/prod/db/mysql` → `mysql.db.prod`. */
export function appHostname(app: string): string {
  return app
    .split('/')
    .filter((segment) => segment.length > 0)
    .reverse()
    .join('.');
}

const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** zbase32 (MSB-first 5-bit groups, no padding) of the SHA-1 of `text`, first 5 characters. */
export function hash5(text: string): string {
  const digest = crypto.hash('sha1', text, 'buffer');
  // 5 characters = 25 bits: the first 4 bytes are enough.
  const bits = digest.readUInt32BE(0);
  let out = '';
  for (let i = 0; i < 5; i++) out += ZBASE32[(bits >>> (27 - i * 5)) & 31];
  return out;
}

/** generator.go slaveIDTail: the part of the agent id after the last `-`, lower-cased. */
export function agentTail(agentId: string): string {
  const dash = agentId.lastIndexOf('-');
  return agentId.slice(dash + 1).toLowerCase();
}

/**
 * The canonical per-instance label `T-<hash5>-<agentTail>`. Unlike Mesos-DNS (which can emit
 * 72-character labels, an illegal DNS label), the task part is shortened so the whole label fits.
 */
export function canonicalLabel(
  taskLabel: string,
  taskId: string,
  agentId: string,
  spec: LabelSpec,
  hash: string = hash5(taskId),
): string {
  const suffix = `-${hash}-${sanitizeLabel(agentTail(agentId), 'rfc1123') || 'x'}`;
  const room = LABEL_LIMITS[spec].max - suffix.length;
  const head = trimCut(taskLabel, Math.max(room, 1), '', '-');
  return head + suffix;
}
