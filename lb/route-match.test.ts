import { buildHttpRouter, hostOnly, matchRoute, type IngressRuleInput } from './route-match';

const rules: IngressRuleInput[] = [
  { host: 'shop.example.org', path: '/', pathType: 'Prefix', pool: 'shop' },
  { host: 'shop.example.org', path: '/api', pathType: 'Prefix', pool: 'shop-api' },
  { host: 'shop.example.org', path: '/api/v2/', pathType: 'Prefix', pool: 'shop-api-v2' },
  { host: 'shop.example.org', path: '/login', pathType: 'Exact', pool: 'login' },
  { host: '*.example.org', path: '/', pathType: 'Prefix', pool: 'wildcard' },
  { path: '/static', pathType: 'Prefix', pool: 'static' },
];
const router = buildHttpRouter(rules, 'default');

describe('matchRoute', () => {
  const cases: Array<{ desc: string; host?: string; url: string; pool: string | undefined }> = [
    { desc: 'host root prefix', host: 'shop.example.org', url: '/cart', pool: 'shop' },
    { desc: 'longer prefix wins', host: 'shop.example.org', url: '/api/orders', pool: 'shop-api' },
    {
      desc: 'longest prefix wins, trailing slash in rule ignored',
      host: 'shop.example.org',
      url: '/api/v2/x',
      pool: 'shop-api-v2',
    },
    { desc: 'prefix matches the path itself', host: 'shop.example.org', url: '/api', pool: 'shop-api' },
    { desc: 'prefix matches with trailing slash', host: 'shop.example.org', url: '/api/', pool: 'shop-api' },
    {
      desc: 'prefix is per segment: /apiary is not /api',
      host: 'shop.example.org',
      url: '/apiary',
      pool: 'shop',
    },
    { desc: 'exact match', host: 'shop.example.org', url: '/login', pool: 'login' },
    { desc: 'exact does not match a sub-path', host: 'shop.example.org', url: '/login/x', pool: 'shop' },
    { desc: 'query string ignored', host: 'shop.example.org', url: '/login?next=/', pool: 'login' },
    {
      desc: 'host is case-insensitive and port ignored',
      host: 'SHOP.Example.org:8080',
      url: '/api',
      pool: 'shop-api',
    },
    { desc: 'wildcard matches one label', host: 'blog.example.org', url: '/x', pool: 'wildcard' },
    { desc: 'wildcard does not match two labels', host: 'a.b.example.org', url: '/x', pool: 'default' },
    { desc: 'wildcard does not match the bare domain', host: 'example.org', url: '/x', pool: 'default' },
    { desc: 'host-less rule for an unknown host', host: 'other.test', url: '/static/app.js', pool: 'static' },
    { desc: 'no Host header uses host-less rules', url: '/static', pool: 'static' },
    { desc: 'default backend when nothing matches', host: 'other.test', url: '/nothing', pool: 'default' },
  ];
  test.each(cases)('$desc', ({ host, url, pool }) => {
    expect(matchRoute(router, host, url)).toBe(pool);
  });

  test('no default backend → undefined', () => {
    expect(matchRoute(buildHttpRouter(rules, undefined), 'other.test', '/x')).toBeUndefined();
  });

  test('conflicting rules: the first wins and the conflict is reported', () => {
    const conflicts: string[] = [];
    const r = buildHttpRouter(
      [
        { path: '/a', pathType: 'Prefix', pool: 'one' },
        { path: '/a/', pathType: 'Prefix', pool: 'two' },
      ],
      undefined,
      (rule, winner) => conflicts.push(`${rule.pool}<${winner}`),
    );
    expect(matchRoute(r, undefined, '/a/b')).toBe('one');
    expect(conflicts).toEqual(['two<one']);
  });

  test.each([
    { desc: 'IPv6 literal keeps brackets', header: '[::1]:80', host: '[::1]' },
    { desc: 'empty', header: undefined, host: '' },
  ])('hostOnly: $desc', ({ header, host }) => expect(hostOnly(header)).toBe(host));
});
