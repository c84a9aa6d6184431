import { parseRequestHead, type RequestHead } from './index';

// What a parsed request head hands the proxy to forward: the header block without hop-by-hop
// fields, and the few facts read out of them (Upgrade, Expect, X-Forwarded-For, Cookie).

/** A request head from its lines (the text before the blank line, as the proxy hands it over). */
const request = (...lines: string[]): RequestHead => parseRequestHead(lines.join('\r\n'));

describe('parseRequestHead: hop-by-hop fields', () => {
  const dropped = [
    'Connection: keep-alive',
    'Keep-Alive: timeout=5',
    'Proxy-Connection: keep-alive',
    'Proxy-Authorization: Basic eDp5',
    'TE: trailers',
    'Trailer: X-Sum',
    'Upgrade: h2c',
    'Expect: 100-continue',
    'X-Forwarded-For: 203.0.113.7',
    'X-Forwarded-Proto: https',
    'X-Forwarded-Port: 443',
    'X-Forwarded-Host: evil.example',
  ];
  const kept = [
    'Host: example.org',
    'User-Agent: t/1',
    'accept:   */*  ',
    'X-Mixed-CASE: Va lue',
    'Cookie: a=1',
  ];

  test.each([
    { desc: 'with Content-Length', framing: 'Content-Length: 3' },
    { desc: 'with Transfer-Encoding', framing: 'Transfer-Encoding: chunked' },
  ])('only end-to-end fields are forwarded, in order, byte for byte ($desc)', ({ framing }) => {
    // Kept and dropped fields interleaved: one kept field after every three dropped ones.
    const lines = dropped.flatMap((line, i) => (i % 3 === 0 ? [kept[i / 3] ?? '', line] : [line]));
    lines.push(framing, kept[4] ?? '');
    expect(request('POST / HTTP/1.1', ...lines).headers).toBe(kept.map((l) => `${l}\r\n`).join(''));
  });

  test('dropped names match case-insensitively', () => {
    const head = request(
      'GET / HTTP/1.1',
      'host: h',
      'CONNECTION: close',
      'x-FORWARDED-for: 1.2.3.4',
      'te: trailers',
    );
    expect(head.headers).toBe('host: h\r\n');
  });

  test('fields named by Connection are hop-by-hop too', () => {
    const head = request(
      'GET / HTTP/1.1',
      'Host: h',
      'X-Secret: 1',
      'Connection: close, X-Secret , x-other',
      'x-secret: 2',
      'X-Secret-Not: 3',
      'X-OTHER: 4',
      'X-Kept: 5',
    );
    expect(head.keepAlive).toBe(false);
    expect(head.headers).toBe('Host: h\r\nX-Secret-Not: 3\r\nX-Kept: 5\r\n');
  });

  test('Connection cannot strip Host (it routes the request)', () => {
    const head = request('GET / HTTP/1.1', 'Host: example.org', 'Connection: host, x-a', 'X-A: 1');
    expect(head.headers).toBe('Host: example.org\r\n');
    expect(head.host).toBe('example.org');
  });

  test('an empty Upgrade value is no upgrade', () => {
    expect(request('GET / HTTP/1.1', 'Host: h', 'Connection: upgrade', 'Upgrade: ').upgrade).toBeUndefined();
  });

  test('Connection naming a field that is absent changes nothing', () => {
    expect(request('GET / HTTP/1.1', 'Host: h', 'Connection: X-None', 'X-A: 1').headers).toBe(
      'Host: h\r\nX-A: 1\r\n',
    );
  });
});

describe('parseRequestHead: Upgrade and Expect', () => {
  test.each([
    {
      desc: 'Connection: upgrade + Upgrade',
      version: '1.1',
      fields: ['Connection: upgrade', 'Upgrade: websocket'],
      upgrade: 'websocket',
    },
    {
      desc: 'token case-insensitive, in a list',
      version: '1.1',
      fields: ['Connection: keep-alive, Upgrade', 'Upgrade: websocket'],
      upgrade: 'websocket',
    },
    {
      desc: 'Upgrade first, then Connection',
      version: '1.1',
      fields: ['Upgrade: websocket', 'Connection: upgrade'],
      upgrade: 'websocket',
    },
    {
      desc: 'Upgrade without the Connection token',
      version: '1.1',
      fields: ['Upgrade: websocket'],
      upgrade: undefined,
    },
    {
      desc: 'Connection token without Upgrade',
      version: '1.1',
      fields: ['Connection: upgrade'],
      upgrade: undefined,
    },
    {
      desc: 'ignored in HTTP/1.0 (RFC 9110 §7.8)',
      version: '1.0',
      fields: ['Connection: upgrade', 'Upgrade: websocket'],
      upgrade: undefined,
    },
  ])('upgrade: $desc', ({ version, fields, upgrade }) => {
    const head = request(`GET / HTTP/${version}`, 'Host: h', ...fields);
    expect(head.upgrade).toBe(upgrade);
    expect(head.headers).toBe('Host: h\r\n');
  });

  test.each([
    { desc: '100-continue', version: '1.1', fields: ['Expect: 100-continue'], expected: true },
    { desc: 'case-insensitive', version: '1.1', fields: ['expect: 100-Continue'], expected: true },
    { desc: 'other expectation', version: '1.1', fields: ['Expect: something'], expected: false },
    { desc: 'absent', version: '1.1', fields: [], expected: false },
    {
      desc: 'ignored in HTTP/1.0 (RFC 9110 §10.1.1)',
      version: '1.0',
      fields: ['Expect: 100-continue'],
      expected: false,
    },
  ])('expectContinue: $desc', ({ version, fields, expected }) => {
    expect(request(`POST / HTTP/${version}`, 'Host: h', 'Content-Length: 1', ...fields).expectContinue).toBe(
      expected,
    );
  });
});

describe('parseRequestHead: combined fields', () => {
  test('X-Forwarded-For fields are joined with ", " and not forwarded', () => {
    const head = request(
      'GET / HTTP/1.1',
      'Host: h',
      'X-Forwarded-For: 1.1.1.1',
      'x-forwarded-for:2.2.2.2, 3.3.3.3 ',
    );
    expect(head.forwardedFor).toBe('1.1.1.1, 2.2.2.2, 3.3.3.3');
    expect(head.headers).toBe('Host: h\r\n');
  });

  test('Cookie fields are joined with "; " and still forwarded as sent', () => {
    const head = request('GET / HTTP/1.1', 'Host: h', 'Cookie: a=1', 'X-A: 1', 'cookie: b=2; c=3');
    expect(head.cookie).toBe('a=1; b=2; c=3');
    expect(head.headers).toBe('Host: h\r\nCookie: a=1\r\nX-A: 1\r\ncookie: b=2; c=3\r\n');
  });

  test('one field each', () => {
    const head = request('GET / HTTP/1.1', 'Host: h', 'X-Forwarded-For: 10.0.0.1', 'Cookie: s=x');
    expect(head.forwardedFor).toBe('10.0.0.1');
    expect(head.cookie).toBe('s=x');
  });
});
