import { AnswerSlab, NameAnswers, encodeAnswer } from './answers';
import { RR_TYPE, WireWriter, type ResourceRecord } from './wire';

const a = (name: string, address: string): ResourceRecord => ({ name, ttl: 5, data: { type: 'A', address } });

describe('WireWriter.question', () => {
  // question() defers remembering the question's suffixes; the bytes must be exactly those of
  // writing the question with remember=true and then the same names.
  const cases: Array<{ desc: string; question: string; then: Array<[string, boolean, boolean]> }> = [
    {
      desc: 'answer owners equal to the question',
      question: 'web.marathon.mesos',
      then: [['web.marathon.mesos', true, false]],
    },
    {
      desc: 'a PTR target with another top-level label',
      question: '5.0.18.198.in-addr.arpa',
      then: [['web-abc12-s1.marathon.mesos', true, false]],
    },
    {
      desc: 'SRV targets uncompressed, then additional names sharing a suffix',
      question: '_web._tcp.marathon.mesos',
      then: [
        ['_web._tcp.marathon.mesos', true, false],
        ['web-abc12-s1.marathon.mesos', false, false],
        ['web-abc12-s1.marathon.mesos', true, true],
        ['web-def34-s2.marathon.slave.mesos', true, true],
      ],
    },
    {
      desc: 'the root and the apex',
      question: 'mesos',
      then: [
        ['mesos', true, false],
        ['ns1.mesos', true, false],
        ['', true, true],
      ],
    },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const eager = new WireWriter();
      const lazy = new WireWriter();
      for (const w of [eager, lazy]) w.u16(0xabcd);
      eager.name(c.question, false, true);
      lazy.question(c.question);
      for (const [name, compress, remember] of c.then) {
        eager.name(name, compress, remember);
        lazy.name(name, compress, remember);
      }
      expect(lazy.finish().toString('hex')).toBe(eager.finish().toString('hex'));
    });
  }
});

describe('AnswerSlab', () => {
  it('packs answers into blocks and reads each back whole, across block boundaries', () => {
    const slab = new AnswerSlab(200);
    const made = Array.from({ length: 20 }, (_, i) => {
      const records = Array.from({ length: 1 + (i % 7) }, (_, j) => a(`n${i}.mesos`, `198.18.${i}.${j}`));
      return { records, answer: encodeAnswer(`n${i}.mesos`, RR_TYPE.A, records, [], true, slab) };
    });
    // An answer larger than a block gets a block of its own.
    const big = Array.from({ length: 40 }, (_, j) => a('big.mesos', `198.19.0.${j}`));
    const bigAnswer = encodeAnswer('big.mesos', RR_TYPE.A, big, [], true, slab);
    slab.seal();
    for (const { records, answer } of made) {
      expect(answer.count).toBe(records.length);
      expect(answer.answerEnds).toHaveLength(records.length);
      expect(answer.wire.length).toBe(answer.length);
      expect(answer.answerEnd(records.length - 1)).toBe(answer.length);
      expect(answer.wire.readUInt16BE(6)).toBe(records.length);
    }
    expect(bigAnswer.count).toBe(40);
    expect(bigAnswer.length).toBe(12 + 15 + 40 * 16);
  });

  it('NameAnswers finds each type and iterates them in order', () => {
    const slab = new AnswerSlab();
    const first = encodeAnswer('x.mesos', RR_TYPE.A, [a('x.mesos', '198.18.0.1')], [], true, slab);
    const second = encodeAnswer(
      'x.mesos',
      RR_TYPE.TXT,
      [{ name: 'x.mesos', ttl: 5, data: { type: 'TXT', text: 'hi' } }],
      [],
      true,
      slab,
    );
    slab.seal();
    const answers = new NameAnswers([first, second]);
    expect(answers.get(RR_TYPE.A)?.wire).toEqual(first.wire);
    expect(answers.get(RR_TYPE.TXT)).toBe(second);
    expect(answers.get(RR_TYPE.SRV)).toBeUndefined();
    expect([...answers].map(([type]) => type)).toEqual([RR_TYPE.A, RR_TYPE.TXT]);
    expect(answers.size).toBe(2);
  });
});
