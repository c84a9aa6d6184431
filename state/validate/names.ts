/**
 * Name rules shared by object validation and label selectors. Each check returns the reason a value
 * is refused, or undefined when it is fine, so callers attach their own field path.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes "qualified name" part: alphanumerics at both ends, `-`, `_`, `.` inside. */
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export const MAX_SUBDOMAIN_LENGTH = 253;
export const MAX_LABEL_LENGTH = 63;

/** RFC 1123 label (`web`, `prod-eu`): what a namespace or a port name must be. */
export function dnsLabelReason(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_LABEL_LENGTH) {
    return `must be at most ${MAX_LABEL_LENGTH} characters, got ${value.length}`;
  }
  if (DNS_LABEL.test(value)) return undefined;
  return `${describeBadName(value, '')} (RFC 1123 label), got ${JSON.stringify(value)}`;
}

/** RFC 1123 subdomain (`web.4f1b-9c`): what every object name must be. */
export function dnsSubdomainReason(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_SUBDOMAIN_LENGTH) {
    return `must be at most ${MAX_SUBDOMAIN_LENGTH} characters, got ${value.length}`;
  }
  for (const part of value.split('.')) {
    if (part.length > MAX_LABEL_LENGTH) {
      return `each dot-separated part must be at most ${MAX_LABEL_LENGTH} characters, got ${part.length}`;
    }
    if (!DNS_LABEL.test(part)) {
      return `${describeBadName(value, '.')} (RFC 1123 subdomain), got ${JSON.stringify(value)}`;
    }
  }
  return undefined;
}

/** Kubernetes label key: `[prefix/]name`, the prefix a DNS subdomain, the name a qualified name. */
export function labelKeyReason(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0) return `label key ${JSON.stringify(key)} has an empty prefix before "/"`;
    const prefixReason = dnsSubdomainReason(prefix);
    if (prefixReason !== undefined) return `label key prefix ${JSON.stringify(prefix)} ${prefixReason}`;
  }
  if (name.length === 0) return `label key ${JSON.stringify(key)} has an empty name`;
  if (name.length > MAX_LABEL_LENGTH) {
    return `label key name must be at most ${MAX_LABEL_LENGTH} characters, got ${name.length}`;
  }
  if (!QUALIFIED_NAME.test(name)) {
    return (
      `label key ${JSON.stringify(key)} must be letters, digits, "-", "_" and "." ` +
      'starting and ending with a letter or digit, with an optional "prefix/"'
    );
  }
  return undefined;
}

/** Kubernetes label value: empty, or a qualified name of at most 63 characters. */
export function labelValueReason(value: string): string | undefined {
  if (value.length === 0) return undefined;
  if (value.length > MAX_LABEL_LENGTH) {
    return `label value must be at most ${MAX_LABEL_LENGTH} characters, got ${value.length}`;
  }
  if (QUALIFIED_NAME.test(value)) return undefined;
  return (
    `label value ${JSON.stringify(value)} must be letters, digits, "-", "_" and "." ` +
    'starting and ending with a letter or digit'
  );
}

/** The most helpful single complaint about a name that failed the RFC 1123 pattern. */
function describeBadName(value: string, allowedSeparator: string): string {
  if (/[A-Z]/.test(value)) return 'must be lowercase';
  const bad = [...value].find((ch) => !/[a-z0-9-]/.test(ch) && ch !== allowedSeparator);
  if (bad !== undefined) {
    const allowed = allowedSeparator === '.' ? 'letters, digits, "-" and "."' : 'letters, digits and "-"';
    return `must contain only lowercase ${allowed}, found ${JSON.stringify(bad)}`;
  }
  if (allowedSeparator === '.' && (value.includes('..') || value.startsWith('.') || value.endsWith('.'))) {
    return 'must not have an empty dot-separated part';
  }
  return 'must start and end with a letter or digit';
}
