import type { Logger } from '../lib';
import { CommandError, type CommandRunner } from '../cni';
import { createInformer, type Informer, type StateApi } from '../state';
import type { AgentMetrics } from './metrics';
import { createSerialRunner } from './serial';
import { compileVipAddresses, diffVipAddresses, parseAddressList } from './vips';

/**
 * Keeps the VIP addresses on the host's VIP interface in line with the VIP objects in the state:
 * an informer on kind VIP → compile → diff against what is on the interface → one `ip -batch`.
 * The interface is a dummy the agent creates (a bridge without ports where the kernel has no dummy
 * driver); it is read back after a restart, so stale addresses go, and deleted on close.
 */
export interface VipBinderOptions {
  api: StateApi;
  run: CommandRunner;
  ifname: string;
  log: Logger;
  metrics: AgentMetrics;
  signal: AbortSignal;
  /** After a failed apply, try again after this long (default 1 s). */
  retryMs?: number;
}

export interface VipBinder {
  idle(): Promise<void>;
  /** Stops following the state and deletes the interface with every VIP address on it. */
  close(): Promise<void>;
}

async function ensureLink(run: CommandRunner, ifname: string, log: Logger): Promise<void> {
  const exists = await run('ip', ['-j', 'link', 'show', 'dev', ifname]).then(
    () => true,
    () => false,
  );
  if (!exists) {
    try {
      await run('ip', ['link', 'add', ifname, 'type', 'dummy']);
    } catch (error) {
      if (!(error instanceof CommandError) || !/Unknown device type|not supported/i.test(error.stderr))
        throw error;
      // A kernel built without CONFIG_DUMMY: a bridge without ports holds local addresses as well.
      await run('ip', ['link', 'add', ifname, 'type', 'bridge']);
      log.info({ ifname }, 'No dummy interface driver; VIP addresses go on a bridge without ports');
    }
  }
  await run('ip', ['link', 'set', ifname, 'up']);
}

/** Starts following VIP objects; resolves once the first set is applied (or failed and scheduled). */
export async function startVipBinder(o: VipBinderOptions): Promise<VipBinder> {
  const { run, ifname, log, metrics } = o;
  let applied: Set<string> | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const informer: Informer = createInformer({ api: o.api, kind: 'VIP', logger: log, signal: o.signal });
  const runner = createSerialRunner(async () => {
    if (closed) return;
    if (applied === undefined) {
      await ensureLink(run, ifname, log);
      applied = parseAddressList((await run('ip', ['-j', 'addr', 'show', 'dev', ifname])).stdout);
    }
    const next = new Set(compileVipAddresses(informer.list()).keys());
    const lines = diffVipAddresses(applied, next, ifname);
    if (lines.length > 0) await run('ip', ['-force', '-batch', '-'], lines.join('\n') + '\n');
    applied = next;
    metrics.vipAddresses.set(next.size);
  });
  const request = (): void => {
    runner.request().catch((error: unknown) => {
      metrics.applyErrors.inc({ what: 'vips' });
      applied = undefined; // read back what is really there next time
      log.warn({ err: error }, 'Applying VIP addresses failed; retrying');
      if (closed || retry) return;
      retry = setTimeout(() => {
        retry = undefined;
        request();
      }, o.retryMs ?? 1000);
      retry.unref();
    });
  };
  informer.subscribe(() => request());
  await informer.start();
  request();
  await runner.idle();
  return {
    idle: () => runner.idle(),
    async close() {
      closed = true;
      informer.stop();
      if (retry) clearTimeout(retry);
      await runner.idle();
      await run('ip', ['link', 'del', ifname]).catch(() => undefined);
      metrics.vipAddresses.set(0);
    },
  };
}
