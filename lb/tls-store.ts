import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from '../lib';
import { LbErrorCode } from './errors';
import {
  buildSniIndex,
  certificateUnits,
  lookupSni,
  parseCertificatePem,
  type CertificateUnit,
  type ParsedCertificate,
  type SniIndex,
} from './tls';

/** The oldest protocol a TLS frontend accepts (HAProxy's `ssl-min-ver` default since 2.2). */
export const TLS_MIN_VERSION = 'TLSv1.2';

/** A directory's certificates as one immutable artifact: the SNI index and the default's PEM. */
export interface LoadedCertificates {
  readonly index: SniIndex<tls.SecureContext>;
  /** The default certificate, for the server's own context (clients that send no SNI). */
  readonly fallback: { readonly cert: string; readonly key: string };
  /** Files loaded, in order; the first is the default. */
  readonly files: readonly string[];
}

interface ScanResult {
  readonly loaded: { readonly file: string; readonly certificate: ParsedCertificate }[];
  readonly failures: { readonly file: string; readonly reason: string }[];
}

/** Read and parse every certificate of `dir`; a file that fails is a failure, not an exception. */
export function scanCertificateDir(dir: string): ScanResult {
  const loaded: ScanResult['loaded'][number][] = [];
  const failures: ScanResult['failures'][number][] = [];
  for (const unit of certificateUnits(fs.readdirSync(dir))) {
    try {
      loaded.push({ file: unit.file, certificate: readUnit(dir, unit) });
    } catch (err) {
      failures.push({ file: unit.file, reason: (err as Error).message });
    }
  }
  return { loaded, failures };
}

function readUnit(dir: string, unit: CertificateUnit): ParsedCertificate {
  const certText = fs.readFileSync(path.join(dir, unit.file), 'utf8');
  const keyText =
    unit.keyFile === undefined ? certText : fs.readFileSync(path.join(dir, unit.keyFile), 'utf8');
  return parseCertificatePem(certText, keyText);
}

/**
 * The certificates of one directory, kept current: loaded on first use, reloaded when the directory
 * changes (fs.watch, debounced), swapped as one reference so a handshake sees the old set or the
 * new one. Connections already open keep the certificate they were made with. A file that does not
 * load is logged once (SY_LB_BAD_CERTIFICATE, with its name and reason) and skipped; a reload that
 * finds nothing loadable keeps the previous set.
 */
export class CertificateStore {
  private current: LoadedCertificates | undefined;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** File → the reason last logged, so a failure is logged once, and again only if it changes. */
  private logged = new Map<string, string>();
  /** Why the last reload found nothing to serve ('' after one that did): the bind error, or logged once. */
  private emptyReason = '';
  private readonly listeners = new Set<(loaded: LoadedCertificates) => void>();
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly logger: Logger,
    private readonly debounceMs = 200,
  ) {}

  /** The loaded set, loading (and starting to watch) first if needed; throws when nothing loads. */
  ensure(): LoadedCertificates {
    this.watch();
    if (this.current === undefined) this.reload();
    if (this.current === undefined) throw new Error(this.emptyReason);
    return this.current;
  }

  /** SNICallback: the context for a server name (the default certificate's for an unknown one). */
  contextFor(servername: string): tls.SecureContext | undefined {
    return this.current && lookupSni(this.current.index, servername);
  }

  /** Called after each reload that changed the set (the servers' default contexts follow). */
  onChange(listener: (loaded: LoadedCertificates) => void): void {
    this.listeners.add(listener);
  }

  /** Scan the directory now and swap the set in; keeps the old set when nothing loads. */
  reload(): void {
    let scan: ScanResult;
    try {
      scan = scanCertificateDir(this.dir);
    } catch (err) {
      this.reportEmpty(`cannot read ${this.dir}: ${(err as Error).message}`);
      return;
    }
    const failures = [...scan.failures];
    const contexts: { file: string; certificate: ParsedCertificate; context: tls.SecureContext }[] = [];
    for (const { file, certificate } of scan.loaded) {
      try {
        const context = tls.createSecureContext({
          cert: certificate.chain,
          key: certificate.key,
          minVersion: TLS_MIN_VERSION,
        });
        contexts.push({ file, certificate, context });
      } catch (err) {
        failures.push({ file, reason: (err as Error).message });
      }
    }
    this.reportFailures(failures);
    const index = buildSniIndex(contexts.map((c) => ({ names: c.certificate.names, value: c.context })));
    const first = contexts[0];
    if (index === undefined || first === undefined) {
      this.reportEmpty(
        `no loadable certificate in ${this.dir} (each *.pem needs a certificate chain and its private key; or name.crt + name.key)`,
      );
      return;
    }
    this.emptyReason = '';
    const loaded: LoadedCertificates = {
      index,
      fallback: { cert: first.certificate.chain, key: first.certificate.key },
      files: contexts.map((c) => c.file),
    };
    const previous = this.current;
    this.current = loaded;
    this.logger.info(
      {
        dir: this.dir,
        files: loaded.files,
        default: first.file,
        names: contexts.flatMap((c) => c.certificate.names),
      },
      'Certificates loaded',
    );
    if (previous !== undefined) for (const listener of this.listeners) listener(loaded);
  }

  private reportFailures(failures: ScanResult['failures']): void {
    const now = new Map<string, string>();
    for (const { file, reason } of failures) {
      now.set(file, reason);
      if (this.logged.get(file) === reason) continue;
      this.logger.error(
        { code: LbErrorCode.BAD_CERTIFICATE, file: path.join(this.dir, file), reason },
        `Certificate file ${file} skipped: ${reason}`,
      );
    }
    this.logged = now;
  }

  /** Nothing to serve: before the first load the bind failure says why; after it, log once and keep the old set. */
  private reportEmpty(reason: string): void {
    const first = this.emptyReason !== reason;
    this.emptyReason = reason;
    if (first && this.current !== undefined)
      this.logger.error(
        { dir: this.dir },
        `No certificate loaded: ${reason}; the previous certificates keep serving`,
      );
  }

  /** Watch the directory; a burst of changes (a file written in parts, a rename) is one reload. */
  private watch(): void {
    if (this.watcher !== undefined || this.closed) return;
    try {
      this.watcher = fs.watch(this.dir, { persistent: false }, () => this.scheduleReload());
    } catch {
      return; // no directory yet: ensure() tries again (the bind retry calls it)
    }
    this.watcher.on('error', (err) => {
      this.logger.warn({ err, dir: this.dir }, 'Certificate directory watch failed');
      this.watcher?.close();
      this.watcher = undefined;
      this.scheduleReload();
    });
  }

  private scheduleReload(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.watch();
      this.reload();
    }, this.debounceMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
