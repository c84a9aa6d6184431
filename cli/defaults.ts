/** Where the all-in-one node listens by default, and where the CLI looks for it. */
export const DEFAULTS = {
  dataDir: '.switchyard',
  httpListen: '127.0.0.1:7480',
  grpcListen: '127.0.0.1:7481',
  /** Unprivileged, so the all-in-one node runs without root; point a stub resolver here. */
  dnsListen: '127.0.0.1:8053',
  /** Mesos-DNS's HTTP port. */
  dnsHttpListen: '127.0.0.1:8123',
  /** The proxy's frontends (services' ports; below 1024 +10000 without root). */
  lbListenHost: '127.0.0.1',
  lbAdmin: '127.0.0.1:9090',
  ingressPort: 8080,
  /** The gRPC address the client commands talk to. */
  server: '127.0.0.1:7481',
} as const;

/** `host:port` → parts; IPv6 as `[::1]:7480`. Throws on a malformed address or port. */
export function parseHostPort(text: string, field: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new Error(`${field}: expected host:port (e.g. 127.0.0.1:7480), got "${text}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** An environment variable's value, with empty meaning unset (`SWITCHYARD_SERVER= cmd`). */
export function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}
