import { useCleanup } from '../../server/testing';
import { SOURCE_ERROR_CODES, type SourceError } from './errors';
import { MesosStateFetcher, type FetcherOptions } from './fetch';
import {
  deadAddress,
  FIXTURE_LOOKUP,
  startFakeMaster,
  type FakeMaster,
  type MasterBehaviour,
} from './testing';

const defer = useCleanup(afterEach);

async function master(behaviour: MasterBehaviour): Promise<FakeMaster> {
  const m = await startFakeMaster(behaviour);
  defer(() => m.close());
  return m;
}

function fetcher(options: FetcherOptions): MesosStateFetcher {
  const f = new MesosStateFetcher({ lookup: FIXTURE_LOOKUP, stateTimeoutMs: 2000, ...options });
  defer(() => f.close());
  return f;
}

async function failure(f: MesosStateFetcher): Promise<SourceError> {
  try {
    await f.fetch();
  } catch (err) {
    return err as SourceError;
  }
  throw new Error('fetch succeeded');
}

describe('MesosStateFetcher follows the leader', () => {
  it('follows a standby master redirecting (307) to the leader', async () => {
    const leader = await master({ kind: 'leader' });
    const standby = await master({ kind: 'redirect', to: () => leader.address });
    const got = await fetcher({ masters: [standby.address, leader.address] }).fetch();
    expect(got.leader).toBe(leader.address);
    expect(got.path).toBe('/master/state');
    expect(got.state.agents).toHaveLength(3);
    expect(standby.requests).toEqual(['GET /master/state']);
    expect(leader.requests).toEqual(['GET /master/state']);
  });

  it('asks the leader an older standby names in its state', async () => {
    const leader = await master({ kind: 'leader' });
    const standby = await master({ kind: 'standby', leader: () => leader.address });
    const got = await fetcher({ masters: [standby.address] }).fetch();
    expect(got.leader).toBe(leader.address);
    expect(got.state.frameworks).toHaveLength(2);
  });

  it('goes to the last known leader first on the next fetch', async () => {
    const leader = await master({ kind: 'leader' });
    const standby = await master({ kind: 'redirect', to: () => leader.address });
    const f = fetcher({ masters: [standby.address, leader.address] });
    await f.fetch();
    await f.fetch();
    expect(standby.requests).toHaveLength(1);
    expect(leader.requests).toHaveLength(2);
  });

  it('tries the next master when one refuses connections, and follows a failover', async () => {
    const dead = await deadAddress();
    const a = await master({ kind: 'leader' });
    const b = await master({ kind: 'redirect', to: () => a.address });
    const f = fetcher({ masters: [dead, b.address, a.address] });
    expect((await f.fetch()).leader).toBe(a.address);
    // Failover: a steps down (now redirects to b), b leads.
    a.behaviour = { kind: 'redirect', to: () => b.address };
    b.behaviour = { kind: 'leader' };
    expect((await f.fetch()).leader).toBe(b.address);
  });

  it('falls back to /master/state.json on 404 and remembers it', async () => {
    const old = await master({ kind: 'leader', legacyOnly: true });
    const f = fetcher({ masters: [old.address] });
    expect((await f.fetch()).path).toBe('/master/state.json');
    await f.fetch();
    expect(old.requests).toEqual(['GET /master/state', 'GET /master/state.json', 'GET /master/state.json']);
  });

  it('resolves host names in agent and scheduler PIDs with the lookup it was given', async () => {
    const leader = await master({ kind: 'leader' });
    const got = await fetcher({ masters: [leader.address] }).fetch();
    expect(got.resolved).toEqual({
      'agent-3.example.org': ['198.18.1.3'],
      'spark-driver.example.org': ['198.18.0.20'],
    });
  });

  it('sends basic credentials and a user agent', async () => {
    const leader = await master({ kind: 'leader' });
    await fetcher({ masters: [leader.address], credentials: { principal: 'dns', secret: 's3cret' } }).fetch();
    expect(leader.headers[0]).toMatchObject({
      authorization: `Basic ${Buffer.from('dns:s3cret').toString('base64')}`,
      'user-agent': 'Switchyard',
    });
  });
});

describe('MesosStateFetcher failures are typed, never crashes', () => {
  it.each([
    {
      desc: 'bad JSON',
      behaviour: { kind: 'body', text: '{"leader": ' },
      code: SOURCE_ERROR_CODES.BAD_RESPONSE,
    },
    {
      desc: 'a JSON array',
      behaviour: { kind: 'body', text: '[1,2]' },
      code: SOURCE_ERROR_CODES.BAD_RESPONSE,
    },
    {
      desc: 'a state without a leader',
      behaviour: { kind: 'body', text: '{"slaves": []}' },
      code: SOURCE_ERROR_CODES.BAD_RESPONSE,
    },
    { desc: 'HTTP 503', behaviour: { kind: 'status', code: 503 }, code: SOURCE_ERROR_CODES.BAD_RESPONSE },
    { desc: 'a master that never answers', behaviour: { kind: 'hang' }, code: SOURCE_ERROR_CODES.TIMEOUT },
  ] as { desc: string; behaviour: MasterBehaviour; code: string }[])('$desc', async ({ behaviour, code }) => {
    const m = await master(behaviour);
    const err = await failure(fetcher({ masters: [m.address], stateTimeoutMs: 300 }));
    expect(err.code).toBe(SOURCE_ERROR_CODES.UNAVAILABLE);
    expect(err.details?.attempts).toEqual([expect.objectContaining({ master: m.address, code })]);
  });

  it('reports every master it tried', async () => {
    const dead = await deadAddress();
    const broken = await master({ kind: 'status', code: 500 });
    const err = await failure(fetcher({ masters: [dead, broken.address] }));
    expect((err.details?.attempts as { code: string }[]).map((a) => a.code)).toEqual([
      SOURCE_ERROR_CODES.UNREACHABLE,
      SOURCE_ERROR_CODES.BAD_RESPONSE,
    ]);
  });

  it('refuses a state larger than the limit', async () => {
    const leader = await master({ kind: 'leader' });
    const err = await failure(fetcher({ masters: [leader.address], maxBodyBytes: 1000 }));
    expect(err.details?.attempts).toEqual([
      expect.objectContaining({ code: SOURCE_ERROR_CODES.BAD_RESPONSE }),
    ]);
  });

  it('refuses a leader that names yet another leader', async () => {
    const a = await master({ kind: 'standby', leader: () => b.address });
    const b = await master({ kind: 'standby', leader: () => a.address });
    const err = await failure(fetcher({ masters: [a.address] }));
    expect(err.details?.attempts).toEqual([
      expect.objectContaining({ code: SOURCE_ERROR_CODES.BAD_RESPONSE }),
    ]);
  });

  it('stops at once when aborted', async () => {
    const m = await master({ kind: 'hang' });
    const abort = new AbortController();
    const pending = fetcher({ masters: [m.address], stateTimeoutMs: 60_000 }).fetch(abort.signal);
    abort.abort();
    await expect(pending).rejects.toBeDefined();
  });

  it.each([
    { desc: 'no masters', masters: [], field: 'masters' },
    { desc: 'a master without a port', masters: ['198.18.0.10'], field: 'masters[0]' },
  ])('refuses $desc', ({ masters, field }) => {
    expect(() => new MesosStateFetcher({ masters })).toThrow(
      expect.objectContaining({ code: SOURCE_ERROR_CODES.INVALID_CONFIG, field }),
    );
  });
});
