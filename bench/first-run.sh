#!/usr/bin/env bash
# A newcomer's first `make run`, timed (docs/first-run.md): a clean clone of HEAD and an empty
# CARGO_HOME (no crates downloaded, no cargo-leptos, no wasm-bindgen-cli), no node_modules and
# no target/, and a PATH without ~/.cargo/bin (only the rustup toolchain's own commands are
# kept). Prints every line `make run` prints with the seconds since the start, then the total
# to "listening", and stops the server. What it cannot take away: the rustup toolchain and its
# wasm32 target, and the Debian packages already installed (a new machine installs
# pkg-config, libssl-dev and brotli in under a minute).
#
# Knobs: FIRST_RUN_DIR (where the clone and CARGO_HOME go; default a new temporary folder,
# removed afterwards unless FIRST_RUN_KEEP=1). It takes the machine's two cores for ~15 min.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${FIRST_RUN_DIR:-$(mktemp -d /tmp/patdesk-first-run.XXXXXX)}
[[ "${FIRST_RUN_KEEP:-}" == 1 ]] || trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/rustbin" "$dir/cargo"
rustup_bin=$(dirname "$(command -v rustup)")
for tool in cargo rustc rustup rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
  ln -sf "$rustup_bin/$tool" "$dir/rustbin/$tool"
done
git clone -q "$repo" "$dir/patdesk"

path=$dir/cargo/bin:$dir/rustbin
for entry in $(tr ':' ' ' <<<"$PATH"); do
  [[ "$entry" == "$rustup_bin" || "$entry" == */node_modules/.bin ]] || path+=":$entry"
done

log=$dir/make-run.log
start=$SECONDS
(
  cd "$dir/patdesk"
  # Port 0: the server picks a free port and logs it.
  CARGO_HOME=$dir/cargo RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} PATH=$path PATDESK_ADDR=127.0.0.1:0 \
    make run 2>&1 | while IFS= read -r line; do printf '%5ds  %s\n' $((SECONDS - start)) "$line"; done
) | tee "$log" &
pid=$!
until grep -q 'listening on http://' "$log" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "make run ended before the server listened" >&2
    exit 1
  fi
  sleep 2
done
total=$((SECONDS - start))
# The server `make run` started: the patdesk process working in the clone.
for server in $(pgrep -f 'target/release/patdesk serve' || true); do
  [[ "$(readlink "/proc/$server/cwd")" == "$dir/patdesk" ]] && kill "$server"
done
wait "$pid" 2>/dev/null || true
printf 'first make run: %d min %02d s to "listening"\n' $((total / 60)) $((total % 60))
