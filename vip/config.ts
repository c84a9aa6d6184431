import { parseCidr, parseIp, type Cidr, type Logger, type Registry } from '../lib';
import type { Informer, StateApi } from '../state';
import { VIP_ERROR_CODES, VipError } from './errors';

/** The controller's options, checked at the door (resolveVipOptions) before anything starts. */

/** Time and timers, injectable so tests drive them (client-go's clock). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** What the controller needs of an informer (state's `createInformer` over all kinds fits). */
export type VipInformer = Pick<Informer, 'start' | 'list' | 'subscribe' | 'stop' | 'revision'>;

export interface VipControllerOptions {
  /** Where VIP objects are written (compare-and-set) and re-read after a conflict. */
  readonly api: StateApi;
  /** The state to follow; default `createInformer({ api })` over every kind, stopped with the controller. */
  readonly informer?: VipInformer;
  readonly logger: Logger;
  readonly registry: Registry;
  /** How long a VIP without owners keeps its address. Default 5 minutes. */
  readonly graceMs?: number;
  /** Watch events within this window are compiled together. Default 50 ms. */
  readonly debounceMs?: number;
  /** The Network whose service CIDR new addresses are hashed into; default the first by name. */
  readonly network?: string;
  /** CIDRs or single addresses hashing never hands out (explicit addresses may still use them). */
  readonly reserved?: readonly string[];
  /** After a conflict or a failed write: retry after initialMs, doubling to maxMs. Default 100 ms → 10 s. */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly clock?: Clock;
}

export const VIP_DEFAULTS = {
  graceMs: 5 * 60_000,
  debounceMs: 50,
  retryInitialMs: 100,
  retryMaxMs: 10_000,
} as const;

export interface ResolvedVipOptions {
  readonly graceMs: number;
  readonly debounceMs: number;
  readonly network?: string;
  readonly reserved: readonly Cidr[];
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly clock: Clock;
}

/** Fills the defaults and checks every option; throws VipError SY_VIP_INVALID_CONFIG naming the field. */
export function resolveVipOptions(
  o: Omit<VipControllerOptions, 'api' | 'logger' | 'registry'>,
): ResolvedVipOptions {
  const graceMs = duration('graceMs', o.graceMs, VIP_DEFAULTS.graceMs);
  const debounceMs = duration('debounceMs', o.debounceMs, VIP_DEFAULTS.debounceMs);
  const retryInitialMs = duration('retry.initialMs', o.retry?.initialMs, VIP_DEFAULTS.retryInitialMs);
  const retryMaxMs = duration('retry.maxMs', o.retry?.maxMs, VIP_DEFAULTS.retryMaxMs);
  if (retryMaxMs < retryInitialMs) {
    throw invalidConfig(
      'retry.maxMs',
      `must be at least retry.initialMs (${retryInitialMs}), got ${retryMaxMs}`,
    );
  }
  if (o.network !== undefined && o.network === '') throw invalidConfig('network', 'must not be empty');
  const reserved = (o.reserved ?? []).map((text, i) => parseReserved(text, `reserved[${i}]`));
  return {
    graceMs,
    debounceMs,
    retryInitialMs,
    retryMaxMs,
    reserved,
    clock: o.clock ?? systemClock,
    ...(o.network === undefined ? {} : { network: o.network }),
  };
}

/** `198.19.0.0/24` or `198.19.0.1` (one address). */
export function parseReserved(text: string, field = 'reserved'): Cidr {
  try {
    if (text.includes('/')) return parseCidr(text);
    const ip = parseIp(text);
    return parseCidr(`${text}/${ip.family === 4 ? 32 : 128}`);
  } catch (err) {
    throw invalidConfig(
      field,
      `must be a CIDR or an IP address: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function duration(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw invalidConfig(field, `must be a whole number of milliseconds, 0 or more, got ${String(value)}`);
  }
  return value;
}

function invalidConfig(field: string, reason: string): VipError {
  return new VipError(VIP_ERROR_CODES.INVALID_CONFIG, `${field}: ${reason}`, { field, reason });
}
