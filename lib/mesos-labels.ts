/**
 * Mesos-DNS name sanitisation (records/labels/labels.go; reference/dns.md §1.4), shared by the DNS
 * server (dns/) and the Mesos source (state/sources/mesos), which must agree on every name.
 */
export type LabelSpec = 'rfc1123' | 'rfc952';

export const LABEL_LIMITS: Readonly<Record<LabelSpec, { max: number; left: string; right: string }>> = {
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
  const limits = LABEL_LIMITS[spec];
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
