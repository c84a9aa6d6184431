import crypto from 'node:crypto';

/**
 * Mesos-DNS name sanitisation (records/labels/labels.go), the canonical instance hash
 * (generator.go hashString: zbase32(sha1(taskID))[:5]) and the Marathon app-id → hostname rule
 * (PathId.toHostname: path segments reversed, joined with `.`). See reference/dns.md §1.2–1.4.
 */
export type LabelSpec = 'rfc1123' | 'rfc952';

const SPEC_LIMITS: Readonly<Record<LabelSpec, { max: number; left: string; right: string }>> = {
  rfc1123: { max: 63, left: '-', right: '-' },
  rfc952: { max: 24, left: '-0123456789', right: '-' },
};

/** Map each character: A–Z lower-cased, a–z 0–9 kept, `-._` → `-`, everything else dropped. */
function mapCharacters(input: string): string {
  let out = '';
  for (const ch of input) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) out += ch;
    else if (ch >= 'A' && ch <= 'Z') out += ch.toLowerCase();
    else if (ch === '-' || ch === '.' || ch === '_') out += '-';
  }
  return out;
}

function trimLeftSet(s: string, set: string): string {
  let i = 0;
  while (i < s.length && set.includes(s[i] as string)) i++;
  return s.slice(i);
}

function trimRightSet(s: string, set: string): string {
  let i = s.length;
  while (i > 0 && set.includes(s[i - 1] as string)) i--;
  return s.slice(0, i);
}

/** labels.go trimCut: runs of dashes at the cut point collapse and the label is refilled. */
export function trimCut(label: string, maxLength: number, leftSet: string, rightSet: string): string {
  const trimmed = trimLeftSet(label, leftSet);
  const size = Math.min(trimmed.length, maxLength);
  const head = trimRightSet(trimmed.slice(0, size), rightSet);
  if (head.length === size) return head;
  const tail = trimLeftSet(trimmed.slice(size), rightSet);
  return head + tail.slice(0, size - head.length);
}

/** One DNS label from any text, per the Mesos-DNS spec (RFC 1123 by default). */
export function sanitizeLabel(input: string, spec: LabelSpec = 'rfc1123', maxLength?: number): string {
  const limits = SPEC_LIMITS[spec];
  return trimCut(
    mapCharacters(input),
    Math.min(maxLength ?? limits.max, limits.max),
    limits.left,
    limits.right,
  );
}

/** labels.go DomainFrag: split on `.`, sanitise each piece, drop empty pieces, re-join (dots kept). */
export function sanitizeDomain(input: string, spec: LabelSpec = 'rfc1123'): string {
  return input
    .split('.')
    .map((piece) => sanitizeLabel(piece, spec))
    .filter((piece) => piece.length > 0)
    .join('.');
}

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
  const room = SPEC_LIMITS[spec].max - suffix.length;
  const head = trimCut(taskLabel, Math.max(room, 1), '', '-');
  return head + suffix;
}
