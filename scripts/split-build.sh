#!/usr/bin/env bash
# Trunk pre_build hook (Trunk.toml [[hooks]]): builds the page's wasm split into parts, the steps Trunk's own Rust
# pipeline cannot do (index.html turns it off with data-trunk-skip). The order is cargo-leptos' (shared/docs/wasm-split.md):
#   1. cargo build --features split for wasm32, with relocations kept (the splitter reads them);
#   2. wasm-split-cli: the main module, one .wasm per part (src/views/later.rs, src/i18n/ru.rs) and __wasm_split.js,
#      the loader that fetches a part when it is first called;
#   3. wasm-bindgen --target web on the main module only;
#   4. release builds: wasm-opt -Os --low-memory-unused on the main module and every part (what Trunk ran before),
#      and terser on wasm-bindgen's JS glue: 7.6 -> 5.9 kB brotli, which brings the last
#      script of the first screen one round trip sooner on slow 4G (Lighthouse's FCP 1.14 -> 0.99 s).
# The result goes to $TARGET/page/ (TARGET: $CARGO_TARGET_DIR or target/); scripts/post-build.pl, the post_build
# hook, copies it into Trunk's staging directory under hashed names and writes the boot script.
#
#   SPLIT=off trunk build --release --offline   one wasm as before (no parts): to compare, or to find a splitter bug
#
# Trunk sets TRUNK_PROFILE (debug | release); by hand: TRUNK_PROFILE=release scripts/split-build.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/.tools/node_modules/.bin:$PATH"

say() { printf '[split-build] %s\n' "$*" >&2; }

name=kommo-oauth-helper
profile=${TRUNK_PROFILE:-debug}
target=${CARGO_TARGET_DIR:-$root/target}
out=$target/page
split=${SPLIT:-on}

case "$profile" in
  release) cargo_profile=(--profile wasm-release); cargo_dir=wasm-release ;;
  *) cargo_profile=(); cargo_dir=debug ;;
esac

# Its own target directory: the relocation flag changes every crate's build, and sharing one directory with the
# tests' builds would rebuild everything each time one or the other ran. RUSTFLAGS replaces .cargo/config.toml's
# target rustflags, so erase_components is repeated here.
split_target=$target/split
rustflags="--cfg erase_components"
features=()
if [ "$split" != off ]; then
  rustflags="$rustflags -Clink-args=--emit-relocs"
  features=(--features split)
fi
# Panic locations name each crate's source file: without this, as /root/.cargo/registry/src/index.crates.io-…/
# tachys-0.2.19/src/…, 40 times over — the builder's home in every served file. Shortened to tachys-0.2.19/src/….
cargo_home=${CARGO_HOME:-$HOME/.cargo}
for d in "$cargo_home"/registry/src/*/; do
  case "$d" in *' '*) continue ;; esac # RUSTFLAGS is split on spaces
  [ -d "$d" ] && rustflags="$rustflags --remap-path-prefix=$d="
done
say "cargo build ($profile, split $split)"
RUSTFLAGS="$rustflags" CARGO_TARGET_DIR="$split_target" \
  cargo build --target wasm32-unknown-unknown --bin "$name" "${features[@]}" "${cargo_profile[@]}"
raw=$split_target/wasm32-unknown-unknown/$cargo_dir/$name.wasm

rm -rf "$out.new"
mkdir -p "$out.new"
if [ "$split" != off ]; then
  say "wasm-split-cli"
  wasm-split-cli "$raw" "$out.new/split" --out-name "$name" --target web >&2
  main=$out.new/split/$name.wasm
else
  main=$raw
fi
[ -f "$main" ] || { say "no main module at $main"; exit 1; }

say "wasm-bindgen"
bindgen_flags=(--target web --no-typescript --out-dir "$out.new" --out-name "$name")
[ "$split" != off ] && bindgen_flags+=(--keep-lld-exports --no-demangle)
wasm-bindgen "${bindgen_flags[@]}" "$main"

if [ "$split" != off ]; then
  # The loader and the parts, beside the main module.
  for f in "$out.new"/split/*; do
    case "$(basename "$f")" in
      "$name.wasm") ;;
      *) mv "$f" "$out.new/" ;;
    esac
  done
  rm -rf "$out.new/split"
fi

if [ "$profile" = release ]; then
  if command -v wasm-opt >/dev/null 2>&1; then
    for f in "$out.new"/*.wasm; do
      say "wasm-opt $(basename "$f")"
      wasm-opt -Os --low-memory-unused "$f" -o "$f.opt"
      mv "$f.opt" "$f"
    done
  else
    say "warning: no wasm-opt (scripts/ensure-tools.sh installs it): the page is bigger"
  fi
  if command -v terser >/dev/null 2>&1; then
    # wasm-bindgen's glue only: scripts/post-build.pl reads the loader's part names from __wasm_split.js as written
    # (1.6 kB brotli). An ES module: its exports and the wasm's import names (object keys) keep their names.
    say "terser $name.js"
    terser "$out.new/$name.js" --module --compress --mangle --output "$out.new/$name.js.min"
    mv "$out.new/$name.js.min" "$out.new/$name.js"
  else
    say "warning: no terser (scripts/ensure-tools.sh installs it): the JS is bigger"
  fi
fi

rm -rf "$out"
mv "$out.new" "$out"
say "wrote $out: $(cd "$out" && ls | tr '\n' ' ')"
