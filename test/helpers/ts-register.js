// A tiny require hook so tests can run TypeScript in child processes:
//   node -r ./test/helpers/ts-register.js some-child.ts
// Each .ts file is compiled on load with @swc/core (a dev dependency) to CommonJS, the same
// settings jest uses. No type checking: `tsc --noEmit` does that.
'use strict';
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
}

require.extensions['.ts'] = compileTs;
