#!/usr/bin/env python3
"""Add lockfile entries for optional per-platform packages the npm registry mirror here lacks.

The mirror this project installs from serves only the linux-x64 builds of packages such as
@swc/core and unrs-resolver, so `npm install` writes a package-lock.json without entries for
their other-platform optional dependencies, and `npm ci` then refuses the lockfile as out of sync.
An entry with `os`/`cpu` (and `libc`) tells npm the package is optional and not for this machine,
so `npm ci` skips it without fetching. Run after every `npm install`:
    python3 .ci/lock-platforms.py package-lock.json
"""
import json
import sys

OSES = {'darwin', 'win32', 'linux', 'android', 'freebsd', 'openharmony', 'sunos', 'aix'}
CPUS = {'arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'wasm32'}


def platform_of(name):
    parts = name.split('/')[-1].split('-')
    for i, part in enumerate(parts[:-1]):
        if part in OSES and parts[i + 1] in CPUS:
            entry = {'os': [part], 'cpu': [parts[i + 1]]}
            rest = parts[i + 2] if len(parts) > i + 2 else ''
            if rest.startswith('gnu'):
                entry['libc'] = ['glibc']
            elif rest.startswith('musl'):
                entry['libc'] = ['musl']
            return entry
    return None


def main(path):
    lock = json.load(open(path))
    packages = lock['packages']
    added = 0
    for parent_path, meta in list(packages.items()):
        for name, version in (meta.get('optionalDependencies') or {}).items():
            if any(p == 'node_modules/' + name or p.endswith('/node_modules/' + name) for p in packages):
                continue
            platform = platform_of(name)
            if platform is None:
                continue
            entry = {'version': version, 'optional': True}
            if meta.get('dev'):
                entry['dev'] = True
            entry.update(platform)
            packages['node_modules/' + name] = entry
            added += 1
    lock['packages'] = dict(sorted(packages.items(), key=lambda kv: (kv[0] != '', kv[0])))
    with open(path, 'w') as out:
        json.dump(lock, out, indent=2)
        out.write('\n')
    print(f'{path}: added {added} platform entries')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'package-lock.json')
