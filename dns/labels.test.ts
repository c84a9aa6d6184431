import {
  agentTail,
  appHostname,
  canonicalLabel,
  hash5,
  sanitizeDomain,
  sanitizeLabel,
  type LabelSpec,
} from './labels';

describe('sanitizeLabel (Mesos-DNS labels_test.go vectors)', () => {
  const cases: Array<{ desc: string; input: string; spec: LabelSpec; want: string }> = [
    { desc: 'leading digit kept under RFC 1123', input: '4abc123', spec: 'rfc1123', want: '4abc123' },
    { desc: 'leading digit stripped under RFC 952', input: '4abc123', spec: 'rfc952', want: 'abc123' },
    { desc: 'dots become dashes', input: 'a.b.c.d.e', spec: 'rfc1123', want: 'a-b-c-d-e' },
    { desc: 'dotted task name', input: 'r29f.dev.angrypigs', spec: 'rfc1123', want: 'r29f-dev-angrypigs' },
    {
      desc: 'other characters dropped',
      input: 'fd%gsf---gs7-f$gs--d7fddg-123',
      spec: 'rfc1123',
      want: 'fdgsf---gs7-fgs--d7fddg-123',
    },
    {
      desc: 'RFC 952 cuts at 24',
      input: 'fd%gsf---gs7-f$gs--d7fddg-123',
      spec: 'rfc952',
      want: 'fdgsf---gs7-fgs--d7fddg1',
    },
    {
      desc: 'dash run at the cut collapses and refills',
      input: `hello${'-'.repeat(58)}f`,
      spec: 'rfc1123',
      want: 'hellof',
    },
    { desc: 'upper case and spaces', input: 'Chronos Prod', spec: 'rfc1123', want: 'chronosprod' },
    { desc: 'underscores become dashes, edges trimmed', input: '_web_', spec: 'rfc1123', want: 'web' },
  ];
  it.each(cases)('$desc', ({ input, spec, want }) => {
    expect(sanitizeLabel(input, spec)).toBe(want);
  });
});

describe('sanitizeDomain (DomainFrag)', () => {
  const cases = [
    {
      desc: 'dots kept, pieces sanitised',
      input: 'pod_123$abc.marathon-0.6.0-dev.mesos',
      spec: 'rfc1123' as const,
      want: 'pod-123abc.marathon-0.6.0-dev.mesos',
    },
    {
      desc: 'RFC 952 drops digit-only pieces',
      input: 'pod_123$abc.marathon-0.6.0-dev.mesos',
      spec: 'rfc952' as const,
      want: 'pod-123abc.marathon-0.dev.mesos',
    },
    { desc: 'framework with dots', input: 'spark.prod-1', spec: 'rfc1123' as const, want: 'spark.prod-1' },
  ];
  it.each(cases)('$desc', ({ input, spec, want }) => {
    expect(sanitizeDomain(input, spec)).toBe(want);
  });
});

describe('names', () => {
  it('hash5 matches the Mesos-DNS test vectors', () => {
    expect(hash5('test')).toBe('iffe9');
    expect(hash5('web.0c9e2f4a-1111-11ee-8a00-0242ac110001')).toBe('e1s3d');
    expect(hash5('cache.5d0e7a22-4444-11ee-8a00-0242ac110001')).toBe('em3sp');
  });

  it('appHostname reverses Marathon path segments', () => {
    expect(appHostname('/prod/db/mysql')).toBe('mysql.db.prod');
    expect(appHostname('group/web')).toBe('web.group');
    expect(sanitizeLabel(appHostname('group/web'))).toBe('web-group');
  });

  it('agentTail takes the part after the last dash', () => {
    expect(agentTail('c0ffee00-0000-4000-8000-000000000000-S7')).toBe('s7');
  });

  it('canonical labels never exceed 63 characters (Mesos-DNS emits 72)', () => {
    const long = sanitizeLabel('x'.repeat(80));
    const label = canonicalLabel(long, 'task-1', 'agent-S3', 'rfc1123');
    expect(label.length).toBeLessThanOrEqual(63);
    expect(label).toMatch(/^x+-[a-z0-9]{5}-s3$/);
    expect(canonicalLabel('web', 'test', 'agent-S3', 'rfc1123')).toBe('web-iffe9-s3');
  });
});
