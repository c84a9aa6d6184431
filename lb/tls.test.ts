import { buildSniIndex, certificateUnits, dnsNamesOf, lookupSni, parseCertificatePem } from './tls';
import { makeCertificate, requireOpenssl } from './tls-fixtures';

describe('lookupSni', () => {
  const index = buildSniIndex([
    { names: ['a.example.org', 'www.a.example.org'], value: 'a' },
    { names: ['*.b.example.org'], value: 'wild-b' },
    { names: ['x.b.example.org', 'a.example.org'], value: 'x' },
  ]);
  if (index === undefined) throw new Error('no index');

  it.each([
    { desc: 'an exact name', name: 'a.example.org', want: 'a' },
    { desc: 'another name of the same certificate', name: 'www.a.example.org', want: 'a' },
    { desc: 'any case and a trailing dot', name: 'A.Example.ORG.', want: 'a' },
    { desc: 'an exact name beats a wildcard', name: 'x.b.example.org', want: 'x' },
    { desc: 'a wildcard matches one label', name: 'shop.b.example.org', want: 'wild-b' },
    { desc: 'a wildcard does not match two labels', name: 'a.shop.b.example.org', want: 'a' },
    { desc: 'a wildcard does not match its own suffix', name: 'b.example.org', want: 'a' },
    {
      desc: 'an unknown name gets the default (the first certificate)',
      name: 'other.example.org',
      want: 'a',
    },
    { desc: 'no SNI gets the default', name: undefined, want: 'a' },
    { desc: 'an empty SNI gets the default', name: '', want: 'a' },
    { desc: 'a name without a dot gets the default', name: 'localhost', want: 'a' },
  ])('$desc', ({ name, want }) => expect(lookupSni(index, name)).toBe(want));

  it('the first certificate naming a host keeps it', () => {
    expect(index.exact.get('a.example.org')).toBe('a');
  });

  it('no certificate, no index', () => expect(buildSniIndex([])).toBeUndefined());
});

describe('certificateUnits', () => {
  it.each([
    {
      desc: 'every .pem, sorted byte-wise (the first is the default)',
      files: ['b.pem', 'a.pem', 'B.pem'],
      want: [{ file: 'B.pem' }, { file: 'a.pem' }, { file: 'b.pem' }],
    },
    {
      desc: 'a .crt with its .key, a .crt alone (key inside), a lone .key is no certificate',
      files: ['tls.key', 'tls.crt', 'solo.crt', 'orphan.key'],
      want: [{ file: 'solo.crt' }, { file: 'tls.crt', keyFile: 'tls.key' }],
    },
    {
      desc: 'hidden files and other names are ignored',
      files: ['.a.pem.tmp', '.b.pem', '..data', 'README', 'a.pem.ocsp', 'c.pem'],
      want: [{ file: 'c.pem' }],
    },
  ])('$desc', ({ files, want }) => expect(certificateUnits(files)).toEqual(want));
});

describe('dnsNamesOf', () => {
  it.each([
    {
      desc: 'SAN DNS entries',
      san: 'DNS:a.example.org, DNS:*.B.example.org',
      subject: 'CN=x',
      want: ['a.example.org', '*.b.example.org'],
    },
    {
      desc: 'IP entries are not names',
      san: 'IP Address:198.18.0.1, DNS:a.example.org',
      subject: 'CN=x',
      want: ['a.example.org'],
    },
    {
      desc: 'the CN without SAN',
      san: undefined,
      subject: 'C=DE\nCN=www.example.org.\nO=Example',
      want: ['www.example.org'],
    },
    {
      desc: 'the CN when SAN has no DNS entry',
      san: 'IP Address:198.18.0.1',
      subject: 'CN=a.example.org',
      want: ['a.example.org'],
    },
    {
      desc: 'quoted (escaped) entries are not host names',
      san: 'DNS:"a,b.example.org"',
      subject: 'O=x',
      want: [],
    },
    { desc: 'no SAN, no CN', san: undefined, subject: 'O=Example', want: [] },
  ])('$desc', ({ san, subject, want }) => expect(dnsNamesOf(san, subject)).toEqual(want));
});

describe('parseCertificatePem', () => {
  beforeAll(() => requireOpenssl());

  it('reads the chain and key of one .pem and the names of the leaf', () => {
    const leaf = makeCertificate('a.example.org', ['a.example.org', '*.a.example.org']);
    const other = makeCertificate('ca.example.org');
    const parsed = parseCertificatePem(leaf.cert + other.cert + leaf.key, leaf.cert + other.cert + leaf.key);
    expect(parsed.names).toEqual(['a.example.org', '*.a.example.org']);
    expect(parsed.chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(parsed.key).toContain('PRIVATE KEY');
  });

  it('takes the CN when the certificate has no SAN', () => {
    const cert = makeCertificate('cn-only.example.org', []);
    expect(parseCertificatePem(cert.pem, cert.pem).names).toEqual(['cn-only.example.org']);
  });

  it.each([
    { desc: 'no certificate', text: () => makeCertificate('a.test').key, reason: /no PEM certificate/ },
    { desc: 'no key', text: () => makeCertificate('a.test').cert, reason: /no PEM private key/ },
    {
      desc: 'a key that is not the certificate’s',
      text: () => makeCertificate('a.test').cert + makeCertificate('b.test').key,
      reason: /does not match the certificate/,
    },
    {
      desc: 'a certificate block that does not parse',
      text: () =>
        `-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n${makeCertificate('a.test').key}`,
      reason: /certificate does not parse/,
    },
    {
      desc: 'an encrypted key',
      text: () =>
        `${makeCertificate('a.test').cert}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----\n`,
      reason: /encrypted/,
    },
  ])('refuses $desc', ({ text, reason }) => {
    const pem = text();
    expect(() => parseCertificatePem(pem, pem)).toThrow(reason);
  });
});
