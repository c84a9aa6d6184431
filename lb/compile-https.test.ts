import {
  compileRouteTable,
  DEFAULT_COMPILE_OPTIONS,
  type CompileOptions,
  type RouteSnapshot,
} from './compile';
import { resolveLbConfig } from './config';
import { matchRoute } from './route-match';
import { node, service, task } from './test-fixtures';

const web = service('web', {
  ports: [{ port: 8080, targetPort: 'http', protocol: 'tcp', mode: 'http' }],
  ingress: [{ host: 'web.example.org', path: '/', pathType: 'Prefix', port: 8080 }],
});
const api = service('api', {
  ports: [{ port: 9000, protocol: 'tcp', mode: 'http' }],
  ingress: [{ host: '*.example.org', path: '/api', pathType: 'Prefix', port: 9000 }],
});
const snapshot: RouteSnapshot = {
  services: [web, api],
  tasks: [task('web-1', { app: 'web', ports: [{ name: 'http', containerPort: 80, protocol: 'tcp' }] })],
  nodes: [node('node-1', '198.18.0.1')],
};

function compile(options: Partial<CompileOptions>, snap = snapshot): ReturnType<typeof compileRouteTable> {
  return compileRouteTable(snap, undefined, {
    ...DEFAULT_COMPILE_OPTIONS,
    listenHost: '198.18.0.10',
    ...options,
  });
}

describe('compileRouteTable: the HTTPS ingress frontend', () => {
  test('httpsPort adds a TLS frontend with the ingress frontend’s router (the same object)', () => {
    const table = compile({ httpsPort: 443 });
    expect(table.frontends.map((f) => `${f.id} ${f.mode}${f.tls ? ' tls' : ''}`)).toEqual([
      '198.18.0.10:80 http',
      '198.18.0.10:443 http tls',
      '198.18.0.10:8080 http',
      '198.18.0.10:9000 http',
    ]);
    const secure = table.frontendsById.get('198.18.0.10:443');
    expect(secure?.router).toBe(table.frontendsById.get('198.18.0.10:80')?.router);
    expect(matchRoute(secure!.router!, 'web.example.org', '/x')).toBe('default/web:8080');
    expect(matchRoute(secure!.router!, 'shop.example.org', '/api/v1')).toBe('default/api:9000');
    expect(table.warnings).toEqual([]);
  });

  test('no httpsPort (the default), no TLS frontend', () => {
    expect(compile({}).frontends.some((f) => f.tls)).toBe(false);
    expect(compile({ httpsPort: null }).frontends.some((f) => f.tls)).toBe(false);
  });

  test('without a plain ingress frontend the TLS one builds the router from the rules', () => {
    const table = compile({ ingressPort: null, httpsPort: 8443 });
    const secure = table.frontendsById.get('198.18.0.10:8443');
    expect(secure?.tls).toBe(true);
    expect(table.frontendsById.has('198.18.0.10:80')).toBe(false);
    expect(matchRoute(secure!.router!, 'web.example.org', '/')).toBe('default/web:8080');
    expect(secure?.router?.defaultPool).toBeUndefined();
  });

  test('no ingress rules, no TLS frontend', () => {
    const plain = service('plain', { ports: [{ port: 8080, protocol: 'tcp', mode: 'http' }] });
    const table = compile({ httpsPort: 443 }, { ...snapshot, services: [plain] });
    expect(table.frontends.map((f) => f.id)).toEqual(['198.18.0.10:8080']);
  });

  test('a service port on httpsPort keeps it (plain), with a warning', () => {
    const table = compile({ httpsPort: 9000 });
    const frontend = table.frontendsById.get('198.18.0.10:9000');
    expect(frontend?.tls).toBeUndefined();
    expect(matchRoute(frontend!.router!, 'web.example.org', '/')).toBe('default/api:9000');
    expect(table.warnings).toEqual([
      'https port 9000 is a frontend of default/api:9000; no HTTPS ingress there',
    ]);
  });

  test('the input is not mutated and the output is deterministic', () => {
    const frozen = JSON.parse(JSON.stringify(snapshot)) as RouteSnapshot;
    const first = compile({ httpsPort: 443 });
    const second = compile({ httpsPort: 443 });
    expect(snapshot).toEqual(frozen);
    expect(second.frontends.map((f) => f.id)).toEqual(first.frontends.map((f) => f.id));
  });
});

describe('resolveLbConfig: HTTPS options', () => {
  test('off by default', () => {
    expect(resolveLbConfig({})).toMatchObject({ httpsPort: null, certificates: undefined });
  });

  test('httpsPort with a certificate directory', () => {
    expect(resolveLbConfig({ httpsPort: 8443, certificates: '/etc/switchyard/certs' })).toMatchObject({
      httpsPort: 8443,
      certificates: '/etc/switchyard/certs',
    });
  });

  test.each([
    { desc: 'httpsPort without certificates', input: { httpsPort: 443 }, field: 'certificates' },
    {
      desc: 'an empty certificates path',
      input: { httpsPort: 443, certificates: '' },
      field: 'certificates',
    },
    { desc: 'httpsPort out of range', input: { httpsPort: 70000, certificates: '/c' }, field: 'httpsPort' },
    { desc: 'a fractional httpsPort', input: { httpsPort: 44.3, certificates: '/c' }, field: 'httpsPort' },
    { desc: 'a negative httpsPort', input: { httpsPort: -1, certificates: '/c' }, field: 'httpsPort' },
    {
      desc: 'httpsPort equal to ingressPort',
      input: { httpsPort: 80, certificates: '/c' },
      field: 'httpsPort',
    },
  ])('rejects $desc naming the field', ({ input, field }) => {
    expect(() => resolveLbConfig(input)).toThrow(
      expect.objectContaining({ code: 'SY_LB_INVALID_OPTIONS', field }),
    );
  });
});
