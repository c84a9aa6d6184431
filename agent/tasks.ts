import { isSwitchyardError, type Logger } from '../lib';
import type { AttachmentEvent, AttachmentRecord } from '../cni';
import {
  StateErrorCode,
  type ObjectInput,
  type StateApi,
  type StoredObject,
  type TaskPort,
  type TaskSpec,
} from '../state';

/**
 * Reports container addresses to the state API as Task network status, so DNS and the proxy see a
 * task as soon as its network is up. The Task is named by CNI_ARGS `SY_TASK=[namespace/]name`, or
 * `K8S_POD_NAMESPACE` + `K8S_POD_NAME`, else by the container id. An existing Task gets its `ips`,
 * `networkMode`, `node` and host ports set; a missing one is created (labelled
 * `switchyard.io/managed-by: agent`) and is deleted again on DEL. Writes run after the CNI reply,
 * one at a time per Task, with compare-and-set retries; failures are logged and counted, never
 * returned to the runtime.
 */
export const MANAGED_BY = 'switchyard.io/managed-by';

export interface TaskRef {
  name: string;
  namespace: string;
}

/** Lowercase RFC 1123 label from a container id (pure). */
export function taskNameFrom(containerId: string): string {
  const name = containerId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return name === '' ? 'task' : name;
}

export function taskRefOf(record: AttachmentRecord, args: Readonly<Record<string, string>>): TaskRef {
  const explicit = args.SY_TASK;
  if (explicit !== undefined && explicit !== '') {
    const slash = explicit.indexOf('/');
    return slash < 0
      ? { namespace: 'default', name: explicit }
      : { namespace: explicit.slice(0, slash), name: explicit.slice(slash + 1) };
  }
  if (args.K8S_POD_NAME !== undefined && args.K8S_POD_NAME !== '') {
    return { namespace: args.K8S_POD_NAMESPACE || 'default', name: args.K8S_POD_NAME };
  }
  return { namespace: 'default', name: taskNameFrom(record.containerId) };
}

/** The Task spec after ADD (pure): addresses, mode, node and the host ports of mapped ports. */
export function taskSpecAfterAdd(
  existing: TaskSpec | undefined,
  record: AttachmentRecord,
  node: string,
  ref: TaskRef,
): TaskSpec {
  const mapped = new Map(record.portMappings.map((m) => [`${m.protocol}/${m.containerPort}`, m.hostPort]));
  const ports: TaskPort[] = (existing?.ports ?? []).map((p) => {
    const hostPort = mapped.get(`${p.protocol}/${p.containerPort}`);
    mapped.delete(`${p.protocol}/${p.containerPort}`);
    return hostPort === undefined ? { ...p } : { ...p, hostPort };
  });
  for (const [key, hostPort] of mapped) {
    const [protocol, port] = key.split('/');
    ports.push({ containerPort: Number(port), hostPort, protocol: protocol === 'udp' ? 'udp' : 'tcp' });
  }
  const base: TaskSpec = existing ?? {
    app: ref.name,
    framework: 'cni',
    node,
    state: 'running',
    health: 'unknown',
    networkMode: 'ip-per-container',
    ips: [],
    ports: [],
  };
  return {
    ...base,
    node,
    ips: [record.ip],
    ports,
    networkMode: record.portMappings.length > 0 ? 'port-mapped' : 'ip-per-container',
  };
}

export interface TaskReporter {
  report(event: AttachmentEvent): void;
  /** Resolves when every queued write is done. */
  idle(): Promise<void>;
}

const MAX_TRIES = 5;

export function createTaskReporter(options: {
  api: StateApi;
  node: string;
  logger: Logger;
  onError?: () => void;
}): TaskReporter {
  const queues = new Map<string, Promise<void>>();
  const { api, node, logger } = options;

  async function write(event: AttachmentEvent, ref: TaskRef): Promise<void> {
    for (let i = 0; i < MAX_TRIES; i++) {
      let existing: StoredObject<'Task'> | undefined;
      try {
        existing = (await api.get({ kind: 'Task', ...ref })) as StoredObject<'Task'>;
      } catch (error) {
        if (!isSwitchyardError(error, StateErrorCode.NOT_FOUND)) throw error;
      }
      try {
        await writeOnce(event, ref, existing);
        return;
      } catch (error) {
        if (
          !isSwitchyardError(error, StateErrorCode.CONFLICT) &&
          !isSwitchyardError(error, StateErrorCode.NOT_FOUND)
        )
          throw error;
      }
    }
  }

  async function writeOnce(
    event: AttachmentEvent,
    ref: TaskRef,
    existing: StoredObject<'Task'> | undefined,
  ): Promise<void> {
    const expectedRevision = existing?.revision ?? 0;
    if (event.type === 'added') {
      const labels = existing === undefined ? { [MANAGED_BY]: 'agent' } : { ...existing.labels };
      const input: ObjectInput<'Task'> = {
        kind: 'Task',
        ...ref,
        labels,
        spec: taskSpecAfterAdd(existing?.spec, event.record, node, ref),
      };
      await api.apply(input, { expectedRevision });
      return;
    }
    if (existing === undefined || !existing.spec.ips.includes(event.record.ip)) return;
    if (existing.labels[MANAGED_BY] === 'agent') {
      await api.delete({ kind: 'Task', ...ref }, { expectedRevision });
      return;
    }
    const spec: TaskSpec = {
      ...existing.spec,
      ips: existing.spec.ips.filter((ip) => ip !== event.record.ip),
    };
    await api.apply({ kind: 'Task', ...ref, labels: { ...existing.labels }, spec }, { expectedRevision });
  }

  return {
    report(event) {
      const ref = taskRefOf(event.record, event.args);
      const key = `${ref.namespace}/${ref.name}`;
      const previous = queues.get(key) ?? Promise.resolve();
      const next = previous.then(() =>
        write(event, ref).catch((error: unknown) => {
          options.onError?.();
          logger.warn({ err: error, task: key }, 'Could not report the task network status');
        }),
      );
      queues.set(key, next);
      void next.then(() => {
        if (queues.get(key) === next) queues.delete(key);
      });
    },
    async idle() {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
  };
}
