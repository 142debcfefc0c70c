#!/usr/bin/env bash
# Installs what building patdesk needs, skipping whatever is already present at the right
# version. `--test` also installs what the test suite needs (Chromium, the end2end npm packages),
# `--bench` what `make bench` needs (wrk, sqlite3, brotli, curl).
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
# Must equal the `wasm-bindgen` crate pinned in Cargo.toml.
WASM_BINDGEN_VERSION=0.2.129

want_test=false
want_bench=false
[[ "${1:-}" == "--test" ]] && want_test=true
[[ "${1:-}" == "--bench" ]] && want_bench=true

say() { printf '==> %s\n' "$*" >&2; }

# Debian packages, installed with apt-get (through sudo when not root).
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  local sudo=()
  [[ "$(id -u)" != 0 ]] && sudo=(sudo)
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

# OpenSSL's headers: webauthn-rs (passkeys, docs/two-factor.md) links the system's OpenSSL.
# brotli: scripts/bundle-chunks.py compresses the page bundles it writes (docs/frontend.md).
ensure_apt pkg-config libssl-dev brotli

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# What downloads can run while the tools compile: the workspace's crates (`cargo fetch`).
# Started first, waited for after the tool builds (docs/first-run.md).
background=()
if [[ ! -f target/.fetched ]] || [[ Cargo.lock -nt target/.fetched ]]; then
  say "downloading the workspace's crates (in the background)"
  mkdir -p target
  { cargo fetch --locked -q && touch target/.fetched; } &
  background+=($!)
fi

# The tools are build tools: their own speed hardly matters, their build time does. A cheap
# profile (no optimization, no LTO, 16 codegen units, no debug info) takes cargo-leptos from
# about 14 minutes to about 5 on 2 cores, downloads included; the site it writes is the same
# (docs/first-run.md).
cheap_tool_build=(env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false
  CARGO_PROFILE_RELEASE_STRIP=true CARGO_PROFILE_RELEASE_INCREMENTAL=false
  cargo install --quiet --locked)

if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
  # no_downloads: cargo-leptos takes wasm-bindgen and wasm-opt from PATH (nothing else can be
  # downloaded here).
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (a build tool, once: about 5 minutes on 2 cores)"
  scripts/with-progress.sh "building cargo-leptos" "${cheap_tool_build[@]}" cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads
fi

if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != *"$WASM_BINDGEN_VERSION"* ]]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a build tool, once: about a minute)"
  scripts/with-progress.sh "building wasm-bindgen-cli" "${cheap_tool_build[@]}" wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# Binaryen from npm (pinned in tools/package.json): scripts/optimize-wasm.mjs uses its library
# for wasm-opt's -Oz. Debian's binaryen 108 breaks this app's wasm (its output's table cannot
# grow, so hydration fails).
if [[ ! -x tools/node_modules/.bin/wasm-opt ]] || [[ ! -d tools/node_modules/swagger-ui-dist ]] || [[ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]]; then
  say "installing wasm-opt and Swagger UI (from npm)"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

for pid in "${background[@]}"; do
  wait "$pid" 2>/dev/null || true
done
if [[ ! -f target/.fetched ]] || [[ Cargo.lock -nt target/.fetched ]]; then
  say "downloading the workspace's crates failed"
  exit 1
fi

# Swagger UI for the API explorer goes into the site's assets (public/ is copied to
# target/site by cargo-leptos), so the explorer loads nothing from a CDN.
vendor=public/vendor/swagger-ui
dist=tools/node_modules/swagger-ui-dist
for file in swagger-ui-bundle.js swagger-ui.css LICENSE; do
  if [[ ! -f "$vendor/$file" ]] || [[ "$dist/$file" -nt "$vendor/$file" ]]; then
    mkdir -p "$vendor"
    cp "$dist/$file" "$vendor/$file"
  fi
done

if $want_test; then
  # curl: scripts/scan-test.sh reports what the scanners find to the server under test.
  # nginx: the forward-auth tests run Debian's nginx with the README's configuration.
  # openssl: the single sign-on tests make a throw-away RSA key for their forged provider.
  ensure_apt chromium curl nginx openssl
  if [[ ! -d end2end/node_modules/@playwright/test ]] || [[ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
    say "installing the end2end npm packages"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
  # A real SMTP server for the notification tests (aiosmtpd from PyPI, in a virtualenv under
  # target/): the tests start it on a free loopback port and read the mails it stored.
  smtp_venv=target/smtp-venv
  if [[ ! -x "$smtp_venv/bin/aiosmtpd" ]]; then
    say "installing aiosmtpd (the tests' mail server)"
    python3 -m venv "$smtp_venv"
    "$smtp_venv/bin/pip" install -q aiosmtpd==1.4.6
  fi
  # A real OpenID provider for the single sign-on tests (oidc-provider-mock from PyPI; 0.3.4 is
  # the newest that installs on Debian bookworm's Python 3.11): started by the tests on a free
  # loopback port.
  oidc_venv=target/oidc-venv
  if [[ ! -x "$oidc_venv/bin/oidc-provider-mock" ]]; then
    say "installing oidc-provider-mock (the tests' OpenID provider)"
    python3 -m venv "$oidc_venv"
    "$oidc_venv/bin/pip" install -q oidc-provider-mock==0.3.4
  fi
  # A CI platform's identity-token issuer for the federation tests (scripts/ci-issuer.py): its
  # keys and signatures come from PyJWT with `cryptography`, a JOSE library written by others.
  issuer_venv=target/ci-issuer-venv
  if [[ ! -x "$issuer_venv/bin/python" ]] || ! "$issuer_venv/bin/python" -c 'import jwt, cryptography' 2>/dev/null; then
    say "installing PyJWT and cryptography (the tests' CI identity-token issuer)"
    python3 -m venv "$issuer_venv"
    "$issuer_venv/bin/pip" install -q 'PyJWT[crypto]==2.10.1'
  fi
  # A Structured Fields parser written by others (http-sf from PyPI) for the RateLimit fields.
  sf_venv=target/http-sf-venv
  if [[ ! -x "$sf_venv/bin/python" ]] || ! "$sf_venv/bin/python" -c 'import http_sf' 2>/dev/null; then
    say "installing http-sf (the tests' Structured Fields parser)"
    python3 -m venv "$sf_venv"
    "$sf_venv/bin/pip" install -q http-sf==1.5.0
  fi
  # The webhooks' receiver (scripts/webhook-receiver.py) verifies every delivery with
  # standardwebhooks, the Standard Webhooks specification's own library.
  hooks_venv=target/webhooks-venv
  if [[ ! -x "$hooks_venv/bin/python" ]] || ! "$hooks_venv/bin/python" -c 'import standardwebhooks.webhooks' 2>/dev/null; then
    say "installing standardwebhooks (the tests' webhook receiver)"
    python3 -m venv "$hooks_venv"
    "$hooks_venv/bin/pip" install -q standardwebhooks==1.3.0
  fi
fi

if $want_bench; then
  ensure_apt wrk sqlite3 brotli curl
fi
