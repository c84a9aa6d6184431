// One compiled predicate for list and watch queries: kind, namespace and label selector. The
// selector is parsed once per query (throws SY_STATE_INVALID naming `selector`), then each object
// costs a namespace compare and a label match — no copies.
import { CLUSTER_SCOPED, type Kind, type StoredObject } from '../model';
import { matchesLabelSelector, parseLabelSelector } from '../selector';

export interface ObjectQuery {
  kind?: Kind;
  namespace?: string;
  selector?: string;
}

export type ObjectFilter = (obj: StoredObject) => boolean;

/**
 * A predicate for everything but the kind (callers pick the kind's objects or listeners first);
 * undefined when everything of the kind matches. A namespace is ignored for a cluster-scoped kind;
 * without a kind it excludes cluster-scoped objects.
 */
export function compileFilter(query: ObjectQuery): ObjectFilter | undefined {
  const namespace = query.kind !== undefined && CLUSTER_SCOPED.has(query.kind) ? undefined : query.namespace;
  const selectorText = query.selector?.trim();
  const selector = selectorText ? parseLabelSelector(selectorText) : undefined;
  if (namespace === undefined && selector === undefined) return undefined;
  return (obj) =>
    (namespace === undefined || obj.namespace === namespace) &&
    (selector === undefined || matchesLabelSelector(selector, obj.labels));
}
