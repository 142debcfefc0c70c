#!/usr/bin/env bash
# Rewrites the .gz copies that `cargo leptos build --precompress` leaves beside the built files
# at `gzip -9` (cargo-leptos writes them at its gzip library's default level, about 17 % larger
# for the wasm). The brotli copies are already at the highest quality (11). docs/frontend.md
set -euo pipefail
site=${1:?usage: gzip-best.sh SITE_DIR}
find "$site" -type f -name '*.gz' -print0 |
  while IFS= read -r -d '' gz; do
    # -n: no name or time stamp, so that the same build gives the same bytes.
    gzip -9 -n -c "${gz%.gz}" >"$gz.tmp" && mv "$gz.tmp" "$gz"
  done
