import { Counter, Gauge, Histogram, type Registry } from '../lib';

/** The agent's metrics, registered on the registry passed in. */
export interface AgentMetrics {
  cniRequests: Counter<'role' | 'command' | 'result'>;
  cniSeconds: Histogram<'role' | 'command'>;
  addressesUsed: Gauge;
  addressesTotal: Gauge;
  routes: Gauge;
  vipAddresses: Gauge;
  applyErrors: Counter<'what'>;
  taskReportErrors: Counter;
}

export function createAgentMetrics(registry: Registry): AgentMetrics {
  const registers = [registry];
  return {
    cniRequests: new Counter({
      name: 'switchyard_agent_cni_requests_total',
      help: 'CNI calls served, by role, command and result',
      labelNames: ['role', 'command', 'result'],
      registers,
    }),
    cniSeconds: new Histogram({
      name: 'switchyard_agent_cni_duration_seconds',
      help: 'Time the agent spent on one CNI call',
      labelNames: ['role', 'command'],
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    addressesUsed: new Gauge({
      name: 'switchyard_agent_ipam_addresses_used',
      help: 'Reserved container addresses in the node subnet',
      registers,
    }),
    addressesTotal: new Gauge({
      name: 'switchyard_agent_ipam_addresses',
      help: 'Usable container addresses in the node subnet',
      registers,
    }),
    routes: new Gauge({ name: 'switchyard_agent_routes', help: 'Host-gateway routes programmed', registers }),
    vipAddresses: new Gauge({
      name: 'switchyard_agent_vip_addresses',
      help: 'VIP addresses on the VIP interface',
      registers,
    }),
    applyErrors: new Counter({
      name: 'switchyard_agent_apply_errors_total',
      help: 'Failed route, nftables or VIP address applies',
      labelNames: ['what'],
      registers,
    }),
    taskReportErrors: new Counter({
      name: 'switchyard_agent_task_report_errors_total',
      help: 'Task status writes that failed',
      registers,
    }),
  };
}
