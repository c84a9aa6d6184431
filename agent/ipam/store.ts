import { formatIp, parseIp } from '../../lib';
import {
  CniError,
  CniErrorCode,
  type AttachmentKey,
  type AttachmentRecord,
  type HostIpam,
  type ReserveInput,
} from '../../cni';
import { addressRange, type AddressRange } from '../subnet';
import { allocate, rangeSize } from './allocator';
import { recordId, type Journal, type JournalEntry } from './journal';

/**
 * The agent's IPAM: an in-memory index over the durable journal. A reservation is decided
 * synchronously (so concurrent ADDs can never pick the same address), then made durable; only then
 * is it answered. A release is made durable before the address becomes free again, so a crash can
 * never leave one address reserved twice. A crash after a reservation but before the runtime got
 * the reply leaves a record that DEL or GC (cni.dev/valid-attachments) removes.
 */
export interface IpamStoreOptions {
  journal: Pick<Journal, 'state' | 'append'>;
  now?: () => Date;
}

export interface IpamStore extends HostIpam {
  /** Sets the node subnet to allocate from (after the lease). */
  setSubnet(subnet: string): void;
  usage(): { used: number; size: number };
  isReleasing(key: AttachmentKey): boolean;
}

function isIn(range: AddressRange, ip: string): boolean {
  try {
    const v = parseIp(ip).value;
    return v >= range.first && v <= range.last;
  } catch {
    return false;
  }
}

class DurableIpam implements IpamStore {
  private readonly records: Map<string, AttachmentRecord>;
  private readonly byIp = new Map<string, string>();
  private readonly releasing = new Set<string>();
  private readonly now: () => Date;
  private cursor: bigint | undefined;
  private range: AddressRange | undefined;

  constructor(private readonly options: IpamStoreOptions) {
    this.records = new Map(options.journal.state.records);
    for (const [id, r] of this.records) this.byIp.set(r.ip, id);
    this.now = options.now ?? (() => new Date());
    const cursor = options.journal.state.cursor;
    this.cursor = cursor === undefined ? undefined : parseIp(cursor).value;
  }

  setSubnet(subnet: string): void {
    this.range = addressRange(subnet);
  }

  get(key: AttachmentKey): AttachmentRecord | undefined {
    return this.records.get(recordId(key));
  }

  list(): AttachmentRecord[] {
    return [...this.records.values()];
  }

  isReleasing(key: AttachmentKey): boolean {
    return this.releasing.has(recordId(key));
  }

  usage(): { used: number; size: number } {
    const range = this.range;
    if (range === undefined) return { used: 0, size: 0 };
    let used = 0;
    for (const ip of this.byIp.keys()) if (isIn(range, ip)) used++;
    return { used, size: Number(rangeSize(range)) };
  }

  private pick(requested: string | undefined, r: AddressRange): string {
    if (requested !== undefined) {
      const holder = this.byIp.get(requested);
      if (holder !== undefined)
        throw new CniError(
          CniErrorCode.ADDRESS_TAKEN,
          `requested IP ${requested} is already reserved`,
          `held by ${holder}`,
        );
      return requested;
    }
    const value = allocate(r, (v) => this.byIp.has(formatIp(r.family, v)), this.cursor);
    if (value === undefined) {
      throw new CniError(
        CniErrorCode.IPAM_EXHAUSTED,
        `no IP addresses available in node subnet ${r.subnet}`,
        `all ${rangeSize(r)} usable addresses (${formatIp(r.family, r.first)}-${formatIp(r.family, r.last)}) are reserved; DEL unused attachments or run GC`,
      );
    }
    this.cursor = value;
    return formatIp(r.family, value);
  }

  private async durably(entry: JournalEntry, undo: () => void): Promise<void> {
    try {
      await this.options.journal.append(entry);
    } catch (error) {
      undo();
      throw new CniError(CniErrorCode.IO, 'cannot persist the IPAM change', (error as Error).message);
    }
  }

  async reserve(input: ReserveInput, requested?: string): Promise<AttachmentRecord> {
    const r = this.range;
    if (r === undefined)
      throw new CniError(
        CniErrorCode.TRY_AGAIN,
        'the node has no pod subnet yet',
        'the agent is still leasing a node subnet',
      );
    const id = recordId(input);
    const held = this.records.get(id);
    if (held !== undefined) throw new CniError(CniErrorCode.DUPLICATE, `${id} already holds ${held.ip}`);
    const previousCursor = this.cursor;
    const ip = this.pick(requested, r);
    const record: AttachmentRecord = {
      ...input,
      portMappings: [...input.portMappings],
      ip,
      createdAt: this.now().toISOString(),
    };
    this.records.set(id, record);
    this.byIp.set(ip, id);
    await this.durably({ op: 'reserve', record }, () => {
      this.records.delete(id);
      this.byIp.delete(ip);
      this.cursor = previousCursor;
    });
    return record;
  }

  markReleasing(key: AttachmentKey): void {
    if (this.records.has(recordId(key))) this.releasing.add(recordId(key));
  }

  async release(key: AttachmentKey): Promise<AttachmentRecord | undefined> {
    const id = recordId(key);
    const record = this.records.get(id);
    if (record === undefined) {
      this.releasing.delete(id);
      return undefined;
    }
    await this.durably({ op: 'release', id }, () => undefined);
    this.records.delete(id);
    if (this.byIp.get(record.ip) === id) this.byIp.delete(record.ip);
    this.releasing.delete(id);
    return record;
  }
}

export function createIpamStore(options: IpamStoreOptions): IpamStore {
  return new DurableIpam(options);
}
