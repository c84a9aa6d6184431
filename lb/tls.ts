import { createPrivateKey, X509Certificate } from 'node:crypto';

/**
 * TLS certificates, the pure part (no file system): which files of a certificate directory make a
 * certificate, what a PEM text holds, and the SNI index a handshake is answered from. Modelled on
 * HAProxy's `bind :443 ssl crt <dir>`: every `*.pem` holds a certificate chain and its private key,
 * names come from the leaf certificate's SAN DNS entries (its CN when it has none), `*.example.org`
 * matches exactly one label, and the first file in sorted order is the default certificate (no SNI,
 * or a name no certificate has). `lb/tls-store.ts` reads the directory and watches it.
 */

/** One certificate in a directory listing: a `.pem` (chain + key), or `name.crt` (+ `name.key`). */
export interface CertificateUnit {
  /** The file the certificate is known by in logs and the default-certificate rule. */
  readonly file: string;
  /** Where the private key is; the certificate file itself when undefined. */
  readonly keyFile?: string;
}

/**
 * The certificates of a directory listing, sorted by file name: every `*.pem`, and every `*.crt`
 * with its `.key` sibling when there is one (a Kubernetes TLS secret's `tls.crt` + `tls.key`).
 * Hidden files (editors' and atomic writers' temporary files) and everything else are ignored.
 */
export function certificateUnits(fileNames: readonly string[]): CertificateUnit[] {
  const names = new Set(fileNames);
  const units: CertificateUnit[] = [];
  for (const file of [...fileNames].sort(compareNames)) {
    if (file.startsWith('.')) continue;
    if (file.endsWith('.pem')) units.push({ file });
    else if (file.endsWith('.crt')) {
      const keyFile = `${file.slice(0, -4)}.key`;
      units.push(names.has(keyFile) ? { file, keyFile } : { file });
    }
  }
  return units;
}

/** Byte order, as HAProxy's directory scan sorts (alphasort in the C locale). */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A certificate chain and its private key, checked to belong together. */
export interface ParsedCertificate {
  /** Lower-cased DNS names the leaf certificate is valid for (`*.example.org` for a wildcard). */
  readonly names: readonly string[];
  /** The chain as PEM, leaf first, as `tls.createSecureContext({ cert })` takes it. */
  readonly chain: string;
  /** The private key as PEM. */
  readonly key: string;
  /** The leaf's validity end, for logs. */
  readonly validTo: string;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/**
 * Parse the certificate chain in `certText` and the private key in `keyText` (the same text for a
 * `.pem` holding both). Throws an Error whose message is the reason the file is unusable: no
 * certificate, no key, an encrypted key, a block that does not parse, or a key that is not the
 * certificate's (`X509Certificate.checkPrivateKey`).
 */
export function parseCertificatePem(certText: string, keyText: string): ParsedCertificate {
  const blocks = certText.match(CERTIFICATE_BLOCK);
  if (!blocks) throw new Error('no PEM certificate (-----BEGIN CERTIFICATE-----)');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(blocks[0] as string);
    for (const block of blocks.slice(1)) new X509Certificate(block);
  } catch (err) {
    throw new Error(`a certificate does not parse: ${(err as Error).message}`);
  }
  const keyMatch = KEY_BLOCK.exec(keyText);
  if (!keyMatch) throw new Error('no PEM private key (-----BEGIN PRIVATE KEY-----)');
  if (keyMatch[1] === 'ENCRYPTED PRIVATE KEY') throw new Error('the private key is encrypted');
  let matches: boolean;
  try {
    matches = leaf.checkPrivateKey(createPrivateKey(keyMatch[0]));
  } catch (err) {
    throw new Error(`the private key does not parse: ${(err as Error).message}`);
  }
  if (!matches) throw new Error('the private key does not match the certificate');
  return {
    names: dnsNamesOf(leaf.subjectAltName, leaf.subject),
    chain: `${blocks.join('\n')}\n`,
    key: `${keyMatch[0]}\n`,
    validTo: leaf.validTo,
  };
}

/**
 * The DNS names of a certificate, from `X509Certificate.subjectAltName` (`DNS:a, DNS:*.b, IP
 * Address:…`) or, when it has no DNS entry, from the subject's CN (`CN=a\nO=…`). Lower-cased,
 * without a trailing dot; quoted (escaped) entries are not host names and are left out.
 */
export function dnsNamesOf(subjectAltName: string | undefined, subject: string): string[] {
  const names: string[] = [];
  for (const entry of (subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:') && !entry.includes('"')) names.push(normalise(entry.slice(4)));
  }
  if (names.length > 0) return names;
  const cn = subject.split('\n').find((line) => line.startsWith('CN='));
  return cn === undefined || cn.includes('"') ? [] : [normalise(cn.slice(3))];
}

function normalise(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Which value (a secure context) answers a handshake: exact name, then one-label wildcard, then the default. */
export interface SniIndex<T> {
  readonly exact: ReadonlyMap<string, T>;
  /** `*.example.org` → keyed by `example.org`. */
  readonly wildcards: ReadonlyMap<string, T>;
  /** The first certificate: clients without SNI, or with a name nobody has. */
  readonly fallback: T;
}

/**
 * Index certificates (in the order given: the directory's sorted order) by name; the first
 * certificate that names a host keeps it. Undefined when there is no certificate at all.
 */
export function buildSniIndex<T>(
  certificates: readonly { readonly names: readonly string[]; readonly value: T }[],
): SniIndex<T> | undefined {
  const first = certificates[0];
  if (first === undefined) return undefined;
  const exact = new Map<string, T>();
  const wildcards = new Map<string, T>();
  for (const { names, value } of certificates) {
    for (const name of names) {
      const target = name.startsWith('*.') ? wildcards : exact;
      const key = name.startsWith('*.') ? name.slice(2) : name;
      if (!target.has(key)) target.set(key, value);
    }
  }
  return { exact, wildcards, fallback: first.value };
}

/** The value for a server name a client sent (any case, maybe a trailing dot); the default without one. */
export function lookupSni<T>(index: SniIndex<T>, servername: string | undefined): T {
  if (!servername) return index.fallback;
  const name = normalise(servername);
  const exact = index.exact.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  if (dot <= 0) return index.fallback;
  return index.wildcards.get(name.slice(dot + 1)) ?? index.fallback;
}
