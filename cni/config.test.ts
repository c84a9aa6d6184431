import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseIpamConf,
  parsePluginConf,
  parsePortMappings,
  parseValidAttachments,
  hostVethName,
} from './config';
import { CniError } from './errors';
import { formatResult } from './result';

describe('parsePluginConf', () => {
  it('fills defaults and reads runtimeConfig.portMappings and CNI_ARGS IP', () => {
    const conf = parsePluginConf(
      {
        name: 'n',
        runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
      },
      { IP: '198.18.1.9' },
    );
    expect(conf).toEqual({
      name: 'n',
      ipMasq: false,
      hairpinMode: true,
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      requestedIp: '198.18.1.9',
    });
  });
  it.each([
    { desc: 'ipMasq not a boolean', config: { name: 'n', ipMasq: 'yes' }, code: 7 },
    { desc: 'foreign ipam type', config: { name: 'n', ipam: { type: 'host-local' } }, code: 2 },
    { desc: 'route without dst', config: { name: 'n', routes: [{ gw: '198.18.0.1' }] }, code: 7 },
    { desc: 'mtu too small', config: { name: 'n', mtu: 100 }, code: 7 },
    {
      desc: 'sctp mapping',
      config: {
        name: 'n',
        runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 1, protocol: 'sctp' }] },
      },
      code: 2,
    },
    {
      desc: 'port 0',
      config: { name: 'n', runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 1 }] } },
      code: 7,
    },
    {
      desc: 'repeated host port',
      config: {
        name: 'n',
        runtimeConfig: {
          portMappings: [
            { hostPort: 1, containerPort: 1 },
            { hostPort: 1, containerPort: 2 },
          ],
        },
      },
      code: 7,
    },
    {
      desc: 'IPv6 hostIP',
      config: {
        name: 'n',
        runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 1, hostIP: '::1' }] },
      },
      code: 7,
    },
  ])('refuses $desc with code $code', ({ config, code }) => {
    let error: unknown;
    try {
      parsePluginConf(config, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CniError);
    expect((error as CniError).cniCode).toBe(code);
  });
  it('defaults the protocol to tcp', () =>
    expect(parsePortMappings([{ hostPort: 1, containerPort: 2 }])).toEqual([
      { hostPort: 1, containerPort: 2, protocol: 'tcp' },
    ]));
  it('reads cni.dev/valid-attachments and the older cni.dev/attachments', () => {
    const want = [{ network: 'n', containerId: 'c', ifname: 'eth0' }];
    expect(
      parseValidAttachments({
        name: 'n',
        'cni.dev/valid-attachments': [{ containerID: 'c', ifname: 'eth0' }],
      }),
    ).toEqual(want);
    expect(
      parseValidAttachments({ name: 'n', 'cni.dev/attachments': [{ containerID: 'c', ifname: 'eth0' }] }),
    ).toEqual(want);
  });
  it('names host veths stably, 14 characters', () => {
    const key = { network: 'n', containerId: 'c', ifname: 'eth0' };
    expect(hostVethName(key)).toBe(hostVethName({ ...key }));
    expect(hostVethName(key)).toMatch(/^sy[0-9a-f]{12}$/);
    expect(hostVethName(key)).not.toBe(hostVethName({ ...key, ifname: 'eth1' }));
  });
});

describe('formatResult', () => {
  const result = {
    ips: [{ interface: 2, address: '198.18.1.2/26', gateway: '198.18.1.1' }],
    routes: [{ dst: '0.0.0.0/0', gw: '198.18.1.1' }],
  };
  it.each([
    {
      desc: '0.4.0 adds ips[].version',
      version: '0.4.0',
      ip: { version: '4', interface: 2, address: '198.18.1.2/26', gateway: '198.18.1.1' },
    },
    {
      desc: '1.0.0 has no version',
      version: '1.0.0',
      ip: { interface: 2, address: '198.18.1.2/26', gateway: '198.18.1.1' },
    },
    {
      desc: '1.1.0 is shaped like 1.0.0',
      version: '1.1.0',
      ip: { interface: 2, address: '198.18.1.2/26', gateway: '198.18.1.1' },
    },
  ])('$desc', ({ version, ip }) => {
    expect(formatResult(result, version)).toEqual({
      cniVersion: version,
      ips: [ip],
      routes: result.routes,
      dns: {},
    });
    expect(Object.keys(formatResult(result, version))[0]).toBe('cniVersion');
  });
});

describe('README examples', () => {
  const readme = readFileSync(join(__dirname, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  it('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  it.each(blocks.map((text, i) => ({ desc: `example ${i + 1}`, text })))('$desc parses', ({ text }) => {
    const config = JSON.parse(text) as Record<string, unknown>;
    if (config.type === 'switchyard-cni') expect(parsePluginConf(config, {}).name).toBe(config.name);
    else expect(parseIpamConf(config, {}).name).toBe(config.name);
  });
});
