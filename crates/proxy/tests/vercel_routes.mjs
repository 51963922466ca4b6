// Resolves request paths against vercel.json the way Vercel does: the config is compiled to routes by Vercel's own
// `@vercel/routing-utils` (getTransformedRoutes), then for each path every matching header route applies in order
// (a later one wins), and the first matching rewrite after the filesystem check gives the destination (the path is
// assumed not to be a file in dist/). Prints one JSON line: [{"path", "headers": {lowercased: value}, "rewrite"}].
// Used by crates/proxy/tests/hosting.rs.   node vercel_routes.mjs NODE_MODULES_DIR VERCEL_JSON PATH...
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [modules, configPath, ...paths] = process.argv.slice(2);
if (!modules || !configPath) {
  console.error('usage: node vercel_routes.mjs NODE_MODULES_DIR VERCEL_JSON PATH...');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), 'noop.js'));
const { getTransformedRoutes } = require('@vercel/routing-utils');

const config = JSON.parse(readFileSync(configPath, 'utf8'));
const { routes, error } = getTransformedRoutes(config);
if (error) {
  console.error(`vercel.json: ${error.message ?? JSON.stringify(error)}`);
  process.exit(1);
}
const fs = routes.findIndex((r) => r.handle === 'filesystem');
const before = routes.slice(0, fs);
const after = routes.slice(fs + 1);

const out = paths.map((p) => {
  const headers = {};
  for (const r of before) {
    if (r.headers && new RegExp(r.src).test(p)) {
      for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
    }
  }
  let rewrite = null;
  for (const r of after) {
    const m = r.src && r.dest ? new RegExp(r.src).exec(p) : null;
    if (m) {
      rewrite = r.dest.replace(/\$(\d+)/g, (_, i) => m[Number(i)] ?? '');
      break;
    }
  }
  return { path: p, headers, rewrite };
});
console.log(JSON.stringify(out));
