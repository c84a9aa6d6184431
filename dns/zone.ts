import type { StoredObject } from '../state';
import { ANY_ORDER, type CompiledAnswer, type NameAnswers } from './answers';
import type { KeyIndex, KeySet, PersistentMap } from './persistent-map';
import { members } from './staging';
import type { ResolvedZoneOptions } from './options';
import type { ZoneDomains } from './records';
import { RR_TYPE, recordText, type ResourceRecord } from './wire';

/** Everything a compile carries forward so the next one can be incremental. Never mutated. */
export interface ZoneState {
  readonly options: ResolvedZoneOptions;
  readonly optionsKey: string;
  readonly networks: ReadonlyMap<string, StoredObject<'Network'>>;
  readonly network: StoredObject<'Network'> | undefined;
  readonly domains: ZoneDomains;
  /** Tasks, Services, Nodes and VIPs by object key. */
  readonly objects: PersistentMap<StoredObject>;
  /** Service key → keys of the VIP objects that list it among their owners. */
  readonly vipsByService: KeyIndex;
  /** `master` → keys of the Nodes labelled `switchyard.io/mesos-role=master`. */
  readonly nodesByRole: KeyIndex;
  /** Node name → keys of the tasks on it. */
  readonly tasksByNode: KeyIndex;
  /** Selector key (namespace + app, namespace + label pair) → task keys: see `owners.ts`. */
  readonly tasksBySelector: KeyIndex;
  /** Selector key → keys of the headless services filed under it. */
  readonly headlessBySelector: KeyIndex;
  readonly owned: PersistentMap<readonly ResourceRecord[]>;
  readonly problems: PersistentMap<readonly string[]>;
  /** Owner name → the keys of the owners (state objects or synthetic owners) with records there. */
  readonly byName: KeyIndex;
  /** SRV target → the SRV names pointing at it (their additional sections follow its addresses). */
  readonly srvRefs: KeyIndex;
  readonly answers: PersistentMap<NameAnswers>;
  readonly ents: PersistentMap<number>;
  readonly negativeTails: ReadonlyMap<string, Buffer>;
  readonly recordCount: number;
  readonly revision: number;
}

export type ZoneLookup =
  | { readonly kind: 'answer'; readonly answer: CompiledAnswer }
  | { readonly kind: 'nodata' | 'nxdomain'; readonly apex: string; readonly soaTail: Buffer }
  | { readonly kind: 'outside' };

/** Apexes longest first, so `l4lb.thisdcos.directory` wins over a hypothetical `directory`. */
export function sortedApexes(domains: ZoneDomains): string[] {
  return [...new Set([domains.mesos, domains.cluster, domains.vip])].sort((a, b) => b.length - a.length);
}

/** The records at `name`: each owner's records with that name, in owner order. */
export function recordsAt(
  owned: PersistentMap<readonly ResourceRecord[]>,
  owners: KeySet | undefined,
  name: string,
): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (const owner of members(owners))
    for (const record of owned.get(owner) ?? []) if (record.name === name) out.push(record);
  return out;
}

export function apexOf(name: string, apexes: readonly string[]): string | undefined {
  for (const apex of apexes) {
    if (name === apex) return apex;
    const dot = name.length - apex.length - 1;
    if (dot > 0 && name.charCodeAt(dot) === 46 /* '.' */ && name.endsWith(apex)) return apex;
  }
  return undefined;
}

/**
 * The immutable compiled zone: what the server reads on every query. Build one with
 * `compileZone` or `updateZone`; a new version never changes an old one.
 */
export class CompiledZone {
  readonly domains: ZoneDomains;
  readonly apexes: readonly string[];

  /** @internal The state the next incremental compile starts from. */
  constructor(readonly state: ZoneState) {
    this.domains = state.domains;
    this.apexes = sortedApexes(state.domains);
  }

  get revision(): number {
    return this.state.revision;
  }

  get serial(): number {
    return this.state.revision >>> 0;
  }

  get nameCount(): number {
    return this.state.byName.size;
  }

  get recordCount(): number {
    return this.state.recordCount;
  }

  /** Upstream resolvers from the Network object (`ip` or `ip:port`). */
  get networkUpstreams(): readonly string[] {
    return this.state.network?.spec.dns.upstreams ?? [];
  }

  /** Why some objects published nothing (unknown node, VIP without address, …). */
  get problems(): string[] {
    return [...this.state.problems.entries()].flatMap(([, list]) => list).sort();
  }

  isAuthoritative(name: string): boolean {
    return apexOf(name, this.apexes) !== undefined;
  }

  /** `name` is lower-case without the trailing dot. */
  lookup(name: string, qtype: number): ZoneLookup {
    const entry = this.state.answers.get(name);
    if (entry !== undefined) {
      const answer = entry.get(qtype) ?? (qtype === RR_TYPE.ANY ? firstRRset(entry) : undefined);
      if (answer !== undefined) return { kind: 'answer', answer };
    }
    const apex = apexOf(name, this.apexes);
    if (apex === undefined) return { kind: 'outside' };
    const soaTail = this.state.negativeTails.get(apex) as Buffer;
    const exists = entry !== undefined || (this.state.ents.get(name) ?? 0) > 0;
    return { kind: exists ? 'nodata' : 'nxdomain', apex, soaTail };
  }

  /** The records published for one name (deduplicated), for the HTTP API. */
  records(name: string): ResourceRecord[] {
    const seen = new Set<string>();
    const out: ResourceRecord[] = [];
    for (const record of recordsAt(this.state.owned, this.state.byName.get(name), name)) {
      const text = recordText(record);
      if (!seen.has(text)) {
        seen.add(text);
        out.push(record);
      }
    }
    return out;
  }

  /** Every record as sorted zone-file text, one per line: for tests and `switchyard dns dump`. */
  zoneText(filter: (record: ResourceRecord) => boolean = () => true): string {
    const lines = new Set<string>();
    for (const [name] of this.state.byName.entries()) {
      for (const record of this.records(name)) if (filter(record)) lines.add(recordText(record));
    }
    return [...lines].sort().join('\n');
  }
}

function firstRRset(entry: NameAnswers): CompiledAnswer | undefined {
  for (const type of ANY_ORDER) {
    const answer = entry.get(type);
    if (answer !== undefined) return answer;
  }
  return undefined;
}
