import { HeadError, parseRequestHead, type RequestHead } from './index';

/** A request head from its lines (the text before the blank line, as the proxy hands it over). */
const request = (...lines: string[]): RequestHead => parseRequestHead(lines.join('\r\n'));

/** The status of the HeadError `fn` throws (fails the test on any other outcome). */
function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof HeadError) return err.status;
    throw err;
  }
  throw new Error('expected a HeadError, nothing was thrown');
}
const requestStatus = (...lines: string[]): number => statusOf(() => request(...lines));

describe('parseRequestHead: request line', () => {
  test('simple HTTP/1.1 GET', () => {
    expect(request('GET /index.html?q=1 HTTP/1.1', 'Host: example.org', 'Accept: */*')).toEqual({
      method: 'GET',
      target: '/index.html?q=1',
      minor: 1,
      contentLength: -1,
      chunked: false,
      keepAlive: true,
      host: 'example.org',
      upgrade: undefined,
      expectContinue: false,
      forwardedFor: undefined,
      cookie: undefined,
      headers: 'Host: example.org\r\nAccept: */*\r\n',
    });
  });

  test('simple HTTP/1.0 GET without Host or any field', () => {
    expect(request('GET / HTTP/1.0')).toEqual({
      method: 'GET',
      target: '/',
      minor: 0,
      contentLength: -1,
      chunked: false,
      keepAlive: false,
      host: undefined,
      upgrade: undefined,
      expectContinue: false,
      forwardedFor: undefined,
      cookie: undefined,
      headers: '',
    });
  });

  test.each([
    { desc: 'extension method', line: 'M-SEARCH / HTTP/1.1', method: 'M-SEARCH', target: '/' },
    { desc: 'OPTIONS * (asterisk-form)', line: 'OPTIONS * HTTP/1.1', method: 'OPTIONS', target: '*' },
    {
      desc: 'target kept byte for byte',
      line: 'GET /a%20b/;p?x=1&y#f HTTP/1.1',
      method: 'GET',
      target: '/a%20b/;p?x=1&y#f',
    },
    { desc: 'origin-form starting with //', line: 'GET //h/p HTTP/1.1', method: 'GET', target: '//h/p' },
  ])('$desc', ({ line, method, target }) => {
    const head = request(line, 'Host: example.org');
    expect(head.method).toBe(method);
    expect(head.target).toBe(target);
  });

  test.each([
    { desc: 'host, port, path and query', target: 'http://h:1/p?q', path: '/p?q', host: 'h:1' },
    { desc: 'query without a path', target: 'http://h?x', path: '/?x', host: 'h' },
    { desc: 'no path at all', target: 'http://example.org', path: '/', host: 'example.org' },
    {
      desc: 'https, scheme case-insensitive',
      target: 'HTTPS://Example.org/a/b',
      path: '/a/b',
      host: 'Example.org',
    },
    { desc: 'IPv6 literal', target: 'http://[::1]:8080/x', path: '/x', host: '[::1]:8080' },
  ])('absolute-form target: $desc', ({ target, path, host }) => {
    const head = request(`GET ${target} HTTP/1.1`, 'Host: other.example.org', 'X-A: 1');
    expect(head.target).toBe(path);
    expect(head.host).toBe(host);
    // RFC 9112 §3.2.2: the authority replaces the received Host for the backend as well.
    expect(head.headers).toBe(`X-A: 1\r\nHost: ${host}\r\n`);
  });

  test.each([
    { desc: 'relative path', target: 'p' },
    { desc: 'query only', target: '?x' },
    { desc: 'authority-form outside CONNECT', target: 'example.org:80' },
    { desc: 'unsupported scheme', target: 'ftp://h/p' },
    { desc: 'scheme with one slash', target: 'http:/h/p' },
    { desc: 'empty authority', target: 'http://' },
    { desc: 'empty host before the path', target: 'http:///p' },
    { desc: 'userinfo in the authority', target: 'http://user:pw@h/p' },
    { desc: 'asterisk inside a longer target', target: '*x' },
  ])('bad target → 400: $desc', ({ target }) => {
    expect(requestStatus(`GET ${target} HTTP/1.1`, 'Host: h')).toBe(400);
  });

  test('CONNECT → 501', () => {
    expect(requestStatus('CONNECT example.org:443 HTTP/1.1', 'Host: example.org:443')).toBe(501);
  });

  test.each([
    { desc: 'HTTP/2.0', version: 'HTTP/2.0', status: 505 },
    { desc: 'HTTP/1.2', version: 'HTTP/1.2', status: 505 },
    { desc: 'HTTP/3', version: 'HTTP/3', status: 505 },
    { desc: 'HTTP/0.9', version: 'HTTP/0.9', status: 505 },
    { desc: 'lowercase http/1.1', version: 'http/1.1', status: 400 },
    { desc: 'two-digit version', version: 'HTTP/11', status: 400 },
    { desc: 'trailing junk', version: 'HTTP/1.1x', status: 400 },
    { desc: 'other protocol', version: 'HTTX/1.1', status: 400 },
    { desc: 'garbage', version: 'banana', status: 400 },
  ])('version $desc → $status', ({ version, status }) => {
    expect(requestStatus(`GET / ${version}`, 'Host: h')).toBe(status);
  });

  test.each([
    { desc: 'two spaces after the method', line: 'GET  / HTTP/1.1' },
    { desc: 'two spaces before the version', line: 'GET /  HTTP/1.1' },
    { desc: 'leading space', line: ' GET / HTTP/1.1' },
    { desc: 'trailing space', line: 'GET / HTTP/1.1 ' },
    { desc: 'four parts', line: 'GET / x HTTP/1.1' },
    { desc: 'missing version', line: 'GET /' },
    { desc: 'method only', line: 'GET' },
    { desc: 'empty line', line: '' },
    { desc: 'tabs as separators', line: 'GET\t/\tHTTP/1.1' },
    { desc: 'method not a token', line: 'GE(T / HTTP/1.1' },
    { desc: 'NUL in the target', line: 'GET /a\x00b HTTP/1.1' },
    { desc: 'asterisk target outside OPTIONS', line: 'GET * HTTP/1.1' },
  ])('malformed request line → 400: $desc', ({ line }) => {
    expect(requestStatus(line, 'Host: h')).toBe(400);
  });
});

describe('parseRequestHead: keep-alive', () => {
  test.each([
    { desc: '1.1 keeps by default', version: '1.1', fields: [], keep: true },
    { desc: '1.1 Connection: close', version: '1.1', fields: ['Connection: close'], keep: false },
    {
      desc: '1.1 Connection: CLOSE (case-insensitive)',
      version: '1.1',
      fields: ['Connection: CLOSE'],
      keep: false,
    },
    { desc: '1.1 close in a list', version: '1.1', fields: ['Connection: keep-alive, close'], keep: false },
    {
      desc: '1.1 close in a second field',
      version: '1.1',
      fields: ['Connection: keep-alive', 'connection: close'],
      keep: false,
    },
    { desc: '1.1 Connection: keep-alive', version: '1.1', fields: ['Connection: keep-alive'], keep: true },
    { desc: '1.0 closes by default', version: '1.0', fields: [], keep: false },
    { desc: '1.0 Connection: keep-alive', version: '1.0', fields: ['Connection: keep-alive'], keep: true },
    { desc: '1.0 Connection: Keep-Alive', version: '1.0', fields: ['Connection: Keep-Alive'], keep: true },
    {
      desc: '1.0 keep-alive then close',
      version: '1.0',
      fields: ['Connection: keep-alive,close'],
      keep: false,
    },
    {
      desc: '1.0 Proxy-Connection: keep-alive',
      version: '1.0',
      fields: ['Proxy-Connection: keep-alive'],
      keep: true,
    },
    {
      desc: '1.0 Keep-Alive header alone is not enough',
      version: '1.0',
      fields: ['Keep-Alive: timeout=5'],
      keep: false,
    },
  ])('$desc', ({ version, fields, keep }) => {
    expect(request(`GET / HTTP/${version}`, 'Host: h', ...fields).keepAlive).toBe(keep);
  });
});

describe('parseRequestHead: Content-Length', () => {
  test.each([
    { desc: 'plain', fields: ['Content-Length: 5'], length: 5 },
    { desc: 'zero', fields: ['Content-Length: 0'], length: 0 },
    { desc: 'lowercase name', fields: ['content-length: 12'], length: 12 },
    { desc: 'OWS around the value', fields: ['Content-Length: \t7 \t'], length: 7 },
    { desc: 'identical list', fields: ['Content-Length: 5, 5'], length: 5 },
    { desc: 'identical list without spaces', fields: ['Content-Length: 5,5,5'], length: 5 },
    { desc: 'identical fields', fields: ['Content-Length: 5', 'Content-Length: 5'], length: 5 },
    { desc: 'leading zeros', fields: ['Content-Length: 007'], length: 7 },
    { desc: '15 digits', fields: ['Content-Length: 999999999999999'], length: 999999999999999 },
  ])('$desc', ({ fields, length }) => {
    const head = request('POST / HTTP/1.1', 'Host: h', ...fields);
    expect(head.contentLength).toBe(length);
    expect(head.chunked).toBe(false);
    expect(head.headers).toBe('Host: h\r\n');
  });

  test.each([
    { desc: 'conflicting list', fields: ['Content-Length: 5, 6'] },
    { desc: 'conflicting fields', fields: ['Content-Length: 5', 'Content-Length: 6'] },
    { desc: 'empty', fields: ['Content-Length:'] },
    { desc: 'empty list element', fields: ['Content-Length: 5,,5'] },
    { desc: 'trailing comma', fields: ['Content-Length: 5,'] },
    { desc: 'letters', fields: ['Content-Length: abc'] },
    { desc: 'digits then letters', fields: ['Content-Length: 5a'] },
    { desc: 'plus sign', fields: ['Content-Length: +5'] },
    { desc: 'minus sign', fields: ['Content-Length: -5'] },
    { desc: 'hex', fields: ['Content-Length: 0x5'] },
    { desc: 'decimal point', fields: ['Content-Length: 5.0'] },
    { desc: 'exponent', fields: ['Content-Length: 1e3'] },
    { desc: 'space inside', fields: ['Content-Length: 1 0'] },
    { desc: '16 digits (huge)', fields: ['Content-Length: 1000000000000000'] },
    { desc: 'NBSP before the digits (not OWS)', fields: ['Content-Length: \xa05'] },
    { desc: 'NBSP after the digits (not OWS)', fields: ['Content-Length: 5\xa0'] },
  ])('$desc → 400', ({ fields }) => {
    expect(requestStatus('POST / HTTP/1.1', 'Host: h', ...fields)).toBe(400);
  });
});

describe('parseRequestHead: Transfer-Encoding', () => {
  test.each(['chunked', 'Chunked', 'CHUNKED', ' chunked\t'])('%j → chunked', (value) => {
    const head = request('POST / HTTP/1.1', 'Host: h', `Transfer-Encoding: ${value}`);
    expect(head.chunked).toBe(true);
    expect(head.contentLength).toBe(-1);
    expect(head.headers).toBe('Host: h\r\n');
  });

  test.each([
    { desc: 'gzip, chunked', fields: ['Transfer-Encoding: gzip, chunked'], status: 501 },
    { desc: 'identity', fields: ['Transfer-Encoding: identity'], status: 501 },
    { desc: 'gzip alone', fields: ['Transfer-Encoding: gzip'], status: 501 },
    { desc: 'chunked twice in a list', fields: ['Transfer-Encoding: chunked, chunked'], status: 501 },
    { desc: 'chunked followed by NBSP', fields: ['Transfer-Encoding: chunked\xa0'], status: 501 },
    { desc: 'empty', fields: ['Transfer-Encoding:'], status: 501 },
    {
      desc: 'TE then CL (smuggling)',
      fields: ['Transfer-Encoding: chunked', 'Content-Length: 5'],
      status: 400,
    },
    {
      desc: 'CL then TE (smuggling)',
      fields: ['Content-Length: 5', 'Transfer-Encoding: chunked'],
      status: 400,
    },
    { desc: 'TE with CL 0', fields: ['Content-Length: 0', 'Transfer-Encoding: chunked'], status: 400 },
    {
      desc: 'two TE fields',
      fields: ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
      status: 400,
    },
    {
      desc: 'two TE fields, second odd',
      fields: ['Transfer-Encoding: chunked', 'transfer-encoding: gzip'],
      status: 400,
    },
  ])('$desc → $status', ({ fields, status }) => {
    expect(requestStatus('POST / HTTP/1.1', 'Host: h', ...fields)).toBe(status);
  });

  test('chunked in HTTP/1.0 → 400', () => {
    expect(requestStatus('POST / HTTP/1.0', 'Transfer-Encoding: chunked')).toBe(400);
  });
});

describe('parseRequestHead: Host', () => {
  test.each([
    { desc: 'name', value: 'example.org' },
    { desc: 'name and port', value: 'example.org:8080' },
    { desc: 'IPv4', value: '198.18.0.1' },
    { desc: 'IPv6 literal with port', value: '[2001:db8::1]:80' },
    { desc: 'empty (allowed: no authority)', value: '' },
  ])('valid Host: $desc', ({ value }) => {
    const head = request('GET / HTTP/1.1', `Host: ${value}`);
    expect(head.host).toBe(value);
    expect(head.headers).toBe(`Host: ${value}\r\n`);
  });

  test('Host name is case-insensitive and the line is kept as sent', () => {
    const head = request('GET / HTTP/1.1', 'HOST:example.org');
    expect(head.host).toBe('example.org');
    expect(head.headers).toBe('HOST:example.org\r\n');
  });

  test.each([
    { desc: 'missing in HTTP/1.1', fields: [] },
    { desc: 'two Host fields', fields: ['Host: a', 'Host: b'] },
    { desc: 'two identical Host fields', fields: ['Host: a', 'host: a'] },
    { desc: 'space inside', fields: ['Host: a b'] },
    { desc: 'userinfo', fields: ['Host: user@a'] },
    { desc: 'path', fields: ['Host: a/b'] },
    { desc: 'query', fields: ['Host: a?b'] },
    { desc: 'non-ASCII byte', fields: ['Host: caf\xe9.example'] },
  ])('$desc → 400', ({ fields }) => {
    expect(requestStatus('GET / HTTP/1.1', ...fields)).toBe(400);
  });

  test('two Host fields in HTTP/1.0 → 400', () => {
    expect(requestStatus('GET / HTTP/1.0', 'Host: a', 'Host: b')).toBe(400);
  });

  test('HTTP/1.0 with Host', () => {
    expect(request('GET / HTTP/1.0', 'Host: a').host).toBe('a');
  });
});

describe('parseRequestHead: field syntax', () => {
  test.each([
    { desc: 'space before the colon', lines: ['Host : h'] },
    { desc: 'tab before the colon', lines: ['Host: h', 'X-A\t: 1'] },
    { desc: 'obs-fold with SP', lines: ['Host: h', 'X-A: 1', ' continued'] },
    { desc: 'obs-fold with HTAB', lines: ['Host: h', 'X-A: 1', '\tcontinued'] },
    { desc: 'no colon', lines: ['Host: h', 'X-A'] },
    { desc: 'empty name', lines: ['Host: h', ': v'] },
    { desc: 'name not a token', lines: ['Host: h', 'X(A): v'] },
    { desc: 'empty line inside the head', lines: ['Host: h', '', 'X-A: 1'] },
    { desc: 'NUL in a value', lines: ['Host: h', 'X-A: a\x00b'] },
    { desc: 'ESC in a value', lines: ['Host: h', 'X-A: a\x1bb'] },
    { desc: 'DEL in a value', lines: ['Host: h', 'X-A: a\x7f'] },
    { desc: 'vertical tab in a value', lines: ['Host: h', 'X-A: a\x0bb'] },
    { desc: 'bare CR in a value', lines: ['Host: h', 'X-A: a\rb'] },
    { desc: 'bare LF in a value', lines: ['Host: h', 'X-A: a\nb'] },
    { desc: 'bare LF line ends', lines: ['Host: h\nX-A: 1'] },
    { desc: 'bare CR line ends', lines: ['Host: h\rX-A: 1'] },
    { desc: 'LFCR line end', lines: ['Host: h\n\rX-A: 1'] },
  ])('$desc → 400', ({ lines }) => {
    expect(requestStatus('GET / HTTP/1.1', ...lines)).toBe(400);
  });

  test('bare LF after the request line → 400', () => {
    expect(statusOf(() => parseRequestHead('GET / HTTP/1.1\nHost: h'))).toBe(400);
  });

  test('HTAB and obs-text in values are allowed and kept', () => {
    const head = request('GET / HTTP/1.1', 'Host: h', 'X-A: a\tb', 'X-B: caf\xe9');
    expect(head.headers).toBe('Host: h\r\nX-A: a\tb\r\nX-B: caf\xe9\r\n');
  });
});
