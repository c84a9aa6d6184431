import type { StoredObject } from '../state';
import { VIP_ERROR_CODES, VipError } from './errors';
import { isVipLabelKey, parseVipLabel, taskVipLabels } from './labels';
import { ipVipName, serviceVipFramework, vipDnsName } from './names';
import { serviceInput, stored, taskInput } from './test-fixtures';

function errorFrom(fn: () => unknown): VipError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VipError) return err;
    throw err;
  }
  throw new Error('expected a VipError, nothing was thrown');
}

describe('isVipLabelKey: keys starting with VIP or vip (DC/OS)', () => {
  it.each([
    { desc: 'VIP_0', key: 'VIP_0', expected: true },
    { desc: 'VIP_1', key: 'VIP_1', expected: true },
    { desc: 'a uuid suffix', key: 'VIP_3f1e', expected: true },
    { desc: 'lower case', key: 'vip_web', expected: true },
    { desc: 'mixed case is not a VIP label', key: 'Vip_0', expected: false },
    { desc: 'a marathon-lb label', key: 'HAPROXY_0_VHOST', expected: false },
    { desc: 'VIP in the middle', key: 'MY_VIP', expected: false },
  ])('$desc', ({ key, expected }) => {
    expect(isVipLabelKey(key)).toBe(expected);
  });
});

describe('parseVipLabel: good labels', () => {
  it.each([
    {
      desc: 'named VIP with a leading slash',
      value: '/web:80',
      expected: { kind: 'named', key: 'VIP_0', name: '/web', port: 80, protocol: 'tcp' },
    },
    {
      desc: 'named VIP without the slash',
      value: 'web:8080',
      expected: { kind: 'named', key: 'VIP_0', name: 'web', port: 8080, protocol: 'tcp' },
    },
    {
      desc: 'a group path',
      value: '/my-group/my-app:5555',
      expected: { kind: 'named', key: 'VIP_0', name: '/my-group/my-app', port: 5555, protocol: 'tcp' },
    },
    {
      desc: 'a dotted name is not an address',
      value: '/web.v2:80',
      expected: { kind: 'named', key: 'VIP_0', name: '/web.v2', port: 80, protocol: 'tcp' },
    },
    {
      desc: 'an IPv4 VIP',
      value: '198.19.0.10:5000',
      expected: { kind: 'ip', key: 'VIP_0', address: '198.19.0.10', port: 5000, protocol: 'tcp' },
    },
    {
      desc: 'an IPv6 VIP split at the last colon',
      value: 'fd00:0:0:2::10:80',
      expected: { kind: 'ip', key: 'VIP_0', address: 'fd00:0:0:2::10', port: 80, protocol: 'tcp' },
    },
    {
      desc: 'an IPv6 VIP in brackets, made canonical',
      value: '[FD00:0:0:2:0:0:0:10]:443',
      expected: { kind: 'ip', key: 'VIP_0', address: 'fd00:0:0:2::10', port: 443, protocol: 'tcp' },
    },
    {
      desc: 'port 65535',
      value: '/web:65535',
      expected: { kind: 'named', key: 'VIP_0', name: '/web', port: 65535, protocol: 'tcp' },
    },
  ])('$desc', ({ value, expected }) => {
    expect(parseVipLabel('VIP_0', value, 'tcp')).toEqual(expected);
  });

  it('takes the protocol from the task port', () => {
    expect(parseVipLabel('VIP_1', '/dns:53', 'udp')).toEqual({
      kind: 'named',
      key: 'VIP_1',
      name: '/dns',
      port: 53,
      protocol: 'udp',
    });
  });
});

describe('parseVipLabel: bad labels name the key and the reason', () => {
  it.each([
    { desc: 'empty value', value: '', reason: 'there is no ":port"' },
    {
      desc: 'no port',
      value: '/web',
      reason: 'must be "/name:port" (a named VIP) or "ip:port" (an IP VIP); there is no ":port"',
    },
    {
      desc: 'empty port',
      value: '/web:',
      reason: 'the port after the last ":" must be an integer 1-65535, got ""',
    },
    { desc: 'port 0', value: '/web:0', reason: 'must be an integer 1-65535, got "0"' },
    { desc: 'port 65536', value: '/web:65536', reason: 'got "65536"' },
    { desc: 'port a name', value: '/web:http', reason: 'got "http"' },
    { desc: 'port with a sign', value: '/web:+80', reason: 'got "+80"' },
    { desc: 'port with a space', value: '/web: 80', reason: 'got " 80"' },
    { desc: 'empty name', value: ':80', reason: 'the name before ":80" is empty' },
    { desc: 'only a slash', value: '/:80', reason: 'the name before ":80" is empty' },
    {
      desc: 'a name with nothing DNS-safe',
      value: '/__:80',
      reason: 'the name "/__" has no letters or digits',
    },
    { desc: 'a name with a space', value: '/my app:80', reason: 'the name "/my app" contains white space' },
    {
      desc: 'a bad IPv4 address',
      value: '198.19.0.256:80',
      reason: '"198.19.0.256" looks like an IP address but is not one',
    },
    {
      desc: 'a bad IPv6 address',
      value: 'fd00:::1:80',
      reason: '"fd00:::1" looks like an IP address but is not one',
    },
    {
      desc: 'an IPv6 address without its port',
      value: 'fd00::1',
      reason:
        '"fd00:" looks like an IP address but is not one (an IPv6 VIP is "[address]:port" or "address:port")',
    },
  ])('$desc', ({ value, reason }) => {
    const err = errorFrom(() => parseVipLabel('VIP_0', value, 'tcp'));
    expect(err.code).toBe(VIP_ERROR_CODES.BAD_LABEL);
    expect(err.field).toBe('VIP_0');
    expect(err.reason).toContain(reason);
    expect(err.message).toContain(`port label VIP_0=${JSON.stringify(value)}: `);
  });
});

describe('taskVipLabels', () => {
  it('collects good labels and turns bad ones into problems naming the task and the key', () => {
    const task = stored<'Task'>(
      taskInput('web.1', {
        vip: { VIP_0: '/web:80', VIP_1: '/web', vip_admin: '/admin:9000', HAPROXY_0: 'x' },
      }),
    );
    const { labels, problems } = taskVipLabels(task, 'Task/default/web.1');
    expect(labels.map((l) => l.label)).toEqual([
      { kind: 'named', key: 'VIP_0', name: '/web', port: 80, protocol: 'tcp' },
      { kind: 'named', key: 'vip_admin', name: '/admin', port: 9000, protocol: 'tcp' },
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe(VIP_ERROR_CODES.BAD_LABEL);
    expect(problems[0]?.field).toBe('VIP_1');
    expect(problems[0]?.message).toBe(
      'Task/default/web.1 port label VIP_1="/web": must be "/name:port" (a named VIP) or "ip:port" (an IP VIP); there is no ":port"',
    );
    expect(problems[0]?.details).toEqual({ owner: 'Task/default/web.1' });
  });

  it('finds nothing on a task without port labels', () => {
    const task = stored<'Task'>(taskInput('web.1'));
    expect(taskVipLabels(task, 'Task/default/web.1')).toEqual({ labels: [], problems: [] });
  });
});

describe('naming', () => {
  it.each([
    { desc: 'a leading slash dropped', raw: '/web', expected: 'web' },
    {
      desc: 'group slashes dropped, not turned into "-" (DC/OS)',
      raw: '/mygroup/myapp',
      expected: 'mygroupmyapp',
    },
    { desc: 'upper case lowered, "_" to "-"', raw: '/My_App', expected: 'my-app' },
    { desc: 'dots kept', raw: '/web.v2', expected: 'web.v2' },
    { desc: 'empty pieces dropped', raw: '/web..v2.', expected: 'web.v2' },
    { desc: 'leading and trailing "-" trimmed', raw: '/-web-', expected: 'web' },
    { desc: 'pieces cut at 63', raw: `/${'a'.repeat(70)}`, expected: 'a'.repeat(63) },
    { desc: 'nothing usable', raw: '/__', expected: '' },
  ])('vipDnsName: $desc', ({ raw, expected }) => {
    expect(vipDnsName(raw)).toBe(expected);
  });

  it.each([
    { desc: 'IPv4 dashed', address: '198.19.0.10', expected: '198-19-0-10' },
    { desc: 'IPv6 as 32 hex digits', address: 'fd00::10', expected: `fd00${'0'.repeat(26)}10` },
  ])('ipVipName: $desc', ({ address, expected }) => {
    expect(ipVipName(address)).toBe(expected);
  });

  it.each([
    { desc: 'namespace-qualified by default', labels: {}, expected: { framework: 'prod.svc' } },
    {
      desc: 'the framework label when it is a DNS label',
      labels: { 'switchyard.io/framework': 'marathon' },
      expected: { framework: 'marathon' },
    },
    {
      desc: 'a dotted framework label is refused',
      labels: { 'switchyard.io/framework': 'ip.vip' },
      expected: {
        framework: 'prod.svc',
        problem:
          'label switchyard.io/framework="ip.vip" is not a DNS label (lowercase letters, digits, "-"); using prod.svc',
      },
    },
  ])('serviceVipFramework: $desc', ({ labels, expected }) => {
    const service = stored<'Service'>(
      serviceInput('web', { namespace: 'prod', vipName: '/web', labels: labels as Record<string, string> }),
    );
    expect(serviceVipFramework(service as StoredObject<'Service'>)).toEqual(expected);
  });
});
