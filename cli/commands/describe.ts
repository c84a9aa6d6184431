import { stringify } from 'yaml';
import {
  matchesLabelSelector,
  objectKey,
  selectorFromSpec,
  type Kind,
  type ServiceSpec,
  type StateApi,
  type TaskSpec,
  type VipSpec,
} from '../../state';
import { formatVipBackends, formatVipPorts, relativeTime } from '../format/columns';
import { renderTable } from '../format/table';
import type { CliIo } from '../io';
import { namespaceFor } from './get';

export interface DescribeOptions {
  kind: Kind;
  name: string;
  namespace?: string;
}

/**
 * `switchyard describe KIND NAME`: the object for a person — identity and revisions first, then
 * labels and the spec as indented YAML, then what is related to it (tasks behind a service).
 */
export async function runDescribe(api: StateApi, o: DescribeOptions, io: CliIo): Promise<number> {
  const namespace = namespaceFor(o);
  const obj = await api.get({
    kind: o.kind,
    name: o.name,
    ...(namespace === undefined ? {} : { namespace }),
  });
  const lines: string[] = [
    `Name:         ${obj.name}`,
    ...(obj.namespace === undefined ? [] : [`Namespace:    ${obj.namespace}`]),
    `Kind:         ${obj.kind}`,
    `Revision:     ${obj.revision} (created at ${obj.createRevision})`,
    `Labels:       ${formatLabels(obj.labels)}`,
    'Spec:',
    indent(stringify(obj.spec).trimEnd(), 2),
  ];
  if (obj.kind === 'Service')
    lines.push(...(await describeServiceBackends(api, obj.namespace, obj.spec as ServiceSpec)));
  if (obj.kind === 'VIP') lines.push(...(await describeVip(api, obj.spec as VipSpec, Date.now())));
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** The tasks a service selects (same namespace, same app, labels matching), with their state. */
async function describeServiceBackends(
  api: StateApi,
  namespace: string | undefined,
  spec: ServiceSpec,
): Promise<string[]> {
  const selector = selectorFromSpec(spec.selector);
  const tasks = await api.list({ kind: 'Task', ...(namespace === undefined ? {} : { namespace }) });
  const matching = tasks.items.filter((t) => {
    const task = t.spec as TaskSpec;
    return (
      (spec.selector.app === undefined || task.app === spec.selector.app) &&
      matchesLabelSelector(selector, t.labels)
    );
  });
  if (matching.length === 0) return ['Tasks:        <none>'];
  return [
    'Tasks:',
    ...matching.map((t) => {
      const s = t.spec as TaskSpec;
      return `  ${t.name}  ${s.state}/${s.health}${s.draining ? ' (draining)' : ''}  node=${s.node}  ips=${s.ips.join(',') || '<none>'}`;
    }),
  ];
}

/** A VIP for a person: where it answers, who asked for it, and each backend with its task's health. */
export async function describeVip(api: StateApi, spec: VipSpec, now: number): Promise<string[]> {
  const owners = spec.owners.map((o) => `${o.kind} ${o.namespace}/${o.name} (${o.source})`);
  const lines = [
    `Address:      ${spec.address}`,
    `Ports:        ${formatVipPorts(spec.ports)}`,
    `Owners:       ${owners.length === 0 ? '<none>' : owners.join('\n              ')}`,
    ...(spec.releaseAt === undefined
      ? []
      : [`Released:     ${spec.releaseAt} (${relativeTime(spec.releaseAt, now)}), unless an owner returns`]),
  ];
  if (spec.backends.length === 0) return [...lines, 'Backends:     <none>'];
  const tasks = new Map(
    (await api.list({ kind: 'Task' })).items.map((t) => [objectKey(t), t.spec as TaskSpec]),
  );
  const rows = spec.backends.map((b) => {
    const task = tasks.get(b.task);
    const health =
      task === undefined
        ? '<gone>'
        : `${task.state}/${task.health}${task.draining === true ? ' (draining)' : ''}`;
    return [
      `${b.vipPort}/${b.protocol}`,
      `${hostPort(b.address)}:${b.port}`,
      String(b.weight),
      health,
      b.task,
    ];
  });
  const table = renderTable(['PORT', 'BACKEND', 'WEIGHT', 'STATE/HEALTH', 'TASK'], rows).trimEnd();
  return [...lines, `Backends:     ${formatVipBackends(spec, now)} taking new connections`, indent(table, 2)];
}

function hostPort(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join('\n              ');
}

function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
}
