// The agent room's door: the per-host agent (node subnet lease, the CNI service on a unix socket,
// durable IPAM, host-gateway routes, the NAT table, Task status reports) and its pure helpers.
export { startAgent, type Agent, type AgentOptions } from './agent';
export { runAgentMain } from './main';
export { parseAgentConfig, type AgentConfig, type AgentConfigInput } from './config';
export { AgentError, AgentErrorCode } from './errors';
export {
  chooseSubnet,
  addressRange,
  gatewayOf,
  isNodeSubnetOf,
  type ChooseSubnetInput,
  type AddressRange,
} from './subnet';
export { allocate, rangeSize, type AllocatorRange } from './ipam/allocator';
export {
  openJournal,
  replayJournal,
  type Journal,
  type JournalEntry,
  type JournalState,
} from './ipam/journal';
export { createIpamStore, type IpamStore } from './ipam/store';
export { acquireLease, renewLease, type LeaseOptions } from './lease';
export { compileRoutes, diffRoutes, type RouteTable } from './routes';
export { taskRefOf, taskSpecAfterAdd, taskNameFrom, MANAGED_BY } from './tasks';
