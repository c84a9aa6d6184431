import http from 'node:http';
import net from 'node:net';
import type { CheckResult } from './backend-state';
import type { HealthCheckConfig } from './route-table';

/**
 * Active health checks, HAProxy style: one loop per backend, a check every `intervalMs`, each
 * bounded by `timeoutMs`. HTTP checks GET `path` and pass on 2xx/3xx; TCP checks pass on connect.
 * The checker only reports results; the rise/fall arithmetic is `applyCheckResult`.
 */

export interface CheckTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly config: HealthCheckConfig;
}

/** Reports a result; returns true while the backend is between states (a rise or fall streak). */
export type CheckReporter = (id: string, result: CheckResult) => boolean | void;

/**
 * HAProxy's `fastinter`: while a backend is between states (it passed once on its way UP, or
 * failed once on its way DOWN) it is checked this much more often, so a new task takes traffic
 * within one interval of its first passing check instead of `rise` intervals.
 */
export const FAST_INTERVAL_DIVISOR = 4;

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'ERROR';
}

function tcpCheck(target: CheckTarget, started: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const finish = (ok: boolean, detail: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, at: started, durationMs: Date.now() - started, detail });
    };
    const timer = setTimeout(() => finish(false, 'L4TOUT'), target.config.timeoutMs);
    socket.once('connect', () => finish(true, 'L4OK'));
    socket.once('error', (err) => finish(false, `L4CON ${errorCode(err)}`));
  });
}

function httpCheck(target: CheckTarget, started: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean, detail: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ ok, at: started, durationMs: Date.now() - started, detail });
    };
    const request = http.request({
      host: target.host,
      port: target.port,
      path: target.config.path,
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'switchyard-lb-check', connection: 'close' },
    });
    const timer = setTimeout(() => finish(false, 'L7TOUT'), target.config.timeoutMs);
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      finish(status >= 200 && status < 400, `${status >= 200 && status < 400 ? 'L7OK' : 'L7STS'} ${status}`);
    });
    request.once('error', (err) => finish(false, `L4CON ${errorCode(err)}`));
    request.end();
  });
}

/** Run one check now. Never rejects. */
export function runCheck(target: CheckTarget): Promise<CheckResult> {
  const started = Date.now();
  return target.config.type === 'http' ? httpCheck(target, started) : tcpCheck(target, started);
}

interface Loop {
  readonly key: string;
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

function targetKey(target: CheckTarget): string {
  const c = target.config;
  return `${target.host}|${target.port}|${c.type}|${c.path}|${c.intervalMs}|${c.timeoutMs}`;
}

export class HealthChecker {
  private readonly loops = new Map<string, Loop>();
  private closed = false;

  constructor(private readonly report: CheckReporter) {}

  /** Start loops for new targets, restart changed ones, stop the ones no longer listed. */
  sync(targets: readonly CheckTarget[]): void {
    if (this.closed) return;
    const wanted = new Set<string>();
    for (const target of targets) {
      wanted.add(target.id);
      const key = targetKey(target);
      const loop = this.loops.get(target.id);
      if (loop?.key === key) continue;
      if (loop) this.stopLoop(loop);
      this.startLoop(target, key);
    }
    for (const [id, loop] of this.loops) {
      if (!wanted.has(id)) {
        this.stopLoop(loop);
        this.loops.delete(id);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const loop of this.loops.values()) this.stopLoop(loop);
    this.loops.clear();
  }

  private startLoop(target: CheckTarget, key: string): void {
    const loop: Loop = { key, timer: undefined, stopped: false };
    this.loops.set(target.id, loop);
    const tick = async (): Promise<void> => {
      const result = await runCheck(target);
      if (loop.stopped) return;
      const transitional = this.report(target.id, result) === true;
      const interval = transitional
        ? Math.max(1, Math.floor(target.config.intervalMs / FAST_INTERVAL_DIVISOR))
        : target.config.intervalMs;
      const wait = Math.max(0, interval - result.durationMs);
      loop.timer = setTimeout(() => void tick(), wait);
      loop.timer.unref();
    };
    // Spread first checks a little (HAProxy `spread-checks`), but check new backends soon: they start DOWN.
    loop.timer = setTimeout(
      () => void tick(),
      Math.floor(Math.random() * Math.min(target.config.intervalMs, 50)),
    );
    loop.timer.unref();
  }

  private stopLoop(loop: Loop): void {
    loop.stopped = true;
    if (loop.timer) clearTimeout(loop.timer);
  }
}
