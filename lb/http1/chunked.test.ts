import { ChunkedBody, HeadError } from './index';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

interface Outcome {
  /** The index feed returned last (-1: still wants bytes). */
  end: number;
  /** What the onData sink received, in order. */
  data: string;
  dataBytes: number;
  done: boolean;
}

/** Feed `buffer` to a fresh decoder in the given ranges (the last call's result is `end`). */
function feedRanges(buffer: Buffer, cuts: readonly number[], status: 400 | 502 = 400): Outcome {
  const body = new ChunkedBody(status);
  let data = '';
  const sink = (b: Buffer, start: number, end: number): void => {
    data += b.toString('latin1', start, end);
  };
  let end = -1;
  let start = 0;
  for (const cut of [...cuts, buffer.length]) {
    end = body.feed(buffer, start, cut, sink);
    if (end >= 0) break;
    start = cut;
  }
  return { end, data, dataBytes: body.dataBytes, done: body.done };
}

const whole = (text: string): Outcome => feedRanges(bytes(text), []);

/** The HeadError status feeding `text` whole throws (fails the test on any other outcome). */
function failure(text: string, status: 400 | 502 = 400): number {
  try {
    feedRanges(bytes(text), [], status);
  } catch (err) {
    if (err instanceof HeadError) return err.status;
    throw err;
  }
  throw new Error('expected a HeadError, nothing was thrown');
}

const SAMPLE = '5\r\nhello\r\n6;name=val\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n';

describe('ChunkedBody: decoding', () => {
  test('whole body in one feed', () => {
    expect(whole(SAMPLE)).toEqual({ end: SAMPLE.length, data: 'hello world', dataBytes: 11, done: true });
  });

  test('byte by byte: -1 until the last byte, then the same end and data', () => {
    const buffer = bytes(SAMPLE);
    const body = new ChunkedBody(400);
    let data = '';
    for (let i = 0; i < buffer.length; i++) {
      const end = body.feed(buffer, i, i + 1, (b, s, e) => (data += b.toString('latin1', s, e)));
      expect(end).toBe(i === buffer.length - 1 ? buffer.length : -1);
      expect(body.done).toBe(i === buffer.length - 1);
    }
    expect(data).toBe('hello world');
    expect(body.dataBytes).toBe(11);
  });

  test('every 2-way split gives the same end and data', () => {
    const buffer = bytes(SAMPLE);
    for (let cut = 0; cut <= buffer.length; cut++)
      expect({ cut, ...feedRanges(buffer, [cut]) }).toEqual({
        cut,
        end: SAMPLE.length,
        data: 'hello world',
        dataBytes: 11,
        done: true,
      });
  });

  test('every 3-way split of a short body gives the same end and data', () => {
    const text = '3\r\nabc\r\n1;x\r\nd\r\n0\r\nT: v\r\n\r\n';
    const buffer = bytes(text);
    for (let a = 0; a <= buffer.length; a++)
      for (let b = a; b <= buffer.length; b++) {
        const outcome = feedRanges(buffer, [a, b]);
        expect([a, b, outcome.end, outcome.data]).toEqual([a, b, text.length, 'abcd']);
      }
  });

  test.each([
    { desc: 'last chunk only', text: '0\r\n\r\n', data: '' },
    { desc: 'extension with a value', text: '5;name=val\r\nhello\r\n0\r\n\r\n', data: 'hello' },
    {
      desc: 'several extensions, quoted value',
      text: '5;a;b="q s";c=1\r\nhello\r\n0\r\n\r\n',
      data: 'hello',
    },
    { desc: 'BWS (SP) before ;', text: '5 ;x\r\nhello\r\n0\r\n\r\n', data: 'hello' },
    { desc: 'BWS (HTAB) before ;', text: '5\t;x\r\nhello\r\n0\r\n\r\n', data: 'hello' },
    { desc: 'extension on the last chunk', text: '0;last\r\n\r\n', data: '' },
    { desc: 'trailers', text: '1\r\nx\r\n0\r\nA: 1\r\nB: two words\r\n\r\n', data: 'x' },
    { desc: 'uppercase hex', text: `A\r\n${'0123456789'}\r\n0\r\n\r\n`, data: '0123456789' },
    {
      desc: 'mixed-case hex',
      text: `1f\r\n${'y'.repeat(31)}\r\n1F\r\n${'z'.repeat(31)}\r\n0\r\n\r\n`,
      data: `${'y'.repeat(31)}${'z'.repeat(31)}`,
    },
    { desc: 'leading zeros', text: '0005\r\nhello\r\n0\r\n\r\n', data: 'hello' },
    { desc: 'data holding CRLF and digits', text: '7\r\n\r\n0\r\n\r\n\r\n0\r\n\r\n', data: '\r\n0\r\n\r\n' },
    { desc: 'binary data', text: '3\r\n\x00\xff\n\r\n0\r\n\r\n', data: '\x00\xff\n' },
  ])('$desc', ({ text, data }) => {
    expect(whole(text)).toEqual({ end: text.length, data, dataBytes: data.length, done: true });
  });

  test('12 hex digits are accepted (the size is only waited for)', () => {
    expect(whole('FFFFFFFFFFFF\r\nabc')).toEqual({ end: -1, data: 'abc', dataBytes: 3, done: false });
  });

  test('bytes after the end: feed returns the index just past the end, not the buffer length', () => {
    const text = `${SAMPLE}GET /next HTTP/1.1\r\n`;
    expect(whole(text)).toEqual({ end: SAMPLE.length, data: 'hello world', dataBytes: 11, done: true });
    for (let cut = 0; cut <= text.length; cut++)
      expect(feedRanges(bytes(text), [cut]).end).toBe(SAMPLE.length);
  });

  test('a body that starts inside a larger buffer returns an absolute index', () => {
    const prefix = 'POST / HTTP/1.1\r\nHost: h\r\n\r\n';
    const buffer = bytes(`${prefix}${SAMPLE}tail`);
    const body = new ChunkedBody(400);
    expect(body.feed(buffer, prefix.length, buffer.length)).toBe(prefix.length + SAMPLE.length);
    expect(body.dataBytes).toBe(11);
  });

  test('a finished body consumes nothing more', () => {
    const buffer = bytes('0\r\n\r\nmore');
    const body = new ChunkedBody(400);
    expect(body.feed(buffer, 0, buffer.length)).toBe(5);
    expect(body.feed(buffer, 5, buffer.length)).toBe(5);
    expect(body.done).toBe(true);
  });

  test('dataBytes counts data only, and grows as data arrives', () => {
    const buffer = bytes(SAMPLE);
    const body = new ChunkedBody(502);
    expect(body.feed(buffer, 0, 6)).toBe(-1); // '5\r\nhel'
    expect(body.dataBytes).toBe(3);
    expect(body.feed(buffer, 6, 22)).toBe(-1); // 'lo\r\n6;name=val\r\n'
    expect(body.dataBytes).toBe(5);
    expect(body.feed(buffer, 22, buffer.length)).toBe(buffer.length);
    expect(body.dataBytes).toBe(11);
  });

  test('the sink gets the data ranges of the buffer it was fed, and nothing else', () => {
    const buffer = bytes(SAMPLE);
    const calls: Array<[number, number]> = [];
    new ChunkedBody(400).feed(buffer, 0, buffer.length, (b, start, end) => {
      expect(b).toBe(buffer);
      calls.push([start, end]);
    });
    expect(calls).toEqual([
      [3, 8],
      [22, 28],
    ]);
  });

  test('without a sink the body is tracked the same', () => {
    const body = new ChunkedBody(400);
    expect(body.feed(bytes(SAMPLE), 0, SAMPLE.length)).toBe(SAMPLE.length);
    expect(body.dataBytes).toBe(11);
  });
});

describe('ChunkedBody: errors', () => {
  const long = (n: number): string => 'a'.repeat(n);

  test.each([
    { desc: 'missing size (CRLF)', text: '\r\n' },
    { desc: 'missing size (extension)', text: ';x\r\n' },
    { desc: 'missing size (leading SP)', text: ' 5\r\n' },
    { desc: 'non-hex size', text: 'g\r\n' },
    { desc: 'hex then junk', text: '5g\r\n' },
    { desc: 'size with a 0x prefix', text: '0x5\r\nhello\r\n' },
    { desc: 'signed size', text: '-5\r\n' },
    { desc: 'two sizes', text: '5 5\r\n' },
    { desc: 'size too many digits', text: '1000000000000\r\n' },
    { desc: 'zeros count as digits', text: '0000000000005\r\n' },
    { desc: 'data longer than the size', text: '3\r\nhello\r\n0\r\n\r\n' },
    { desc: 'data shorter than the size', text: '5\r\nhi\r\n0\r\n\r\n' },
    { desc: 'LF without CR after the size', text: '5\nhello\r\n0\r\n\r\n' },
    { desc: 'CR CR after the size', text: '5\r\rhello\r\n' },
    { desc: 'LF without CR after the data', text: '5\r\nhello\n0\r\n\r\n' },
    { desc: 'CR without LF after the data', text: '5\r\nhello\rx' },
    { desc: 'LF without CR in an extension', text: '5;a\nb\r\nhello\r\n0\r\n\r\n' },
    { desc: 'NUL in an extension', text: '5;a\x00\r\nhello\r\n0\r\n\r\n' },
    { desc: 'LF without CR ending the body', text: '0\r\n\n' },
    { desc: 'LF without CR ending a trailer', text: '0\r\nA: 1\nGET /x HTTP/1.1\r\n\r\n' },
    { desc: 'control character in a trailer', text: '0\r\nA: \x01\r\n\r\n' },
    { desc: 'CR without LF after a trailer', text: '0\r\nA: 1\r\r\n' },
    { desc: 'CR without LF at the end', text: '0\r\n\rX' },
    { desc: 'overlong extension', text: `5;${long(4097)}\r\nhello\r\n0\r\n\r\n` },
    { desc: 'overlong trailer line', text: `0\r\nX: ${long(4094)}\r\n\r\n` },
    { desc: 'endless whitespace after the size', text: `5${' '.repeat(4097)}\r\nhello\r\n0\r\n\r\n` },
    { desc: 'trailer section over 16 KiB', text: `0\r\n${`X: ${long(1000)}\r\n`.repeat(17)}\r\n` },
  ])('$desc → HeadError', ({ text }) => {
    expect(failure(text, 400)).toBe(400);
    expect(failure(text, 502)).toBe(502);
  });

  test('the smuggling shape (bare LF ends the body for a lenient backend) is refused, fed whole or byte by byte', () => {
    const text = '0\r\n\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n';
    expect(failure(text)).toBe(400);
    const buffer = bytes(text);
    const body = new ChunkedBody(400);
    expect(() => {
      for (let i = 0; i < buffer.length; i++) body.feed(buffer, i, i + 1);
    }).toThrow(HeadError);
  });

  test('line limits are inclusive: 4096 bytes of extension or trailer line are fine', () => {
    const extension = `5;${long(4096)}\r\nhello\r\n0\r\n\r\n`;
    expect(whole(extension).end).toBe(extension.length);
    const trailer = `0\r\nX: ${long(4093)}\r\n\r\n`;
    expect(whole(trailer).end).toBe(trailer.length);
  });

  test('the error message names the problem', () => {
    expect(() => whole('3\r\nhello\r\n')).toThrow('Malformed chunked body: chunk data longer than its size');
    expect(() => whole('zz\r\n')).toThrow(/missing chunk size/);
  });
});
