import type { WatchEvent } from '../api';
import { specJson } from '../encode-cache';
import { StateError, StateErrorCode, invalid } from '../errors';
import { isKind, type Kind, type ObjectInput, type ObjectRef, type StoredObject } from '../model';
import type { Outgoing, WireEventType, WireObject, WireObjectRef, WireWatchEvent } from './load';

/** Conversions between the state model and the proto messages; pure, both directions. */

export function toWireObject(object: StoredObject): Outgoing<WireObject> {
  return {
    kind: object.kind,
    name: object.name,
    namespace: object.namespace ?? '',
    labels: object.labels,
    revision: object.revision,
    createRevision: object.createRevision,
    specJson: specJson(object),
  };
}

/** For Apply: the envelope without revisions (the store assigns them). */
export function inputToWire(input: ObjectInput): Outgoing<WireObject> {
  return {
    kind: input.kind,
    name: input.name,
    namespace: input.namespace ?? '',
    labels: { ...(input.labels ?? {}) },
    specJson: JSON.stringify(input.spec),
  };
}

function wireKind(kind: string, field: string): Kind {
  if (!isKind(kind)) throw invalid(field, `unknown kind ${JSON.stringify(kind)}`);
  return kind;
}

function parseSpec(specJson: string): unknown {
  if (specJson === '') throw invalid('spec', 'required');
  try {
    return JSON.parse(specJson) as unknown;
  } catch {
    throw new StateError(StateErrorCode.BAD_REQUEST, 'spec_json is not valid JSON', {
      field: 'spec',
      reason: 'spec_json is not valid JSON',
    });
  }
}

/** The Apply input as the validator will see it; the store validates the spec's shape. */
export function wireToInput(wire: WireObject | null): ObjectInput {
  if (wire === null) throw invalid('object', 'required');
  const input = {
    kind: wireKind(wire.kind, 'kind'),
    name: wire.name,
    labels: wire.labels,
    spec: parseSpec(wire.specJson),
  } as ObjectInput;
  if (wire.namespace !== '') input.namespace = wire.namespace;
  return input;
}

export function fromWireObject(wire: WireObject): StoredObject {
  const base = {
    kind: wireKind(wire.kind, 'kind'),
    name: wire.name,
    labels: wire.labels,
    revision: wire.revision,
    createRevision: wire.createRevision,
    spec: parseSpec(wire.specJson),
  };
  const object = wire.namespace === '' ? base : { ...base, namespace: wire.namespace };
  return object as StoredObject;
}

export function refToWire(ref: ObjectRef): WireObjectRef {
  return { kind: ref.kind, name: ref.name, namespace: ref.namespace ?? '' };
}

export function wireToRef(wire: WireObjectRef | null): ObjectRef {
  if (wire === null) throw invalid('ref', 'required');
  const ref: ObjectRef = { kind: wireKind(wire.kind, 'ref.kind'), name: wire.name };
  if (wire.namespace !== '') ref.namespace = wire.namespace;
  return ref;
}

/** An empty string means "absent" in proto3. */
export function optionalString(value: string): string | undefined {
  return value === '' ? undefined : value;
}

export function toWireEvent(event: WatchEvent): Outgoing<WireWatchEvent> {
  if (event.type === 'BOOKMARK') return { type: 'BOOKMARK', revision: event.revision };
  return { type: event.type, revision: event.revision, object: toWireObject(event.object) };
}

const OBJECT_EVENTS: ReadonlySet<WireEventType> = new Set(['ADDED', 'MODIFIED', 'DELETED']);

export function fromWireEvent(wire: WireWatchEvent): WatchEvent {
  if (wire.type === 'BOOKMARK') return { type: 'BOOKMARK', revision: wire.revision };
  if (!OBJECT_EVENTS.has(wire.type) || wire.object === null) {
    throw new StateError(StateErrorCode.UNAVAILABLE, `malformed watch event of type ${wire.type}`);
  }
  return {
    type: wire.type as 'ADDED' | 'MODIFIED' | 'DELETED',
    revision: wire.revision,
    object: fromWireObject(wire.object),
  };
}
