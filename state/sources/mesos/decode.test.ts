import { SOURCE_ERROR_CODES } from './errors';
import { decodeMesosState, parseHostPort, parsePid, parsePortRanges } from './decode';

describe('decoding the state document', () => {
  it.each([
    { desc: 'ranges', text: '[31000-31001, 31005-31005]', ports: [31000, 31001, 31005] },
    { desc: 'empty', text: '[]', ports: [] },
    { desc: 'missing', text: undefined, ports: [] },
    { desc: 'a single port without a dash', text: '[8080]', ports: [8080] },
    { desc: 'overlapping ranges count each port once', text: '[10-12, 11-13]', ports: [10, 11, 12, 13] },
    { desc: 'garbage pieces are skipped', text: '[a-b, 0-1, 70000-70001, 5-3, 20-20]', ports: [20] },
  ])('port resources: $desc', ({ text, ports }) => {
    expect(parsePortRanges(text)).toEqual(ports);
  });

  it.each([
    { desc: 'an agent PID', pid: 'slave(1)@198.18.1.7:5051', expected: { host: '198.18.1.7', port: 5051 } },
    {
      desc: 'a host name',
      pid: 'scheduler-1@master-1.example.org:15101',
      expected: { host: 'master-1.example.org', port: 15101 },
    },
    { desc: 'IPv6', pid: 'master@[fd00::10]:5050', expected: { host: 'fd00::10', port: 5050 } },
    { desc: 'no @', pid: '198.18.1.7:5051', expected: undefined },
    { desc: 'no port', pid: 'master@198.18.0.10', expected: undefined },
  ])('PIDs: $desc', ({ pid, expected }) => {
    expect(parsePid(pid)).toEqual(expected);
  });

  it('parses host:port with and without brackets', () => {
    expect(parseHostPort('[fd00::1]:5050')).toEqual({ host: 'fd00::1', port: 5050 });
    expect(parseHostPort('fd00::1:5050')).toBeUndefined();
  });

  it('takes the leader from leader_info when "leader" is absent', () => {
    expect(decodeMesosState({ leader_info: { pid: 'master@198.18.0.10:5050' } }).leader).toBe(
      'master@198.18.0.10:5050',
    );
  });

  it.each([
    { desc: 'null', doc: null },
    { desc: 'no leader', doc: { slaves: [] } },
    { desc: 'an empty leader', doc: { leader: '' } },
    { desc: 'a malformed leader', doc: { leader: 'master' } },
  ])('refuses $desc', ({ doc }) => {
    expect(() => decodeMesosState(doc)).toThrow(
      expect.objectContaining({ code: SOURCE_ERROR_CODES.BAD_RESPONSE }),
    );
  });

  it('skips malformed entries and says which', () => {
    const state = decodeMesosState({
      leader: 'master@198.18.0.10:5050',
      slaves: [{ id: 'a-S1', pid: 'slave(1)@198.18.1.1:5051' }, { pid: 'x' }, 'junk'],
      frameworks: [{ id: 'fw', name: 'm', tasks: [{ id: 't' }, 7] }, { name: 'no id' }],
    });
    expect(state.agents).toHaveLength(1);
    expect(state.frameworks).toHaveLength(1);
    expect(state.skipped).toEqual([
      'slaves[1]: no id or pid',
      'slaves[2]: no id or pid',
      'frameworks[fw].tasks[0]: no id, slave_id or state',
      'frameworks[fw].tasks[1]: no id, slave_id or state',
      'frameworks[1]: no id',
    ]);
  });

  it('ignores a DiscoveryInfo without a name (Mesos-DNS HasDiscoveryInfo)', () => {
    const state = decodeMesosState({
      leader: 'master@198.18.0.10:5050',
      frameworks: [
        {
          id: 'fw',
          tasks: [
            {
              id: 't',
              slave_id: 'a',
              state: 'TASK_RUNNING',
              discovery: { name: '', ports: { ports: [{ number: 80 }] } },
            },
          ],
        },
      ],
    });
    expect(state.frameworks[0]?.tasks[0]?.discovery).toBeUndefined();
  });
});
