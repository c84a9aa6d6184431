import { StateError } from '../errors';
import { matchRoute } from './http-router';

describe('matchRoute', () => {
  it.each([
    { desc: 'health', method: 'GET', url: '/healthz', want: { template: '/healthz', operation: 'healthz' } },
    { desc: 'metrics', method: 'GET', url: '/metrics', want: { template: '/metrics', operation: 'metrics' } },
    {
      desc: 'list tasks',
      method: 'GET',
      url: '/v1/tasks',
      want: { template: '/v1/:plural', operation: 'list', kind: 'Task' },
    },
    {
      desc: 'watch tasks',
      method: 'GET',
      url: '/v1/tasks?watch=1',
      want: { operation: 'watch', kind: 'Task' },
    },
    {
      desc: 'watch=true also watches',
      method: 'GET',
      url: '/v1/tasks?watch=true',
      want: { operation: 'watch' },
    },
    { desc: 'watch=0 lists', method: 'GET', url: '/v1/tasks?watch=0', want: { operation: 'list' } },
    {
      desc: 'watch all kinds',
      method: 'GET',
      url: '/v1/watch?from=3',
      want: { template: '/v1/watch', operation: 'watch' },
    },
    { desc: 'create', method: 'POST', url: '/v1/policies', want: { operation: 'create', kind: 'Policy' } },
    {
      desc: 'get',
      method: 'GET',
      url: '/v1/nodes/n1',
      want: { template: '/v1/:plural/:name', operation: 'get', kind: 'Node', name: 'n1' },
    },
    {
      desc: 'replace',
      method: 'PUT',
      url: '/v1/services/web',
      want: { operation: 'replace', kind: 'Service', name: 'web' },
    },
    {
      desc: 'delete',
      method: 'DELETE',
      url: '/v1/networks/default',
      want: { operation: 'delete', kind: 'Network' },
    },
    {
      desc: 'percent-encoded name',
      method: 'GET',
      url: '/v1/tasks/web%40marathon',
      want: { name: 'web@marathon' },
    },
  ])('$desc', ({ method, url, want }) => {
    const parsed = new URL(url, 'http://x');
    expect(matchRoute(method, parsed.pathname, parsed.searchParams)).toMatchObject(want);
  });

  it.each([
    { desc: 'unknown path', method: 'GET', url: '/v2/tasks', status: 404, code: 'SY_STATE_NOT_FOUND' },
    { desc: 'unknown kind', method: 'GET', url: '/v1/widgets', status: 404, code: 'SY_STATE_NOT_FOUND' },
    { desc: 'too deep', method: 'GET', url: '/v1/tasks/a/b', status: 404, code: 'SY_STATE_NOT_FOUND' },
    { desc: 'empty name', method: 'GET', url: '/v1/tasks/', status: 404, code: 'SY_STATE_NOT_FOUND' },
    { desc: 'PUT on a collection', method: 'PUT', url: '/v1/tasks', status: 405, allow: 'GET, POST' },
    { desc: 'POST on an object', method: 'POST', url: '/v1/tasks/a', status: 405, allow: 'GET, PUT, DELETE' },
    { desc: 'POST on health', method: 'POST', url: '/healthz', status: 405, allow: 'GET' },
    {
      desc: 'bad percent-encoding',
      method: 'GET',
      url: '/v1/tasks/%E0%A4%A',
      status: 400,
      code: 'SY_STATE_BAD_REQUEST',
    },
  ])('rejects $desc', ({ method, url, status, code, allow }) => {
    const parsed = new URL(url, 'http://x');
    let caught: unknown;
    try {
      matchRoute(method, parsed.pathname, parsed.searchParams);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StateError);
    const error = caught as StateError;
    if (code !== undefined) expect(error.code).toBe(code);
    if (status === 405) {
      expect(error.details).toEqual({ status: 405, allow });
    }
  });
});
