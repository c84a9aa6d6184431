import { join } from 'node:path';
import type { DnsServerOptions, ZoneOptions } from '../../../dns';
import { SOURCE_ERROR_CODES } from './errors';
import { parseMesosDnsConfig, readMesosDnsConfig, type MesosDnsConfig } from './mesos-dns-config';

const SAMPLE = join(__dirname, 'testdata', 'mesos-dns-config.sample.json');
const IFACES = { interfaceAddresses: ['198.18.0.53', 'fd00::53'] };

function parse(doc: unknown, strict = false): MesosDnsConfig {
  return parseMesosDnsConfig(typeof doc === 'string' ? doc : JSON.stringify(doc), { ...IFACES, strict });
}

describe('a Mesos-DNS config file means what it meant there', () => {
  it('maps the Mesos-DNS sample file', async () => {
    const config = await readMesosDnsConfig(SAMPLE, IFACES);
    expect(config.source).toEqual({
      masters: ['198.18.0.10:5050'],
      intervalMs: 60_000,
      stateTimeoutMs: 300_000,
      ipSources: ['mesos', 'host'],
      https: false,
    });
    expect(config.dns).toEqual({
      host: '198.18.0.53',
      port: 8053,
      httpHost: '0.0.0.0',
      httpPort: 8123,
      forwarding: true,
      upstreams: ['198.18.0.1'],
      forwardTimeoutMs: 5000,
      zone: {
        ttl: 60,
        labelSpec: 'rfc1123',
        srvWeight: 1,
        recursionAvailable: true,
        domains: { mesos: 'mesos' },
        nameserverAddresses: ['198.18.0.53'],
      },
    });
    expect(config.warnings.map((w) => w.field)).toEqual([
      'ns',
      'zk',
      'SOAMname',
      'SOARname',
      'SOARefresh',
      'SOARetry',
      'SOAExpire',
    ]);
    expect(config.unmapped.soa).toEqual({
      mname: 'ns1.mesos.',
      rname: 'root.ns1.mesos.',
      refresh: 60,
      retry: 600,
      expire: 86400,
      minttl: 60,
    });
  });

  it('gives options the DNS server and zone accept as they are (checked by the compiler)', () => {
    const config = parse({ masters: ['198.18.0.10:5050'] });
    const server: DnsServerOptions = { ...config.dns };
    const zone: ZoneOptions = config.dns.zone;
    expect(server.port).toBe(53);
    expect(zone.ttl).toBe(60);
  });

  it.each([
    {
      desc: 'Mesos-DNS defaults: every record 60 s, port 53, forwarding to 8.8.8.8, netinfo/mesos/host',
      doc: { masters: ['198.18.0.10:5050'] },
      expected: {
        source: { intervalMs: 60_000, stateTimeoutMs: 300_000, ipSources: ['netinfo', 'mesos', 'host'] },
        dns: {
          host: '0.0.0.0',
          port: 53,
          httpPort: 8123,
          upstreams: ['8.8.8.8'],
          zone: { ttl: 60, nameserverAddresses: ['198.18.0.53', 'fd00::53'] },
        },
      },
    },
    {
      desc: 'keys match case-insensitively, as Go decodes them',
      doc: { Masters: ['198.18.0.10:5050'], TTL: 5, HttpPort: 9123, ipsources: ['host'], RefreshSeconds: 2 },
      expected: {
        source: { intervalMs: 2000, ipSources: ['host'] },
        dns: { httpPort: 9123, zone: { ttl: 5 } },
      },
    },
    {
      desc: 'null leaves a number at its default',
      doc: { masters: ['198.18.0.10:5050'], ttl: null },
      expected: { dns: { zone: { ttl: 60 } } },
    },
    {
      desc: 'externalon false: REFUSED outside the zone, resolvers unused',
      doc: { masters: ['198.18.0.10:5050'], externalon: false, resolvers: ['198.18.0.1'] },
      expected: { dns: { forwarding: false } },
      absent: ['upstreams'],
    },
    {
      desc: 'an empty resolvers list means /etc/resolv.conf (no upstreams option)',
      doc: { masters: ['198.18.0.10:5050'], resolvers: [] },
      absent: ['upstreams'],
    },
    {
      desc: 'resolvers with ports, IPv6 in brackets',
      doc: { masters: ['198.18.0.10:5050'], resolvers: ['198.18.0.1:5353', '[fd00::1]:53', 'fd00::2'] },
      expected: { dns: { upstreams: ['198.18.0.1:5353', '[fd00::1]:53', 'fd00::2'] } },
    },
    {
      desc: 'httpon false, RFC 952 labels, no recursion bit, SRV weight, domain lower-cased',
      doc: {
        masters: ['198.18.0.10:5050'],
        httpon: false,
        enforceRFC952: true,
        recurseon: false,
        srvRecordDefaultWeight: 0,
        domain: 'Mesos.Example.Org',
        listener: '198.18.0.53',
        httpListener: '127.0.0.1',
      },
      expected: {
        dns: {
          httpPort: false,
          httpHost: '127.0.0.1',
          zone: {
            labelSpec: 'rfc952',
            recursionAvailable: false,
            srvWeight: 0,
            domains: { mesos: 'mesos.example.org' },
          },
        },
      },
    },
    {
      desc: 'HTTPS and basic authentication to the masters',
      doc: {
        masters: ['master-1.example.org:5050', '198.18.0.11:5050'],
        mesosHTTPSOn: true,
        CACertFile: '/etc/mesos/ca.pem',
        mesosAuthentication: 'basic',
        mesosCredentials: { Principal: 'dns', secret: 's3cret' },
      },
      expected: {
        source: {
          masters: ['master-1.example.org:5050', '198.18.0.11:5050'],
          https: true,
          tlsFiles: { caFile: '/etc/mesos/ca.pem' },
          credentials: { principal: 'dns', secret: 's3cret' },
        },
      },
    },
  ] as { desc: string; doc: unknown; expected?: object; absent?: string[] }[])(
    '$desc',
    ({ doc, expected, absent }) => {
      const config = parse(doc);
      if (expected !== undefined) expect(config).toMatchObject(expected);
      for (const key of absent ?? []) expect(config.dns).not.toHaveProperty(key);
    },
  );

  it.each([
    {
      desc: 'an unknown key, with a hint',
      doc: { masters: ['198.18.0.10:5050'], refreshSecond: 5 },
      field: 'refreshSecond',
      reason: /did you mean "refreshSeconds"/,
    },
    {
      desc: 'SetTruncateBit false',
      doc: { masters: ['198.18.0.10:5050'], SetTruncateBit: false },
      field: 'SetTruncateBit',
      reason: /no equivalent/,
    },
    {
      desc: 'EnumerationOn',
      doc: { masters: ['198.18.0.10:5050'], EnumerationOn: true },
      field: 'EnumerationOn',
      reason: /not served/,
    },
    {
      desc: 'credentials without authentication',
      doc: { masters: ['198.18.0.10:5050'], mesosCredentials: { principal: 'p', secret: 's' } },
      field: 'mesosCredentials',
      reason: /not sent/,
    },
    {
      desc: 'the same field twice in different case',
      doc: '{"masters":["198.18.0.10:5050"],"ttl":5,"TTL":6}',
      field: 'TTL',
      reason: /last one wins/,
    },
  ])('warns about $desc', ({ doc, field, reason }) => {
    const config = parse(doc);
    expect(config.warnings).toEqual(
      expect.arrayContaining([{ field, reason: expect.stringMatching(reason) }]),
    );
  });

  it.each([
    { desc: 'not JSON', doc: '{"masters": [', field: '(file)' },
    { desc: 'not an object', doc: '[]', field: '(file)' },
    { desc: 'ZooKeeper only', doc: { zk: 'zk://198.18.0.10:2181/mesos' }, field: 'zk' },
    { desc: 'neither masters nor zk', doc: {}, field: 'masters' },
    { desc: 'a master without a port', doc: { masters: ['198.18.0.10'] }, field: 'masters[0]' },
    {
      desc: 'a duplicate master',
      doc: { masters: ['198.18.0.10:5050', '198.18.0.10:5050'] },
      field: 'masters[1]',
    },
    {
      desc: 'a number given as a string',
      doc: { masters: ['198.18.0.10:5050'], refreshSeconds: '60' },
      field: 'refreshSeconds',
    },
    {
      desc: 'a zero refresh',
      doc: { masters: ['198.18.0.10:5050'], refreshSeconds: 0 },
      field: 'refreshSeconds',
    },
    {
      desc: 'a zero state timeout',
      doc: { masters: ['198.18.0.10:5050'], stateTimeoutSeconds: 0 },
      field: 'stateTimeoutSeconds',
    },
    { desc: 'a fractional ttl', doc: { masters: ['198.18.0.10:5050'], ttl: 1.5 }, field: 'ttl' },
    {
      desc: 'a negative SOA field',
      doc: { masters: ['198.18.0.10:5050'], SOARefresh: -1 },
      field: 'SOARefresh',
    },
    {
      desc: 'a boolean given as a string',
      doc: { masters: ['198.18.0.10:5050'], externalon: 'false' },
      field: 'externalon',
    },
    {
      desc: 'IPSources null (empty)',
      doc: { masters: ['198.18.0.10:5050'], IPSources: null },
      field: 'IPSources',
    },
    {
      desc: 'a repeated IP source',
      doc: { masters: ['198.18.0.10:5050'], IPSources: ['netinfo', 'netinfo'] },
      field: 'IPSources',
    },
    {
      desc: 'an unknown IP source',
      doc: { masters: ['198.18.0.10:5050'], IPSources: ['rkt'] },
      field: 'IPSources[0]',
    },
    {
      desc: 'a resolver that is a name',
      doc: { masters: ['198.18.0.10:5050'], resolvers: ['dns.example.org'] },
      field: 'resolvers[0]',
    },
    { desc: 'a bad domain', doc: { masters: ['198.18.0.10:5050'], domain: 'me_sos' }, field: 'domain' },
    {
      desc: 'zone resolvers (no per-zone forwarding yet)',
      doc: { masters: ['198.18.0.10:5050'], zoneResolvers: { 'corp.example.org': ['198.18.0.2'] } },
      field: 'zoneResolvers',
    },
    {
      desc: 'IAM authentication',
      doc: { masters: ['198.18.0.10:5050'], mesosAuthentication: 'iam' },
      field: 'mesosAuthentication',
    },
    {
      desc: 'basic authentication without a secret',
      doc: {
        masters: ['198.18.0.10:5050'],
        mesosAuthentication: 'basic',
        mesosCredentials: { principal: 'p' },
      },
      field: 'mesosCredentials',
    },
    {
      desc: 'a certificate without a key',
      doc: { masters: ['198.18.0.10:5050'], CertFile: '/c.pem' },
      field: 'KeyFile',
    },
    {
      desc: 'DNS off (no HTTP-only mode)',
      doc: { masters: ['198.18.0.10:5050'], dnson: false },
      field: 'dnson',
    },
    {
      desc: 'DNS and HTTP off',
      doc: { masters: ['198.18.0.10:5050'], dnson: false, httpon: false },
      field: 'dnson',
    },
    {
      desc: 'a forwarding timeout over 60 s',
      doc: { masters: ['198.18.0.10:5050'], timeout: 120 },
      field: 'timeout',
    },
    { desc: 'a port out of range', doc: { masters: ['198.18.0.10:5050'], port: 70000 }, field: 'port' },
    {
      desc: 'an element of the wrong type',
      doc: { masters: ['198.18.0.10:5050', 5050] },
      field: 'masters[1]',
    },
  ])('refuses $desc, naming the field', ({ doc, field }) => {
    expect(() => parse(doc)).toThrow(
      expect.objectContaining({ code: SOURCE_ERROR_CODES.INVALID_CONFIG, field }),
    );
  });

  it('refuses unknown keys in strict mode', () => {
    expect(() => parse({ masters: ['198.18.0.10:5050'], ns: 'ns1' }, true)).toThrow(
      expect.objectContaining({ field: 'ns', reason: 'unknown field' }),
    );
  });

  it('refuses a file it cannot read, naming it', async () => {
    await expect(readMesosDnsConfig(join(__dirname, 'testdata', 'missing.json'))).rejects.toMatchObject({
      code: SOURCE_ERROR_CODES.INVALID_CONFIG,
      field: '(file)',
    });
  });
});
