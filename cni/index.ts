// The cni room's door: the CNI envelope (env + stdin → request, spec error codes), the plugin and
// IPAM command tables the agent serves, the pure link and nftables compilers, and the tool runners.
export { CniError, CniErrorCode, CNI_SPEC_CODES, toCniErrorJson, type CniErrorJson } from './errors';
export {
  SUPPORTED_VERSIONS,
  LATEST_VERSION,
  compareVersions,
  isSupportedVersion,
  versionAtLeast,
} from './version';
export {
  CNI_COMMANDS,
  attachmentId,
  type AttachmentKey,
  type CniCommand,
  type CniDns,
  type CniInterface,
  type CniIpConfig,
  type CniRequest,
  type CniResult,
  type CniRoute,
  type PortMapping,
  type PortProtocol,
} from './types';
export {
  runCni,
  parseRequest,
  parseCniArgs,
  parseCommand,
  versionInfo,
  type CniEnv,
  type CniHandler,
  type CniHandlers,
  type CniOutput,
} from './envelope';
export { formatResult, prevResultAddresses } from './result';
export {
  parsePluginConf,
  parseIpamConf,
  parsePortMappings,
  parseValidAttachments,
  hostVethName,
  type PluginConf,
  type IpamConf,
} from './config';
export type {
  AttachmentEvent,
  AttachmentKind,
  AttachmentRecord,
  ContainerLink,
  HostIpam,
  HostLinks,
  NodeNetwork,
  PluginHost,
  ReserveInput,
} from './host';
export { pluginHandlers, teardown } from './plugin/commands';
export { ipamHandlers } from './ipam/commands';
export { compileHostAttach, compileContainerAttach, compileDetach, randomMac, type AttachSpec } from './link';
export { compileNatRuleset, hostPortClashes, type NatAttachment, type NatInput } from './portmap';
export {
  runCommand,
  ipBatch,
  ipIn,
  nftApply,
  CommandError,
  type CommandRunner,
  type CommandResult,
} from './exec';
