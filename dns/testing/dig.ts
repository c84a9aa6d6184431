import { execFile } from 'node:child_process';

/** Run the real `dig` against a loopback server and parse what it printed. */
export interface DigResult {
  readonly status: string;
  readonly flags: string[];
  readonly question: string[];
  readonly answer: string[];
  readonly authority: string[];
  readonly additional: string[];
  /** `udp: N` of the OPT pseudosection, when the reply carried one. */
  readonly ednsUdp: number | undefined;
  readonly raw: string;
}

export function dig(port: number, args: readonly string[], host = '127.0.0.1'): Promise<DigResult> {
  const argv = ['-p', String(port), `@${host}`, '+tries=1', '+time=2', '+nocmd', '+nostats', ...args];
  return new Promise((resolve, reject) => {
    execFile('dig', argv, { timeout: 10000 }, (err, stdout) => {
      if (err !== null && stdout === '') return reject(err);
      resolve(parseDig(stdout));
    });
  });
}

const SECTIONS: Record<string, 'question' | 'answer' | 'authority' | 'additional'> = {
  'QUESTION SECTION:': 'question',
  'ANSWER SECTION:': 'answer',
  'AUTHORITY SECTION:': 'authority',
  'ADDITIONAL SECTION:': 'additional',
};

export function parseDig(text: string): DigResult {
  const out = {
    question: [] as string[],
    answer: [] as string[],
    authority: [] as string[],
    additional: [] as string[],
  };
  let status = '';
  let flags: string[] = [];
  let ednsUdp: number | undefined;
  let section: keyof typeof out | undefined;
  for (const line of text.split('\n')) {
    const header = /status: (\w+)/.exec(line);
    if (header !== null && status === '') status = header[1] as string;
    const flagLine = /^;; flags: ([^;]*);/.exec(line);
    if (flagLine !== null && flags.length === 0) flags = (flagLine[1] as string).trim().split(/\s+/);
    const udp = /udp: (\d+)/.exec(line);
    if (udp !== null && ednsUdp === undefined) ednsUdp = Number(udp[1]);
    if (line.startsWith(';; ')) {
      section = SECTIONS[line.slice(3).trim()];
      continue;
    }
    if (line.trim() === '') {
      section = undefined;
      continue;
    }
    if (section !== undefined) out[section].push(line.replace(/^;/, '').split(/\s+/).join(' '));
  }
  return { status, flags, ednsUdp, raw: text, ...out };
}
