import { SwitchyardError, type SwitchyardErrorOptions } from '../lib';

/** Stable error codes of the agent room. */
export const AgentErrorCode = {
  /** The agent configuration is invalid; `field` names the key. */
  CONFIG: 'SY_AGENT_CONFIG',
  /** The Network object the agent leases from does not exist (yet). */
  NO_NETWORK: 'SY_AGENT_NO_NETWORK',
  /** Every node subnet of the pod CIDR is leased to a live node. */
  NO_SUBNET: 'SY_AGENT_NO_SUBNET',
  /** This node's lease was removed or taken while the agent ran. */
  LEASE_REVOKED: 'SY_AGENT_LEASE_REVOKED',
  /** The IPAM journal could not be read or written. */
  IPAM_STORE: 'SY_AGENT_IPAM_STORE',
  /** Another running agent holds the data dir (its IPAM journal must have one writer). */
  DATA_DIR_LOCKED: 'SY_AGENT_DATA_DIR_LOCKED',
  /** The unix socket's directory is open to group or others, or the socket is in use. */
  SOCKET: 'SY_AGENT_SOCKET',
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export class AgentError extends SwitchyardError {
  declare readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: SwitchyardErrorOptions) {
    super(code, message, options);
    this.name = 'AgentError';
  }
}
