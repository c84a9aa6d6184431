import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, createRegistry, type Registry } from '../../lib';

/**
 * One /metrics for `switchyard dns --workers N`. The HTTP API port is shared, so a scrape lands on
 * any one worker; each worker only counts its own queries. So a worker answering /metrics asks the
 * primary, which collects every listening worker's metrics (as JSON, over the cluster IPC
 * channel) plus its own (the Mesos source, the private state server), and answers with them all.
 * Every worker's series carry `worker="<slot>"` and the primary's `worker="primary"`, so nothing
 * is summed away. A worker that does not answer within COLLECT_TIMEOUT_MS is left out of that
 * scrape; if the primary does not answer, the worker serves its own metrics alone.
 */
const ASK = 'switchyard:dns-metrics-ask'; // worker → primary { id }
const TEXT = 'switchyard:dns-metrics-text'; // primary → worker { id, text }
const COLLECT = 'switchyard:dns-metrics-collect'; // primary → worker { id }
const PART = 'switchyard:dns-metrics-part'; // worker → primary { id, metrics }

const COLLECT_TIMEOUT_MS = 1000;
const ASK_TIMEOUT_MS = 3000;

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface Message {
  type: string;
  id: number;
  text?: string;
  metrics?: MetricsJson;
}

function isMessage(m: unknown, type: string): m is Message {
  return (
    typeof m === 'object' &&
    m !== null &&
    (m as Message).type === type &&
    typeof (m as Message).id === 'number'
  );
}

/** A worker's registry: its series labelled with its slot; /metrics is the cluster-wide view. */
export function createWorkerRegistry(slot: number): Registry {
  const registry = createRegistry({ processMetrics: true });
  registry.setDefaultLabels({ worker: String(slot) });
  const local = registry.metrics.bind(registry);
  const waiting = new Map<number, (text: string | undefined) => void>();
  let next = 0;
  const send = (message: Message): void => {
    if (process.connected) process.send?.(message, undefined, {}, () => undefined);
  };
  process.on('message', (m: unknown) => {
    if (isMessage(m, COLLECT)) {
      registry.getMetricsAsJSON().then(
        (metrics) => send({ type: PART, id: m.id, metrics }),
        () => send({ type: PART, id: m.id, metrics: [] }),
      );
    } else if (isMessage(m, TEXT)) waiting.get(m.id)?.(m.text);
  });
  registry.metrics = async () => {
    if (!process.connected) return local();
    const id = next++;
    const text = await new Promise<string | undefined>((resolve) => {
      const done = (value: string | undefined): void => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(value);
      };
      const timer = setTimeout(() => done(undefined), ASK_TIMEOUT_MS);
      waiting.set(id, done);
      send({ type: ASK, id });
    });
    return text ?? local();
  };
  return registry;
}

/**
 * The primary's half: answer workers' requests for the cluster-wide view. `workers()` lists the
 * workers to collect from (those serving). Returns a function that stops answering.
 */
export function serveClusterMetrics(o: { registry: Registry; workers: () => Worker[] }): () => void {
  const collecting = new Map<number, (metrics: MetricsJson | undefined) => void>();
  let next = 0;
  const collectFrom = (worker: Worker): Promise<MetricsJson | undefined> => {
    const id = next++;
    return new Promise((resolve) => {
      const done = (metrics: MetricsJson | undefined): void => {
        clearTimeout(timer);
        collecting.delete(id);
        resolve(metrics);
      };
      const timer = setTimeout(() => done(undefined), COLLECT_TIMEOUT_MS);
      collecting.set(id, done);
      worker.send({ type: COLLECT, id }, (err) => {
        if (err !== null) done(undefined);
      });
    });
  };
  const aggregate = async (): Promise<string> => {
    const parts = await Promise.all([o.registry.getMetricsAsJSON(), ...o.workers().map(collectFrom)]);
    const present = parts.filter((p): p is MetricsJson => p !== undefined);
    return AggregatorRegistry.aggregate(present).metrics();
  };
  const onMessage = (worker: Worker, m: unknown): void => {
    if (isMessage(m, PART)) collecting.get(m.id)?.(m.metrics);
    else if (isMessage(m, ASK)) {
      void aggregate()
        .catch(() => undefined)
        .then((text) => {
          if (worker.isConnected()) worker.send({ type: TEXT, id: m.id, text }, () => undefined);
        });
    }
  };
  cluster.on('message', onMessage);
  return () => cluster.off('message', onMessage);
}
