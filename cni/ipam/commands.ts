import { parseIpamConf, parseValidAttachments } from '../config';
import type { CniHandlers } from '../envelope';
import { CniError, CniErrorCode } from '../errors';
import type { PluginHost } from '../host';
import { checkRequestedIp, keyOf, refuseDuplicateAdd } from '../plugin/commands';
import { formatResult } from '../result';
import { attachmentId, type CniRequest } from '../types';

/**
 * `switchyard-ipam`: an IPAM plugin any main plugin (the reference `bridge` included) can name as
 * `ipam.type`. It gets the whole network config on stdin and answers the abbreviated IPAM result:
 * an address from this node's subnet, the subnet's `.1` as gateway, and routes with explicit `gw`
 * (the reference bridge 1.1.1 fails CHECK on gw-less routes).
 */
async function ipamAdd(request: CniRequest, host: PluginHost): Promise<object> {
  const conf = parseIpamConf(request.config, request.args);
  const net = host.network();
  checkRequestedIp(net, conf.requestedIp);
  const key = keyOf(request);
  refuseDuplicateAdd(host, key);
  const record = await host.ipam.reserve(
    { ...key, kind: 'ipam', netns: request.netns, portMappings: [], ipMasq: false },
    conf.requestedIp,
  );
  host.onAttachment?.({ type: 'added', record, args: request.args });
  const routes = (conf.routes ?? [{ dst: net.podCIDR }]).map((r) => ({
    dst: r.dst,
    gw: r.gw ?? net.gateway,
  }));
  return formatResult(
    { ips: [{ address: `${record.ip}/${net.prefix}`, gateway: net.gateway }], routes, dns: {} },
    request.cniVersion,
  );
}

async function ipamDel(request: CniRequest, host: PluginHost): Promise<undefined> {
  const record = await host.ipam.release(keyOf(request));
  if (record !== undefined) host.onAttachment?.({ type: 'deleted', record, args: request.args });
  return undefined;
}

async function ipamCheck(request: CniRequest, host: PluginHost): Promise<undefined> {
  const key = keyOf(request);
  if (host.ipam.get(key) === undefined) {
    throw new CniError(CniErrorCode.CHECK_FAILED, `no address is reserved for ${attachmentId(key)}`);
  }
  return undefined;
}

async function ipamGc(request: CniRequest, host: PluginHost): Promise<undefined> {
  const network = String(request.config.name);
  const valid = new Set(parseValidAttachments(request.config).map(attachmentId));
  for (const record of host.ipam.list()) {
    if (record.network !== network || record.kind !== 'ipam' || valid.has(attachmentId(record))) continue;
    await host.ipam.release(record);
    host.onAttachment?.({ type: 'deleted', record, args: {} });
  }
  return undefined;
}

export function ipamHandlers(host: PluginHost): CniHandlers {
  return {
    ADD: (r) => ipamAdd(r, host),
    DEL: (r) => ipamDel(r, host),
    CHECK: (r) => ipamCheck(r, host),
    GC: (r) => ipamGc(r, host),
    STATUS: async () => {
      host.status();
      return undefined;
    },
  };
}
