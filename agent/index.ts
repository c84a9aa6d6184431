// The agent room's door. The per-host agent (node lease, IPAM service, routes) is planned in
// issue 6; nothing is exported yet.
export {};
