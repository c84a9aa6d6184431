import { z } from 'zod';
import { parseIp } from '../lib';
import { AgentError, AgentErrorCode } from './errors';

/** The agent's configuration, checked at the door with every default filled in one place. */
const ipv4 = z.string().refine((v) => {
  try {
    return parseIp(v).family === 4;
  } catch {
    return false;
  }
}, 'must be an IPv4 address');

const schema = z.strictObject({
  /** The Node object name (this host). */
  nodeName: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be an RFC 1123 subdomain'),
  /** The address other hosts route this node's pod subnet through. */
  nodeAddress: ipv4,
  /** The Network object to lease a node subnet from. */
  network: z.string().min(1).default('default'),
  state: z
    .strictObject({
      /** `host:port` or `unix:///path` of the state API's gRPC listener. */
      address: z.string().min(1),
      token: z.string().optional(),
      tokenFile: z.string().optional(),
    })
    .optional(),
  dataDir: z.string().min(1).default('/var/lib/switchyard/agent'),
  socketPath: z.string().min(1).default('/run/switchyard/cni.sock'),
  bridge: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be a Linux interface name')
    .default('sy0'),
  natTable: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('switchyard'),
  leaseTtlMs: z
    .number()
    .int()
    .positive()
    .default(24 * 3600 * 1000),
  heartbeatIntervalMs: z.number().int().positive().default(30_000),
  hostGatewayRoutes: z.boolean().default(true),
  /** The `proto` number on host-gateway routes, so stale ones are found after a restart. */
  routeProtocol: z.number().int().min(5).max(254).default(122),
  reportTasks: z.boolean().default(true),
  /** Put the (non-loopback) VIP addresses on `vipInterface` so the local proxy can listen on them. */
  bindVips: z.boolean().default(true),
  vipInterface: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be a Linux interface name')
    .default('sy-vip0'),
});

export type AgentConfig = z.output<typeof schema>;
export type AgentConfigInput = z.input<typeof schema>;

export function parseAgentConfig(raw: unknown): AgentConfig {
  const parsed = schema.safeParse(raw);
  if (parsed.success) {
    if (parsed.data.bindVips && parsed.data.vipInterface === parsed.data.bridge) {
      throw new AgentError(AgentErrorCode.CONFIG, 'vipInterface must differ from bridge', {
        field: 'vipInterface',
      });
    }
    if (parsed.data.heartbeatIntervalMs >= parsed.data.leaseTtlMs) {
      throw new AgentError(AgentErrorCode.CONFIG, 'heartbeatIntervalMs must be shorter than leaseTtlMs', {
        field: 'heartbeatIntervalMs',
      });
    }
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  throw new AgentError(AgentErrorCode.CONFIG, `${field || 'config'}: ${issue?.message ?? 'invalid'}`, {
    field,
    reason: issue?.message ?? '',
  });
}
