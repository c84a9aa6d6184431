import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validateInput } from '../../state';

// Every YAML example of a state object in a room README is a valid object (CoreDNS
// `test/readme_test.go`): docs that drift from the validator fail here.
const ROOT = join(__dirname, '..', '..');
const READMES = [
  'README.md',
  ...['lib', 'state', 'dns', 'lb', 'vip', 'cni', 'agent', 'cli'].map((r) => `${r}/README.md`),
];

function yamlBlocks(text: string): string[] {
  return [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

const cases = READMES.filter((f) => existsSync(join(ROOT, f))).flatMap((file) =>
  yamlBlocks(readFileSync(join(ROOT, file), 'utf8')).flatMap((block, b) =>
    parseAllDocuments(block)
      .map((doc) => doc.toJS() as unknown)
      .filter((o): o is { kind: string; name: string } => typeof o === 'object' && o !== null && 'kind' in o)
      .map((object) => ({ desc: `${file} block ${b + 1}: ${object.kind}/${object.name}`, object })),
  ),
);

describe('README examples of state objects', () => {
  it('finds some', () => expect(cases.length).toBeGreaterThan(0));
  it.each(cases)('$desc is valid', ({ object }) => {
    expect(() => validateInput(object)).not.toThrow();
  });
});

describe('examples/', () => {
  it('every object of examples/cluster.yaml is valid', () => {
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples', 'cluster.yaml'), 'utf8'));
    for (const doc of docs) expect(() => validateInput(doc.toJS())).not.toThrow();
  });
});
