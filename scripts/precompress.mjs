#!/usr/bin/env node
// Writes NAME.br (brotli, quality 11) and NAME.gz (gzip, level 9) next to every content-hashed file of a built page
// (`name-<hash>.js`, `name-<hash>_bg.wasm`, `name-<hash>.css`, `boot-<hash>.js`, the split wasm's parts and loader, the hash 12 to 16 hex digits — the
// rule of crates/proxy/src/page.rs `is_hashed_asset`). The proxy's `--static` mode serves them to browsers that accept
// brotli or gzip instead of compressing each answer on the fly at a lower level: the wasm is 188 kB at brotli 11
// against 214 kB at the on-the-fly level, and a file under a hashed name never changes, so the work is done once,
// here. index.html and unhashed files are left alone (they may be edited after the build; the proxy compresses them
// on the fly). Vercel compresses static files itself and ignores these (.vercelignore keeps them out of the upload).
//
// Run by scripts/post-build.pl (the Trunk post_build hook) for release builds, after it has written the hashed
// files; by hand: node scripts/precompress.mjs DIR
import { readdirSync, readFileSync, renameSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/precompress.mjs DIR');
  process.exit(2);
}
const hashed = /^[^/]+-[0-9a-f]{12,16}(?:_bg)?\.(?:js|wasm|css)$/;

function* files(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile() && hashed.test(e.name)) yield p;
  }
}

// Written under a temporary name and renamed, so a server never reads half a file.
function write(path, bytes) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

const kB = (n) => (n / 1000).toFixed(1);
for (const path of files(dir)) {
  const raw = readFileSync(path);
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      [constants.BROTLI_PARAM_MODE]: path.endsWith('.wasm') ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  });
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION, memLevel: 9 });
  const kept = [];
  for (const [ext, bytes] of [['br', br], ['gz', gz]]) {
    const out = `${path}.${ext}`;
    if (bytes.length < raw.length) {
      write(out, bytes);
      kept.push(`${ext} ${kB(bytes.length)} kB`);
    } else {
      // Not worth it (a tiny file): the server sends the file itself.
      try { unlinkSync(out); } catch {}
    }
  }
  console.error(`precompress: ${path.slice(dir.length + 1)} ${kB(raw.length)} kB -> ${kept.join(', ') || 'left as it is'}`);
}
