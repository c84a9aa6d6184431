import { parseCidr, parseIp } from '../../lib';
import { hostVethName, parsePluginConf, parseValidAttachments } from '../config';
import type { CniHandlers } from '../envelope';
import { CniError, CniErrorCode } from '../errors';
import type { AttachmentRecord, NodeNetwork, PluginHost } from '../host';
import { hostPortClashes } from '../portmap';
import { formatResult, prevResultAddresses } from '../result';
import { attachmentId, type AttachmentKey, type CniRequest, type CniRoute } from '../types';

/**
 * `switchyard-cni`: the main plugin's commands (the CNI `skel` table). ADD runs
 * parse → validate → IPAM → host side + container side → NAT, with rollback on failure; DEL is
 * idempotent and best-effort (port mappings go before the address), aggregating its errors.
 */
/** A second ADD for an attachment that holds an address is an error (the runtime must DEL first). */
export function refuseDuplicateAdd(host: PluginHost, key: AttachmentKey): void {
  const held = host.ipam.get(key);
  if (held !== undefined) {
    throw new CniError(
      CniErrorCode.DUPLICATE,
      `${attachmentId(key)} already holds ${held.ip}`,
      'duplicate ADD: DEL the attachment first',
    );
  }
}

/** The attachment a request is about: network name, container id, interface. */
export function keyOf(request: CniRequest): AttachmentKey {
  return { network: String(request.config.name), containerId: request.containerId, ifname: request.ifname };
}

function defaultRoutes(net: NodeNetwork): CniRoute[] {
  return [{ dst: '0.0.0.0/0', gw: net.gateway }];
}

/** A requested address must be a usable host address of the node subnet (not network, gateway, broadcast). */
export function checkRequestedIp(net: NodeNetwork, requested: string | undefined): void {
  if (requested === undefined) return;
  const subnet = parseCidr(net.subnet);
  const size = 1n << BigInt(subnet.bits - subnet.prefix);
  const ip = parseIp(requested).value;
  if (ip < subnet.network + 2n || ip >= subnet.network + size - 1n) {
    throw new CniError(
      CniErrorCode.CONFIG,
      `requested IP ${requested} is not a usable address of node subnet ${net.subnet}`,
    );
  }
}

async function cmdAdd(request: CniRequest, host: PluginHost): Promise<object> {
  const conf = parsePluginConf(request.config, request.args);
  const net = host.network();
  checkRequestedIp(net, conf.requestedIp);
  const key = keyOf(request);
  refuseDuplicateAdd(host, key);
  const clashes = hostPortClashes(conf.portMappings, host.ipam.list());
  if (clashes.length > 0)
    throw new CniError(CniErrorCode.PORT_TAKEN, `host ports already mapped: ${clashes.join(', ')}`);
  const hostIf = hostVethName(key);
  const input = {
    ...key,
    kind: 'plugin' as const,
    netns: request.netns,
    hostIf,
    portMappings: conf.portMappings,
    ipMasq: conf.ipMasq,
  };
  const record = await host.ipam.reserve(input, conf.requestedIp);
  const routes = conf.routes ?? defaultRoutes(net);
  const address = `${record.ip}/${net.prefix}`;
  const natNeeded = record.portMappings.length > 0 || record.ipMasq;
  let link;
  try {
    const attach = {
      hostIf,
      netns: request.netns,
      ifname: request.ifname,
      address,
      gateway: net.gateway,
      routes,
      hairpin: conf.hairpinMode,
    };
    link = await host.links.attach(conf.mtu === undefined ? attach : { ...attach, mtu: conf.mtu });
    if (natNeeded) await host.syncNat();
  } catch (error) {
    await rollback(host, key, hostIf, natNeeded);
    throw error;
  }
  host.onAttachment?.({ type: 'added', record, args: request.args });
  const result = {
    interfaces: [
      { name: net.bridge, mac: net.bridgeMac },
      { name: hostIf, mac: link.hostMac },
      { name: request.ifname, mac: link.containerMac, sandbox: request.netns },
    ],
    ips: [{ interface: 2, address, gateway: net.gateway }],
    routes,
    dns: conf.dns ?? {},
  };
  return formatResult(result, request.cniVersion);
}

async function rollback(
  host: PluginHost,
  key: AttachmentKey,
  hostIf: string,
  natNeeded: boolean,
): Promise<void> {
  host.ipam.markReleasing(key);
  await host.links.detach(hostIf).catch(() => undefined);
  if (natNeeded) await host.syncNat().catch(() => undefined);
  await host.ipam.release(key).catch(() => undefined);
}

/** Undo one attachment; every step runs, and the errors are reported together. */
export async function teardown(
  host: PluginHost,
  record: AttachmentRecord | undefined,
  key: AttachmentKey,
): Promise<void> {
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (error) {
      errors.push(`${what}: ${(error as Error).message}`);
    }
  };
  if (record !== undefined && (record.portMappings.length > 0 || record.ipMasq)) {
    host.ipam.markReleasing(key);
    await step('port mappings', () => host.syncNat());
  }
  if (record === undefined || record.kind === 'plugin')
    await step('veth', () => host.links.detach(record?.hostIf ?? hostVethName(key)));
  // The address is released only once its port mappings are gone, so a reused address never gets old traffic.
  if (errors.length === 0) await step('address', () => host.ipam.release(key));
  if (errors.length > 0) {
    throw new CniError(CniErrorCode.TRY_AGAIN, `DEL of ${attachmentId(key)} incomplete`, errors.join('; '));
  }
}

async function cmdDel(request: CniRequest, host: PluginHost): Promise<undefined> {
  const key = keyOf(request);
  const record = host.ipam.get(key);
  await teardown(host, record, key);
  if (record !== undefined) host.onAttachment?.({ type: 'deleted', record, args: request.args });
  return undefined;
}

async function cmdCheck(request: CniRequest, host: PluginHost): Promise<undefined> {
  const net = host.network();
  const key = keyOf(request);
  const record = host.ipam.get(key);
  if (record === undefined)
    throw new CniError(CniErrorCode.CHECK_FAILED, `no address is reserved for ${attachmentId(key)}`);
  const listed = prevResultAddresses(request.config);
  if (request.config.prevResult !== undefined && !listed.includes(record.ip)) {
    throw new CniError(
      CniErrorCode.CHECK_FAILED,
      `prevResult does not list ${record.ip}`,
      `prevResult lists ${JSON.stringify(listed)}`,
    );
  }
  await host.links.check({
    hostIf: record.hostIf ?? hostVethName(key),
    netns: request.netns,
    ifname: request.ifname,
    address: `${record.ip}/${net.prefix}`,
  });
  return undefined;
}

async function cmdGc(request: CniRequest, host: PluginHost): Promise<undefined> {
  const network = String(request.config.name);
  const valid = new Set(parseValidAttachments(request.config).map(attachmentId));
  const stale = host.ipam.list().filter((r) => r.network === network && !valid.has(attachmentId(r)));
  const errors: string[] = [];
  for (const record of stale) {
    try {
      await teardown(host, record, record);
      host.onAttachment?.({ type: 'deleted', record, args: {} });
    } catch (error) {
      errors.push(`${attachmentId(record)}: ${(error as Error).message}`);
    }
  }
  if (errors.length > 0)
    throw new CniError(CniErrorCode.TRY_AGAIN, `GC left ${errors.length} attachments`, errors.join('; '));
  return undefined;
}

async function cmdStatus(_request: CniRequest, host: PluginHost): Promise<undefined> {
  host.status();
  return undefined;
}

/** The handler table the agent serves for `switchyard-cni`. */
export function pluginHandlers(host: PluginHost): CniHandlers {
  return {
    ADD: (r) => cmdAdd(r, host),
    DEL: (r) => cmdDel(r, host),
    CHECK: (r) => cmdCheck(r, host),
    GC: (r) => cmdGc(r, host),
    STATUS: (r) => cmdStatus(r, host),
  };
}
