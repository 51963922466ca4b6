// Reads one dotenv file with the npm parsers, pinned in package.json: dotenv, dotenv-expand and @next/env.
// usage: node read-js.cjs MODULES_DIR FILE   → {"dotenv": {...}, "dotenv-expand": {...}, "next-env": {...}} on stdout
// Run it with a near-empty environment (env -i): expansion looks variables up in process.env.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const [modules, file] = process.argv.slice(2);
const load = (name) => require(path.join(modules, 'node_modules', name));
const src = fs.readFileSync(file);
const out = {};
const attempt = (key, fn) => {
  try {
    out[key] = fn();
  } catch (e) {
    out[key] = { '!error': String(e && e.message ? e.message : e) };
  }
};

attempt('dotenv', () => load('dotenv').parse(src));
// As an app uses it: expand(config()) with the process environment for look-ups.
attempt('dotenv-expand', () =>
  load('dotenv-expand').expand({ parsed: load('dotenv').parse(src), processEnv: { ...process.env } }).parsed);
// Next.js reads .env.local (and .env) from the project folder at start-up.
attempt('next-env', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kommo-next-'));
  fs.copyFileSync(file, path.join(dir, '.env.local'));
  const log = { info() {}, error(m) { throw new Error(String(m)); } };
  const { parsedEnv } = load('@next/env').loadEnvConfig(dir, true, log, true);
  fs.rmSync(dir, { recursive: true, force: true });
  return parsedEnv || {};
});
process.stdout.write(JSON.stringify(out));
