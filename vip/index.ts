// The vip room's door. Named VIPs (allocation from the service CIDR, VIP labels, bindings) are
// planned in issue 5; nothing is exported yet.
export {};
