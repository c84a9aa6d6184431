// The vip room's door: named VIPs. Pure pieces (label parsing, naming, deterministic allocation
// from the service CIDR, the VIP compiler) and the controller that keeps VIP objects in the state.
// DNS, the proxy and the agent read VIP objects from the state (kind `VIP`), not from this room.
// See README.md for the contract.
export { parseVipLabel, isVipLabelKey, taskVipLabels, type VipLabel, type TaskVipLabel } from './labels';
export {
  vipDnsName,
  vipObjectName,
  ipVipName,
  serviceVipFramework,
  IP_VIP_FRAMEWORK,
  SERVICE_FRAMEWORK_LABEL,
} from './names';
export {
  allocateAddresses,
  buildPool,
  hashSlot,
  type AddressPool,
  type AllocationRequest,
  type AllocationResult,
} from './allocate';
export { compileVips, type VipSnapshot, type CompileVipsOptions, type CompiledVips } from './compile';
export { planVipWrites, type VipWritePlan } from './plan';
export { VipController, createVipController } from './controller';
export {
  resolveVipOptions,
  parseReserved,
  systemClock,
  VIP_DEFAULTS,
  type Clock,
  type VipControllerOptions,
  type VipInformer,
  type ResolvedVipOptions,
} from './config';
export { createVipMetrics, type VipMetrics } from './metrics';
export { VipError, VIP_ERROR_CODES, type VipErrorCode } from './errors';
