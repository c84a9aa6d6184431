import { HeadError, headEnd, parseResponseHead, type ResponseHead } from './index';

/** A response head from its lines (the text before the blank line). */
const response = (...lines: string[]): ResponseHead => parseResponseHead(lines.join('\r\n'));

/** The status of the HeadError parsing these lines throws (fails the test on any other outcome). */
function responseStatus(...lines: string[]): number {
  try {
    response(...lines);
  } catch (err) {
    if (err instanceof HeadError) return err.status;
    throw err;
  }
  throw new Error('expected a HeadError, nothing was thrown');
}

describe('parseResponseHead: status line', () => {
  test('HTTP/1.1 200 OK', () => {
    expect(response('HTTP/1.1 200 OK', 'Content-Type: text/plain')).toEqual({
      status: 200,
      minor: 1,
      statusRest: ' 200 OK',
      contentLength: -1,
      chunked: false,
      keepAlive: true,
      keepAliveTimeoutMs: -1,
      headers: 'Content-Type: text/plain\r\n',
    });
  });

  test.each([
    { desc: 'no reason phrase', line: 'HTTP/1.1 204', status: 204, rest: ' 204' },
    { desc: 'empty reason phrase', line: 'HTTP/1.1 404 ', status: 404, rest: ' 404 ' },
    {
      desc: 'reason with spaces',
      line: 'HTTP/1.1 500 Internal Server Error',
      status: 500,
      rest: ' 500 Internal Server Error',
    },
    { desc: 'interim', line: 'HTTP/1.1 103 Early Hints', status: 103, rest: ' 103 Early Hints' },
    {
      desc: 'switching protocols',
      line: 'HTTP/1.1 101 Switching Protocols',
      status: 101,
      rest: ' 101 Switching Protocols',
    },
    { desc: 'unregistered code', line: 'HTTP/1.1 599 x', status: 599, rest: ' 599 x' },
    {
      desc: 'reason with HTAB and obs-text',
      line: 'HTTP/1.1 200 \tOK caf\xe9',
      status: 200,
      rest: ' 200 \tOK caf\xe9',
    },
    { desc: 'HTTP/1.0', line: 'HTTP/1.0 200 OK', status: 200, rest: ' 200 OK' },
  ])('$desc', ({ line, status, rest }) => {
    const head = response(line);
    expect(head.status).toBe(status);
    expect(head.statusRest).toBe(rest);
    expect(head.minor).toBe(line.startsWith('HTTP/1.0') ? 0 : 1);
  });

  test.each([
    { desc: 'four-digit code', line: 'HTTP/1.1 2000 OK' },
    { desc: 'two-digit code', line: 'HTTP/1.1 20 OK' },
    { desc: 'code 600', line: 'HTTP/1.1 600 X' },
    { desc: 'code 099', line: 'HTTP/1.1 099 X' },
    { desc: 'letters for a code', line: 'HTTP/1.1 abc' },
    { desc: 'no code', line: 'HTTP/1.1' },
    { desc: 'space but no code', line: 'HTTP/1.1 ' },
    { desc: 'two spaces before the code', line: 'HTTP/1.1  200 OK' },
    { desc: 'no space before the code', line: 'HTTP/1.1200 OK' },
    { desc: 'no space after the code', line: 'HTTP/1.1 200OK' },
    { desc: 'lowercase version', line: 'http/1.1 200 OK' },
    { desc: 'HTTP/2.0 (502, not 505)', line: 'HTTP/2.0 200 OK' },
    { desc: 'HTTP/1.2', line: 'HTTP/1.2 200 OK' },
    { desc: 'two-digit minor', line: 'HTTP/1.10 200 OK' },
    { desc: 'other protocol', line: 'ICY 200 OK' },
    { desc: 'empty', line: '' },
    { desc: 'NUL in the reason', line: 'HTTP/1.1 200 O\x00K' },
  ])('malformed status line → 502: $desc', ({ line }) => {
    expect(responseStatus(line)).toBe(502);
  });

  test.each([
    { desc: 'space before the colon', lines: ['Server : x'] },
    { desc: 'obs-fold', lines: ['X-A: 1', ' more'] },
    { desc: 'no colon', lines: ['X-A'] },
    { desc: 'control character', lines: ['X-A: \x01'] },
  ])('malformed field → 502: $desc', ({ lines }) => {
    expect(responseStatus('HTTP/1.1 200 OK', ...lines)).toBe(502);
  });

  test('bare LF line end → 502', () => {
    expect(() => parseResponseHead('HTTP/1.1 200 OK\nX-A: 1')).toThrow(HeadError);
    expect(responseStatus('HTTP/1.1 200 OK\nX-A: 1')).toBe(502);
  });
});

describe('parseResponseHead: keep-alive and framing', () => {
  test.each([
    { desc: '1.1 keeps by default', lines: ['HTTP/1.1 200 OK'], keep: true },
    { desc: '1.1 Connection: close', lines: ['HTTP/1.1 200 OK', 'Connection: close'], keep: false },
    { desc: '1.0 closes by default', lines: ['HTTP/1.0 200 OK'], keep: false },
    { desc: '1.0 Connection: keep-alive', lines: ['HTTP/1.0 200 OK', 'Connection: keep-alive'], keep: true },
    {
      desc: '1.0 keep-alive, close',
      lines: ['HTTP/1.0 200 OK', 'Connection: Keep-Alive, Close'],
      keep: false,
    },
  ])('keepAlive: $desc', ({ lines, keep }) => {
    expect(response(...lines).keepAlive).toBe(keep);
  });

  test.each([
    { desc: 'Content-Length', fields: ['Content-Length: 10'], length: 10, chunked: false },
    { desc: 'identical Content-Length list', fields: ['Content-Length: 5, 5'], length: 5, chunked: false },
    { desc: 'chunked', fields: ['Transfer-Encoding: chunked'], length: -1, chunked: true },
    { desc: 'chunked, any case', fields: ['transfer-encoding: CHUNKED'], length: -1, chunked: true },
    { desc: 'neither (read until close)', fields: [], length: -1, chunked: false },
  ])('framing: $desc', ({ fields, length, chunked }) => {
    const head = response('HTTP/1.1 200 OK', ...fields);
    expect(head.contentLength).toBe(length);
    expect(head.chunked).toBe(chunked);
    expect(head.headers).toBe('');
  });

  test.each([
    { desc: 'TE + CL', version: '1.1', fields: ['Transfer-Encoding: chunked', 'Content-Length: 3'] },
    { desc: 'CL + TE', version: '1.1', fields: ['Content-Length: 3', 'Transfer-Encoding: chunked'] },
    {
      desc: 'conflicting Content-Length',
      version: '1.1',
      fields: ['Content-Length: 3', 'Content-Length: 4'],
    },
    { desc: 'invalid Content-Length', version: '1.1', fields: ['Content-Length: -1'] },
    { desc: 'unsupported coding', version: '1.1', fields: ['Transfer-Encoding: gzip'] },
    { desc: 'gzip, chunked', version: '1.1', fields: ['Transfer-Encoding: gzip, chunked'] },
    {
      desc: 'two TE fields',
      version: '1.1',
      fields: ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
    },
    { desc: 'TE in HTTP/1.0 (RFC 9112 §6.1)', version: '1.0', fields: ['Transfer-Encoding: chunked'] },
  ])('bad framing → 502: $desc', ({ version, fields }) => {
    expect(responseStatus(`HTTP/${version} 200 OK`, ...fields)).toBe(502);
  });

  test.each([
    { desc: 'timeout only', value: 'timeout=5', ms: 5000 },
    { desc: 'timeout then max', value: 'timeout=5, max=100', ms: 5000 },
    { desc: 'max then timeout', value: 'max=100, timeout=7', ms: 7000 },
    { desc: 'case and spaces', value: 'Timeout = 3', ms: 3000 },
    { desc: 'max only', value: 'max=5', ms: -1 },
    { desc: 'zero: do not reuse', value: 'timeout=0', ms: 0 },
    { desc: 'not a whole parameter name', value: 'xtimeout=5', ms: -1 },
    { desc: 'no number', value: 'timeout=', ms: -1 },
  ])('Keep-Alive: $value → $ms ms ($desc)', ({ value, ms }) => {
    const head = response('HTTP/1.1 200 OK', `Keep-Alive: ${value}`);
    expect(head.keepAliveTimeoutMs).toBe(ms);
    expect(head.headers).toBe('');
  });

  test('no Keep-Alive field → -1 (not given)', () => {
    expect(response('HTTP/1.1 200 OK').keepAliveTimeoutMs).toBe(-1);
  });

  test('hop-by-hop fields are stripped, end-to-end ones kept in order and as sent', () => {
    const head = response(
      'HTTP/1.1 200 OK',
      'Content-Type: text/html',
      'Connection: keep-alive, X-Internal',
      'Keep-Alive: timeout=5',
      'Set-Cookie: a=1',
      'Proxy-Authenticate: Basic',
      'Proxy-Connection: keep-alive',
      'trailer: X-Sum',
      'Transfer-Encoding: chunked',
      'Upgrade: h2c',
      'x-internal: secret',
      'set-cookie: b=2',
      'X-Forwarded-For: 1.2.3.4',
    );
    expect(head.chunked).toBe(true);
    expect(head.keepAliveTimeoutMs).toBe(5000);
    expect(head.headers).toBe(
      'Content-Type: text/html\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Forwarded-For: 1.2.3.4\r\n',
    );
  });

  test('Content-Length is stripped (the proxy restates framing)', () => {
    expect(response('HTTP/1.1 200 OK', 'Content-Length: 2', 'ETag: "x"').headers).toBe('ETag: "x"\r\n');
  });
});

describe('headEnd', () => {
  const head = 'GET / HTTP/1.1\r\nHost: h\r\n\r\n';

  test.each([
    { desc: 'whole head', text: head, from: 0, end: head.length },
    { desc: 'head followed by a body', text: `${head}hello`, from: 0, end: head.length },
    { desc: 'the first terminator wins', text: `${head}${head}`, from: 0, end: head.length },
    { desc: 'bare CRLFCRLF', text: '\r\n\r\n', from: 0, end: 4 },
    { desc: 'no terminator yet', text: 'GET / HTTP/1.1\r\nHost: h\r\n', from: 0, end: -1 },
    { desc: 'terminator cut short', text: 'GET / HTTP/1.1\r\nHost: h\r\n\r', from: 0, end: -1 },
    { desc: 'LFLF is not a terminator', text: 'GET / HTTP/1.1\nHost: h\n\n', from: 0, end: -1 },
    { desc: 'empty buffer', text: '', from: 0, end: -1 },
    {
      desc: 'from past a terminator that is already behind',
      text: `${head}xxxxx`,
      from: head.length + 3,
      end: -1,
    },
  ])('$desc', ({ text, from, end }) => {
    expect(headEnd(Buffer.from(text, 'latin1'), from)).toBe(end);
  });

  test('a terminator split across the previous search boundary is found (from backs up 3 bytes)', () => {
    const buffer = Buffer.from(`${head}body`, 'latin1');
    const at = head.length - 4;
    // A previous call saw `from` bytes and found nothing: every split inside the terminator.
    for (let from = 0; from <= at + 3; from++) expect(headEnd(buffer, from)).toBe(head.length);
    expect(headEnd(buffer, at + 4)).toBe(-1);
  });

  test('incremental reads: every arrival split finds the same end', () => {
    const full = Buffer.from(`${head}rest`, 'latin1');
    for (let split = 1; split < full.length; split++) {
      const first = full.subarray(0, split);
      const firstEnd = headEnd(first, 0);
      const end = firstEnd >= 0 ? firstEnd : headEnd(full, first.length);
      expect(end).toBe(head.length);
    }
  });

  test('byte-by-byte arrival finds the end at the last terminator byte', () => {
    const full = Buffer.from(head, 'latin1');
    let searched = 0;
    for (let n = 1; n <= full.length; n++) {
      const end = headEnd(full.subarray(0, n), searched);
      expect(end).toBe(n === full.length ? full.length : -1);
      searched = n;
    }
  });
});
