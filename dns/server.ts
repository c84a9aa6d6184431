import dgram from 'node:dgram';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib';
import { DnsError, DNS_ERROR_CODES } from './errors';
import type { Forwarder } from './forward';
import { rcodeLabel, typeLabel, type DnsMetrics } from './metrics';
import {
  headerOnlyReply,
  replyWithQuestion,
  resolveQuery,
  type RespondOptions,
  type Resolution,
  type Transport,
} from './respond';
import { FLAG, HEADER_LENGTH, RCODE } from './wire';
import type { CompiledZone } from './zone';

/**
 * The UDP and TCP listeners (on dgram/net directly: the hot path is parse → lookup → copy, so a
 * framework's per-query packet objects would only cost time). TCP follows RFC 7766: 2-byte length
 * prefix, many queries per connection answered as they complete, an idle timeout, a connection cap.
 * Every handler path is wrapped: an exception answers SERVFAIL and counts a panic.
 */
export interface ListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly getZone: () => CompiledZone | undefined;
  readonly forwarder: Forwarder;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  readonly maxUdpSize: number;
  readonly tcpIdleTimeoutMs: number;
  readonly maxTcpConnections: number;
  readonly maxTcpInflight: number;
  readonly udpRecvBufferBytes: number;
  readonly random?: (n: number) => number;
}

export interface DnsListeners {
  readonly udpAddress: net.AddressInfo;
  readonly tcpAddress: net.AddressInfo;
  close(): Promise<void>;
}

type Reply = (wire: Buffer | undefined) => void;

export function createQueryHandler(
  options: ListenerOptions,
): (request: Buffer, transport: Transport, reply: Reply) => void {
  const { metrics, forwarder } = options;
  const respondOptions: RespondOptions = {
    maxUdpSize: options.maxUdpSize,
    get forwarding() {
      return forwarder.enabled;
    },
    random: options.random ?? ((n) => Math.floor(Math.random() * n)),
  };
  const done = (
    started: number,
    transport: Transport,
    qtype: number,
    rcode: number,
    wire: Buffer,
    reply: Reply,
  ): void => {
    metrics.queries.inc({ type: typeLabel(qtype), rcode: rcodeLabel(rcode), transport });
    metrics.latency.observe({ transport }, (performance.now() - started) / 1000);
    reply(wire);
  };
  const panic = (err: unknown, request: Buffer, transport: Transport, reply: Reply): void => {
    metrics.panics.inc();
    options.logger.error({ err }, 'DNS handler failed; answered SERVFAIL');
    if (request.length < HEADER_LENGTH) return reply(undefined);
    const wire = headerOnlyReply(request.readUInt16BE(0), request.readUInt16BE(2), RCODE.SERVFAIL);
    metrics.queries.inc({ type: 'OTHER', rcode: 'SERVFAIL', transport });
    reply(wire);
  };
  const forward = (
    resolution: Extract<Resolution, { kind: 'forward' }>,
    request: Buffer,
    transport: Transport,
    started: number,
    reply: Reply,
  ): void => {
    const { query, budget } = resolution;
    forwarder.forward(request, query, transport, budget).then(
      (result) => {
        if (result === undefined) {
          metrics.forwards.inc({ result: 'failed' });
          const flags = FLAG.QR | FLAG.RA | (query.flags & FLAG.RD) | RCODE.SERVFAIL;
          return done(
            started,
            transport,
            query.type,
            RCODE.SERVFAIL,
            replyWithQuestion(request, query, flags, [0, 0], undefined, options.maxUdpSize),
            reply,
          );
        }
        metrics.forwards.inc({ result: result.cached ? 'cached' : 'answered' });
        done(started, transport, query.type, result.wire.readUInt16BE(2) & 0xf, result.wire, reply);
      },
      (err: unknown) => panic(err, request, transport, reply),
    );
  };
  return (request, transport, reply) => {
    const started = performance.now();
    try {
      const resolution = resolveQuery(options.getZone(), request, transport, respondOptions);
      if (resolution.kind === 'drop') {
        metrics.dropped.inc({ reason: resolution.reason });
        return reply(undefined);
      }
      if (resolution.kind === 'reply')
        return done(started, transport, resolution.qtype, resolution.rcode, resolution.wire, reply);
      forward(resolution, request, transport, started, reply);
    } catch (err) {
      panic(err, request, transport, reply);
    }
  };
}

function serveTcpConnection(
  socket: net.Socket,
  handle: ReturnType<typeof createQueryHandler>,
  options: ListenerOptions,
): void {
  socket.setNoDelay(true);
  socket.setTimeout(options.tcpIdleTimeoutMs, () => socket.destroy());
  socket.on('error', () => undefined);
  let buffered: Buffer = Buffer.alloc(0);
  let inflight = 0;
  const write: Reply = (wire) => {
    inflight--;
    if (wire !== undefined && !socket.destroyed) {
      const prefix = Buffer.allocUnsafe(2);
      prefix.writeUInt16BE(wire.length);
      socket.write(Buffer.concat([prefix, wire]));
    }
    if (inflight < options.maxTcpInflight && socket.isPaused()) socket.resume();
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (length < HEADER_LENGTH) {
        // No DNS message is shorter than its header: the stream is out of step, so end it.
        options.metrics.dropped.inc({ reason: 'bad TCP length prefix' });
        socket.destroy();
        return;
      }
      if (buffered.length < 2 + length) break;
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      inflight++;
      if (inflight >= options.maxTcpInflight) socket.pause();
      handle(message, 'tcp', write);
    }
  });
}

function listenUdp(
  options: ListenerOptions,
  port: number,
  handle: ReturnType<typeof createQueryHandler>,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket({
    type: net.isIPv6(options.host) ? 'udp6' : 'udp4',
    recvBufferSize: options.udpRecvBufferBytes,
  });
  socket.on('message', (message, rinfo) => {
    handle(message, 'udp', (wire) => {
      if (wire !== undefined) socket.send(wire, rinfo.port, rinfo.address);
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, options.host, () => {
      socket.off('error', reject);
      socket.on('error', (err) => options.logger.warn({ err }, 'UDP socket error'));
      resolve(socket);
    });
  });
}

function listenTcp(
  options: ListenerOptions,
  port: number,
  handle: ReturnType<typeof createQueryHandler>,
  open: Set<net.Socket>,
): Promise<net.Server> {
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    serveTcpConnection(socket, handle, options);
  });
  server.maxConnections = options.maxTcpConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Bind UDP and TCP on the same port (with port 0, UDP picks it and TCP follows; retried on a clash). */
export async function listenDns(options: ListenerOptions): Promise<DnsListeners> {
  const handle = createQueryHandler(options);
  const open = new Set<net.Socket>();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const udp = await listenUdp(options, options.port, handle).catch((err: unknown) => {
      throw new DnsError(DNS_ERROR_CODES.LISTEN_FAILED, `cannot bind UDP ${options.host}:${options.port}`, {
        cause: err,
      });
    });
    const udpAddress = udp.address();
    try {
      const tcp = await listenTcp(options, udpAddress.port, handle, open);
      const tcpAddress = tcp.address() as net.AddressInfo;
      const close = async (): Promise<void> => {
        for (const socket of open) socket.destroy();
        await Promise.all([
          new Promise<void>((r) => udp.close(() => r())),
          new Promise<void>((r) => tcp.close(() => r())),
        ]);
      };
      return { udpAddress, tcpAddress, close };
    } catch (err) {
      lastError = err;
      await new Promise<void>((r) => udp.close(() => r()));
      if (options.port !== 0) break;
    }
  }
  throw new DnsError(DNS_ERROR_CODES.LISTEN_FAILED, `cannot bind TCP ${options.host}:${options.port}`, {
    cause: lastError,
  });
}
