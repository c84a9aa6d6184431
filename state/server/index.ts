// The state API's front doors: REST/JSON (node:http) and gRPC (switchyard.state.v1.State) over
// one StateApi, with bearer-token auth for writes, limits, watches and metrics. See README.md.
export { startStateServer, type StateServer } from './server';
export { DEFAULT_LIMITS, type StateServerOptions, type ServerLimits } from './options';
