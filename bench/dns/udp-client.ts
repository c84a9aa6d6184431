/**
 * A minimal raw-UDP DNS client for the benchmarks: one socket, queries by id, replies matched by
 * id, a timeout per query. It reads only the header (rcode, answer count) — enough to tell
 * "answers", NXDOMAIN and silence apart without spawning `dig` per poll. Loopback only.
 */
import dgram from 'node:dgram';

export const QTYPE = { A: 1, SRV: 33 } as const;

export interface Reply {
  readonly rcode: number;
  readonly answers: number;
}

export function encodeQuery(id: number, name: string, qtype: number): Buffer {
  const labels = name.split('.').filter((l) => l.length > 0);
  const out = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x0100, 2); // RD
  out.writeUInt16BE(1, 4);
  let at = 12;
  for (const label of labels) {
    out[at++] = label.length;
    at += out.write(label, at, 'latin1');
  }
  out[at++] = 0;
  out.writeUInt16BE(qtype, at);
  out.writeUInt16BE(1, at + 2);
  return out;
}

export class UdpClient {
  private readonly socket = dgram.createSocket('udp4');
  private readonly pending = new Map<number, (reply: Reply | undefined) => void>();
  private nextId = 1;

  constructor(
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {
    this.socket.on('message', (message) => {
      if (message.length < 12) return;
      const id = message.readUInt16BE(0);
      const done = this.pending.get(id);
      if (done === undefined) return;
      this.pending.delete(id);
      done({ rcode: message.readUInt16BE(2) & 0xf, answers: message.readUInt16BE(6) });
    });
  }

  /** Resolves with the reply's header, or undefined after `timeoutMs` without one. */
  query(name: string, qtype: number, timeoutMs = 1000): Promise<Reply | undefined> {
    const id = this.nextId;
    this.nextId = this.nextId === 0xffff ? 1 : this.nextId + 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.socket.send(encodeQuery(id, name, qtype), this.port, this.host);
    });
  }

  close(): void {
    for (const done of this.pending.values()) done(undefined);
    this.pending.clear();
    this.socket.close();
  }
}

/** Query until `accept(reply)` holds or `timeoutMs` passes; resolves with whether it held. */
export async function pollUntil(
  client: UdpClient,
  name: string,
  qtype: number,
  accept: (reply: Reply) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const reply = await client.query(name, qtype, 200);
    if (reply !== undefined && accept(reply)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
