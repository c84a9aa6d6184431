import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { StateError, StateErrorCode } from '../errors';

/** A bearer-token check that takes the same time however much of the token matches. */
export type TokenCheck = (authorization: string | undefined) => boolean;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function createTokenCheck(token: string): TokenCheck {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    // Hash even a missing token so a bad request costs the same as a wrong one.
    const presented = digest(match?.[1] ?? '');
    return timingSafeEqual(presented, expected) && match !== null;
  };
}

export function unauthenticated(): StateError {
  return new StateError(StateErrorCode.UNAUTHENTICATED, 'a valid bearer token is required', {
    reason: 'missing or wrong bearer token',
  });
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`: only this host can connect. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) {
    const lower = bare.toLowerCase();
    return lower === '::1' || lower.startsWith('::ffff:127.');
  }
  return false;
}

/** Listener addresses that only local processes can reach: loopback or a unix socket. */
export function isLocalOnlyAddress(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const host = address.replace(/:\d+$/, '');
  return isLoopbackHost(host);
}
