import { parseCniArgs, parseRequest, runCni, versionInfo, type CniEnv, type CniHandlers } from './envelope';

const ENV: CniEnv = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/run/netns/p1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
};
const CONF = JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: 'switchyard-cni' });

const ok: CniHandlers = {
  ADD: async () => ({ cniVersion: '1.0.0', ips: [] }),
  DEL: async () => undefined,
  CHECK: async () => undefined,
  GC: async () => undefined,
  STATUS: async () => undefined,
};

describe('runCni (the envelope)', () => {
  it.each([
    {
      desc: 'missing CNI_COMMAND',
      env: { ...ENV, CNI_COMMAND: '' },
      stdin: CONF,
      code: 4,
      msg: 'required env variables [CNI_COMMAND] missing',
    },
    {
      desc: 'unknown command',
      env: { ...ENV, CNI_COMMAND: 'FOO' },
      stdin: CONF,
      code: 4,
      msg: 'unknown CNI_COMMAND: FOO',
    },
    {
      desc: 'ADD without netns and ifname',
      env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1' },
      stdin: CONF,
      code: 4,
      msg: 'required env variables [CNI_NETNS,CNI_IFNAME] missing',
    },
    {
      desc: 'bad container id',
      env: { ...ENV, CNI_CONTAINERID: '-x/y' },
      stdin: CONF,
      code: 4,
      msg: 'invalid characters in CNI_CONTAINERID',
    },
    {
      desc: 'interface name too long',
      env: { ...ENV, CNI_IFNAME: 'a-very-long-ifname' },
      stdin: CONF,
      code: 4,
      msg: 'invalid CNI_IFNAME "a-very-long-ifname"',
    },
    {
      desc: 'malformed CNI_ARGS',
      env: { ...ENV, CNI_ARGS: 'IP' },
      stdin: CONF,
      code: 4,
      msg: 'invalid CNI_ARGS pair "IP"',
    },
    {
      desc: 'stdin is not JSON',
      env: ENV,
      stdin: '{nope',
      code: 6,
      msg: 'failed to decode the network configuration',
    },
    {
      desc: 'stdin is a list',
      env: ENV,
      stdin: '[]',
      code: 6,
      msg: 'failed to decode the network configuration',
    },
    {
      desc: 'unknown version',
      env: ENV,
      stdin: '{"cniVersion":"9.9.9","name":"n"}',
      code: 1,
      msg: 'incompatible CNI versions',
    },
    { desc: 'no version', env: ENV, stdin: '{"name":"n"}', code: 1, msg: 'incompatible CNI versions' },
    {
      desc: 'GC under 1.0.0',
      env: { CNI_COMMAND: 'GC' },
      stdin: CONF,
      code: 1,
      msg: 'config version does not allow GC',
    },
    {
      desc: 'CHECK under 0.3.1',
      env: { ...ENV, CNI_COMMAND: 'CHECK' },
      stdin: '{"cniVersion":"0.3.1","name":"n"}',
      code: 1,
      msg: 'config version does not allow CHECK',
    },
    { desc: 'missing name', env: ENV, stdin: '{"cniVersion":"1.0.0"}', code: 7, msg: 'missing network name' },
    {
      desc: 'bad name',
      env: ENV,
      stdin: '{"cniVersion":"1.0.0","name":"a/b"}',
      code: 7,
      msg: 'invalid network name',
    },
  ])('$desc → code $code', async ({ env, stdin, code, msg }) => {
    const out = await runCni(env, stdin, ok);
    expect(out.exitCode).toBe(1);
    const json = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ code, msg });
    expect(typeof json.cniVersion).toBe('string');
  });

  it('an unexpected handler error is code 999 with the text in details', async () => {
    const out = await runCni(ENV, CONF, { ...ok, ADD: async () => Promise.reject(new Error('boom')) });
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: '1.0.0',
      code: 999,
      msg: 'internal error',
      details: 'boom',
    });
  });

  it.each([
    { desc: 'ADD prints the result', env: ENV, stdout: '{"cniVersion":"1.0.0","ips":[]}' },
    {
      desc: 'DEL without netns prints nothing',
      env: { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' },
      stdout: '',
    },
    {
      desc: 'STATUS needs no container env',
      env: { CNI_COMMAND: 'STATUS' },
      stdout: '',
      stdin: '{"cniVersion":"1.1.0","name":"n"}',
    },
  ])('$desc', async ({ env, stdout, stdin }) => {
    expect(await runCni(env, stdin ?? CONF, ok)).toEqual({ exitCode: 0, stdout });
  });

  it.each([
    { desc: 'a supported version is echoed', stdin: '{"cniVersion":"0.4.0"}', version: '0.4.0' },
    { desc: 'an unknown version gets the latest', stdin: '{"cniVersion":"0.1.0"}', version: '1.1.0' },
    { desc: 'empty stdin gets the latest', stdin: '', version: '1.1.0' },
  ])('VERSION: $desc', async ({ stdin, version }) => {
    const out = await runCni({ CNI_COMMAND: 'VERSION' }, stdin, ok);
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: version,
      supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
    expect(versionInfo(stdin).cniVersion).toBe(version);
  });
});

describe('parseRequest and parseCniArgs', () => {
  it('parses env and stdin into a request', () => {
    const r = parseRequest({ ...ENV, CNI_ARGS: 'IgnoreUnknown=1;IP=198.18.1.9' }, CONF);
    expect(r).toMatchObject({
      command: 'ADD',
      containerId: 'c1',
      netns: '/run/netns/p1',
      ifname: 'eth0',
      cniVersion: '1.0.0',
      path: ['/opt/cni/bin'],
    });
    expect(r.args).toEqual({ IgnoreUnknown: '1', IP: '198.18.1.9' });
  });
  it.each([
    { desc: 'empty', text: '', want: {} },
    { desc: 'trailing semicolon', text: 'A=1;', want: { A: '1' } },
    { desc: 'value with =', text: 'K8S_POD_NAME=a=b', want: { K8S_POD_NAME: 'a=b' } },
  ])('CNI_ARGS: $desc', ({ text, want }) => expect(parseCniArgs(text)).toEqual(want));
});
