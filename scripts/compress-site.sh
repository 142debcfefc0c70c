#!/usr/bin/env bash
# Writes a brotli copy (quality 11, the highest) and a gzip copy (-9) beside every file of the
# built site, where the copy is missing or older than the file: the server sends them as they
# are (server/src/assets.rs, docs/frontend.md). Run by `make build` last, after the wasm is
# optimized and bundled. (Not cargo-leptos's --precompress: it would compress the wasm before
# scripts/optimize-wasm.mjs optimizes it, and its gzip copies are about 17 % larger.)
set -euo pipefail
site=${1:?usage: compress-site.sh SITE_DIR}

compress() {
  local file
  for file in "$@"; do
    [[ "$file.br" -nt "$file" ]] || brotli -f -q 11 -o "$file.br" "$file"
    # -n: no name or time stamp, so that the same build gives the same bytes.
    [[ "$file.gz" -nt "$file" ]] || { gzip -9 -n -c "$file" >"$file.gz.tmp" && mv "$file.gz.tmp" "$file.gz"; }
  done
}
export -f compress

find "$site" -type f ! -name '*.br' ! -name '*.gz' ! -name '*.tmp' -print0 |
  xargs -0 -n 16 -P "$(nproc)" bash -c 'compress "$@"' _
