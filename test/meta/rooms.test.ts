import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// Meta tests (STYLE.md item 17): the layout rules that keep the rooms apart.
const ROOT = join(__dirname, '..', '..');
const ROOMS = ['lib', 'state', 'dns', 'lb', 'vip', 'cni', 'agent', 'cli'] as const;
const README_SECTIONS = ['Description', 'Configuration', 'Errors', 'Metrics', 'Ready', 'Examples', 'Bugs'];

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
}

describe('rooms', () => {
  it.each(ROOMS.map((room) => ({ room })))(
    '$room has an index.ts door and a README with the fixed sections',
    ({ room }) => {
      expect(existsSync(join(ROOT, room, 'index.ts'))).toBe(true);
      const readme = readFileSync(join(ROOT, room, 'README.md'), 'utf8');
      expect(readme).toMatch(/^# \S+/);
      if (room === 'lib') return; // the shared room documents helpers, not a service
      for (const section of README_SECTIONS) expect(readme).toMatch(new RegExp(`^## ${section}`, 'm'));
    },
  );

  it('no room imports another room except through its index.ts, and lib imports no room', () => {
    const offences: string[] = [];
    for (const room of ROOMS) {
      for (const file of sourceFiles(join(ROOT, room))) {
        for (const spec of importsOf(file)) {
          if (!spec.startsWith('.')) continue;
          const target = relative(ROOT, join(file, '..', spec));
          const targetRoom = target.split('/')[0];
          if (targetRoom === room || !ROOMS.includes(targetRoom as (typeof ROOMS)[number])) continue;
          const throughDoor = target === targetRoom;
          if (room === 'lib' || !throughDoor) offences.push(`${relative(ROOT, file)} imports ${spec}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });
});

describe('error codes', () => {
  it('every SY_ code in the code is documented in a README, and every documented code exists', () => {
    const inCode = new Set<string>();
    const inDocs = new Set<string>();
    for (const room of ROOMS) {
      for (const file of sourceFiles(join(ROOT, room))) {
        if (file.endsWith('.test.ts')) continue;
        for (const m of readFileSync(file, 'utf8').matchAll(/'(SY_[A-Z0-9_]+)'/g)) inCode.add(m[1] as string);
      }
      const readme = join(ROOT, room, 'README.md');
      if (existsSync(readme))
        for (const m of readFileSync(readme, 'utf8').matchAll(/`(SY_[A-Z0-9_]+)`/g))
          inDocs.add(m[1] as string);
    }
    expect([...inCode].filter((c) => !inDocs.has(c)).sort()).toEqual([]);
    expect([...inDocs].filter((c) => !inCode.has(c)).sort()).toEqual([]);
  });
});

describe('metric names', () => {
  it('every metric is switchyard_<room>_<name>, counters end in _total', () => {
    const bad: string[] = [];
    for (const room of ROOMS) {
      for (const file of sourceFiles(join(ROOT, room))) {
        if (file.endsWith('.test.ts')) continue;
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(
          /new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*['"`]([^'"`]+)['"`]/g,
        )) {
          const [, type, name] = m as unknown as [string, string, string];
          const ok =
            /^switchyard_[a-z0-9]+_[a-z0-9_]+$/.test(name) &&
            (type !== 'Counter') === !name.endsWith('_total');
          if (!ok) bad.push(`${relative(ROOT, file)}: ${type} ${name}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
