import { readFile } from 'node:fs/promises';
import { invalidConfig } from './errors';
import { MesosStateFetcher, type FetcherOptions } from './fetch';
import type { MesosDnsSourceSettings } from './mesos-dns-config';
import { MesosSync, type MesosSyncOptions } from './sync';

/** Everything a Mesos source needs: where the masters are, how to read them, where to write. */
export interface MesosSourceOptions
  extends Omit<MesosSyncOptions, 'fetcher'>, Omit<FetcherOptions, 'masters'> {}

/**
 * The Mesos source, ready to `start()`: a fetcher following the leader among `masters`, and the
 * sync loop writing the differences into `api`. Nothing runs until `start()` (STYLE.md item 20).
 */
export function createMesosSource(options: MesosSourceOptions): MesosSync {
  const fetcher = new MesosStateFetcher(options);
  return new MesosSync({ ...options, fetcher });
}

async function pem(path: string | undefined, field: string): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw invalidConfig(field, `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The source options a Mesos-DNS config file means (reads its PEM files). Add `api`, `logger`, `registry`. */
export async function sourceOptionsFromMesosDns(
  settings: MesosDnsSourceSettings,
): Promise<Omit<MesosSourceOptions, 'api'>> {
  const ca = await pem(settings.tlsFiles?.caFile, 'CACertFile');
  const cert = await pem(settings.tlsFiles?.certFile, 'CertFile');
  const key = await pem(settings.tlsFiles?.keyFile, 'KeyFile');
  const tls = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
  return {
    masters: settings.masters,
    intervalMs: settings.intervalMs,
    stateTimeoutMs: settings.stateTimeoutMs,
    ipSources: settings.ipSources,
    https: settings.https,
    ...(Object.keys(tls).length === 0 ? {} : { tls }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
  };
}
