// The cni room's door. The CNI plugin and IPAM executables are planned in issue 6; nothing is
// exported yet.
export {};
