// The load-balancer room's door: what other rooms (cli/, the all-in-one node) may use.
export { startLoadBalancer, type LoadBalancer, type LoadBalancerOptions, type InformerLike } from './server';
export {
  compileRouteTable,
  DEFAULT_COMPILE_OPTIONS,
  DEFAULT_HEALTH_CHECK,
  type CompileOptions,
  type RouteSnapshot,
} from './compile';
export type {
  RouteTable,
  Frontend,
  FrontendMode,
  Pool,
  Backend,
  HealthCheckConfig,
  HttpRouter,
  Algorithm,
  HashOn,
} from './route-table';
export { matchRoute } from './route-match';
export {
  resolveLbConfig,
  type LbConfig,
  type LbConfigInput,
  type LbTimeouts,
  type PassiveHealthOptions,
} from './config';
export { LbError, LbErrorCode, HTTP_STATUS as LB_HTTP_STATUS } from './errors';
export type { AdminState } from './backend-state';
export type { BoundFrontend, PortMapper } from './listeners';
export type { StatsSnapshot } from './stats';
export { createBalancer, type Balancer, type Candidate } from './balance';
