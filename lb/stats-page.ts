import type { BackendRow, FrontendRow, PoolRow, StatsSnapshot } from './stats';

/**
 * The stats page as HTML, modelled on HAProxy's: one table of frontends, then one table per pool
 * with a row per backend, coloured by state so an operator reads it at a glance. Pure: data in,
 * text out; every value is escaped.
 */

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COLOURS: Readonly<Record<string, string>> = {
  UP: '#c0ffc0',
  DOWN: '#ff9090',
  DRAIN: '#a0c0ff',
  MAINT: '#c0c0c0',
  EJECTED: '#ffd080',
};

function classes(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
}

function backendRow(b: BackendRow): string {
  const cells = [
    b.id,
    b.address,
    `${b.status}${b.reason ? ` (${b.reason})` : ''}`,
    b.weight,
    b.lastCheck ? `${b.lastCheck}${b.lastCheckMs === null ? '' : ` in ${b.lastCheckMs}ms`}` : '-',
    `${Math.round(b.sinceChangeMs / 1000)}s`,
    b.active,
    b.maxActive,
    b.requests,
    b.rate,
    classes(b.responses),
    b.connectFailures,
    b.resets,
    b.timeouts,
    b.redispatches,
    b.ejections,
    `${b.bytesIn}/${b.bytesOut}`,
    b.datagramsIn + b.datagramsOut > 0 ? `${b.datagramsIn}/${b.datagramsOut}` : '-',
  ];
  return `<tr style="background:${COLOURS[b.status] ?? '#fff'}">${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
}

const BACKEND_HEAD = [
  'Backend',
  'Address',
  'Status',
  'Weight',
  'Last check',
  'Since change',
  'Cur',
  'Max',
  'Total',
  'Rate/s',
  'Responses',
  'Conn err',
  'Resets',
  'Timeouts',
  'Redisp',
  'Eject',
  'Bytes in/out',
  'Datagrams in/out',
];

function poolTable(p: PoolRow): string {
  const head = BACKEND_HEAD.map((h) => `<th>${h}</th>`).join('');
  const rows = p.backends.map(backendRow).join('\n');
  return `<h2>${esc(p.id)} <small>${esc(p.mode)} · ${esc(p.algorithm)} · ${p.up}/${p.total} UP · ${esc(p.check)} · 503s ${p.noBackend}</small></h2>
<table><tr>${head}</tr>
${rows || `<tr><td colspan="${BACKEND_HEAD.length}">no backends</td></tr>`}
</table>`;
}

/** UDP frontends: sessions and datagrams instead of connections and requests. */
function udpTable(frontends: readonly FrontendRow[]): string {
  const rows = frontends
    .map((f) => {
      const u = f.udp;
      if (!u) return '';
      const cells = [
        f.id,
        f.bound,
        u.currentSessions,
        u.sessions,
        `${u.datagramsIn}/${u.datagramsOut}`,
        `${u.bytesIn}/${u.bytesOut}`,
        classes(u.dropped),
      ];
      return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<h2>UDP frontends</h2>
<table><tr><th>Frontend</th><th>Bound</th><th>Cur sessions</th><th>Total sessions</th><th>Datagrams in/out</th><th>Bytes in/out</th><th>Dropped</th></tr>
${rows}
</table>`;
}

export function renderStatsPage(stats: StatsSnapshot): string {
  const udp = stats.frontends.filter((f) => f.mode === 'udp');
  const frontendRows = stats.frontends
    .filter((f) => f.mode !== 'udp')
    .map(
      (f) =>
        `<tr><td>${esc(f.id)}</td><td>${esc(f.mode)}</td><td>${esc(f.bound)}</td><td>${f.currentConnections}</td><td>${f.connections}</td><td>${f.requests}</td><td>${esc(classes(f.responses))}</td><td>${esc(classes(f.refused))}</td></tr>`,
    )
    .join('\n');
  const warnings = stats.warnings.map((w) => `<li>${esc(w)}</li>`).join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Switchyard LB statistics</title>
<style>body{font:13px sans-serif;margin:1em}table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #999;padding:2px 6px;text-align:left}th{background:#eee}small{font-weight:normal;color:#444}</style>
</head><body>
<h1>Switchyard load balancer</h1>
<p>Route table revision ${stats.revision} · generated ${esc(stats.generatedAt)} · retries ${stats.retries} · handler panics ${stats.panics} · <a href="/stats.json">JSON</a> · <a href="/metrics">metrics</a></p>
${warnings ? `<h2>Warnings</h2><ul>${warnings}</ul>` : ''}
<h2>Frontends</h2>
<table><tr><th>Frontend</th><th>Mode</th><th>Bound</th><th>Cur conns</th><th>Total conns</th><th>Requests</th><th>Responses</th><th>Refused</th></tr>
${frontendRows}
</table>
${udp.length > 0 ? udpTable(udp) : ''}
${stats.pools.map(poolTable).join('\n')}
</body></html>
`;
}
