import { compileNatRuleset, hostPortClashes } from './portmap';

describe('compileNatRuleset', () => {
  it('compiles one table: DNAT per mapping (hostIP first), hairpin/localhost masquerade, ipMasq', () => {
    const text = compileNatRuleset({
      table: 'switchyard',
      nodeSubnet: '198.18.1.0/26',
      podCIDR: '198.18.0.0/16',
      attachments: [
        {
          ip: '198.18.1.3',
          portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
          ipMasq: true,
        },
        {
          ip: '198.18.1.2',
          portMappings: [{ hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '198.19.0.11' }],
          ipMasq: false,
        },
      ],
    });
    expect(text).toBe(`table ip switchyard
delete table ip switchyard
table ip switchyard {
\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tfib daddr type local jump hostports
\t}
\tchain output {
\t\ttype nat hook output priority -100; policy accept;
\t\tfib daddr type local jump hostports
\t}
\tchain hostports {
\t\tip daddr 198.19.0.11 udp dport 5353 dnat to 198.18.1.2:53
\t\ttcp dport 8080 dnat to 198.18.1.3:80
\t}
\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tct status dnat ip saddr 198.18.1.0/26 masquerade
\t\tct status dnat ip saddr 127.0.0.0/8 masquerade
\t\tip saddr 198.18.1.3 ip daddr != 198.18.0.0/16 masquerade
\t}
}
`);
  });
  it('refuses a table name nft would misread', () => {
    expect(() =>
      compileNatRuleset({
        table: 'a b',
        nodeSubnet: '198.18.1.0/26',
        podCIDR: '198.18.0.0/16',
        attachments: [],
      }),
    ).toThrow('bad nftables table name');
  });
});

describe('hostPortClashes', () => {
  const others = [
    {
      ip: '198.18.1.2',
      ipMasq: false,
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }],
    },
  ];
  it.each([
    {
      desc: 'same port and protocol',
      wanted: [{ hostPort: 8080, containerPort: 1, protocol: 'tcp' as const }],
      n: 1,
    },
    {
      desc: 'other protocol',
      wanted: [{ hostPort: 8080, containerPort: 1, protocol: 'udp' as const }],
      n: 0,
    },
    {
      desc: 'specific hostIP against a wildcard',
      wanted: [{ hostPort: 8080, containerPort: 1, protocol: 'tcp' as const, hostIP: '198.19.0.11' }],
      n: 1,
    },
    { desc: 'other port', wanted: [{ hostPort: 8081, containerPort: 1, protocol: 'tcp' as const }], n: 0 },
  ])('$desc', ({ wanted, n }) => expect(hostPortClashes(wanted, others)).toHaveLength(n));
});
