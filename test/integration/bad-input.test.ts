import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  openEmbeddedStore,
  startStateServer,
  type EmbeddedStore,
  type ObjectInput,
  type StateServer,
  type StoredObject,
} from '../../state';

// Issue 2's "bad input" promise, end to end over REST against the durable store: each bad request
// gets a clear 4xx naming the field, and nothing in the store changes — not even the revision.
const TOKEN = 'bad-input-token';
const AUTH = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

const network = (spec: Record<string, unknown>) => ({
  kind: 'Network',
  name: 'default',
  spec: { podCIDR: '198.18.0.0/16', nodeSubnetPrefix: 24, serviceCIDR: '198.19.0.0/16', ...spec },
});

describe('bad input over REST leaves the store untouched', () => {
  let dir: string;
  let store: EmbeddedStore;
  let server: StateServer;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-bad-'));
    store = await openEmbeddedStore({ dir });
    server = await startStateServer({ api: store, token: TOKEN, http: { host: '127.0.0.1', port: 0 } });
    base = `http://127.0.0.1:${server.httpAddress?.port ?? 0}`;
    await store.apply(network({}) as ObjectInput<'Network'>);
    await store.apply({
      kind: 'Node',
      name: 'node-1',
      spec: { address: '127.0.0.1', podSubnet: '198.18.1.0/24' },
    });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    {
      desc: 'a malformed CIDR',
      path: '/v1/networks',
      body: network({ podCIDR: '198.18.0.0/33' }),
      status: 422,
      code: 'SY_STATE_INVALID',
      field: 'spec.podCIDR',
    },
    {
      desc: 'a CIDR with host bits set',
      path: '/v1/networks',
      body: network({ serviceCIDR: '198.19.0.1/16' }),
      status: 422,
      code: 'SY_STATE_INVALID',
      field: 'spec.serviceCIDR',
      reason: 'did you mean 198.19.0.0/16',
    },
    {
      desc: 'pod and service CIDRs that overlap',
      path: '/v1/networks',
      body: network({ serviceCIDR: '198.18.128.0/17' }),
      status: 422,
      code: 'SY_STATE_INVALID',
      field: 'spec.serviceCIDR',
    },
    {
      desc: 'a pod CIDR change that would orphan a node lease',
      path: '/v1/networks',
      body: network({ podCIDR: '198.18.128.0/17', serviceCIDR: '198.19.0.0/16' }),
      status: 409,
      code: 'SY_STATE_CONFLICT',
    },
    {
      desc: 'a node subnet that overlaps another node’s',
      path: '/v1/nodes',
      body: { kind: 'Node', name: 'node-2', spec: { address: '127.0.0.2', podSubnet: '198.18.1.0/24' } },
      status: 409,
      code: 'SY_STATE_CONFLICT',
      field: 'spec.podSubnet',
    },
    {
      desc: 'a name that is not RFC 1123',
      path: '/v1/nodes',
      body: { kind: 'Node', name: 'Node_2', spec: { address: '127.0.0.2' } },
      status: 422,
      code: 'SY_STATE_INVALID',
      field: 'name',
    },
  ])('$desc → $status $code', async ({ path, body, status, code, field, reason }) => {
    const before = { revision: store.revision, nodes: await store.list({ kind: 'Node' }) };
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(status);
    const { error } = (await response.json()) as { error: { code: string; field?: string; reason?: string } };
    expect(error.code).toBe(code);
    if (field !== undefined) expect(error.field).toBe(field);
    if (reason !== undefined) expect(error.reason).toContain(reason);
    expect(store.revision).toBe(before.revision);
    expect(await store.list({ kind: 'Node' })).toEqual(before.nodes);
    const stored = (await store.get({ kind: 'Network', name: 'default' })) as StoredObject<'Network'>;
    expect(stored.spec.podCIDR).toBe('198.18.0.0/16');
  });

  it('refuses a wrong token (401) and an oversize body (413) without storing anything', async () => {
    const revision = store.revision;
    const node = { kind: 'Node', name: 'node-3', spec: { address: '127.0.0.3' } };
    const wrong = await fetch(`${base}/v1/nodes`, {
      method: 'POST',
      headers: { ...AUTH, Authorization: 'Bearer wrong' },
      body: JSON.stringify(node),
    });
    expect(wrong.status).toBe(401);
    const huge = {
      ...node,
      labels: { pad: 'x' },
      spec: { address: '127.0.0.3', pad: 'x'.repeat(2 * 1024 * 1024) },
    };
    const oversize = await fetch(`${base}/v1/nodes`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify(huge),
    });
    expect(oversize.status).toBe(413);
    expect(((await oversize.json()) as { error: { code: string } }).error.code).toBe('SY_STATE_TOO_LARGE');
    expect(store.revision).toBe(revision);
    await expect(store.get({ kind: 'Node', name: 'node-3' })).rejects.toMatchObject({
      code: 'SY_STATE_NOT_FOUND',
    });
  });
});
