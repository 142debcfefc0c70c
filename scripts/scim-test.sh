#!/usr/bin/env bash
# SCIM checked by a compliance checker written by others: scim2-tester (PyPI, python-scim),
# in a virtualenv under target/, against a running patdesk server on a fresh SQLite database
# with a SCIM credential made by the CLI. Every check must end in SUCCESS (or SKIPPED, for what
# patdesk does not offer: see docs/scim.md); the server's log must not hold the credential.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
root=$PWD
bin=$root/target/release/patdesk
venv=$root/target/scim-venv

[[ -x "$bin" ]] || { echo "scim-test: build first (make build)" >&2; exit 1; }
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import scim2_tester' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'scim2-tester[httpx2]==0.5.2'
fi

work=$(mktemp -d)
server=
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export DATABASE_URL="sqlite://$work/patdesk.db" PATDESK_ADDR=127.0.0.1:0
export LEPTOS_OUTPUT_NAME=patdesk LEPTOS_SITE_ROOT=$root/target/site LEPTOS_SITE_PKG_DIR=pkg

"$bin" migrate >/dev/null
# The instance's admin, made first: accounts the directory provisions are never admins.
printf 'correct horse battery staple\n' | "$bin" user add operator-admin >/dev/null
secret=$("$bin" scim credential create --name scim2-tester --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
"$bin" serve 2>"$work/server.log" &
server=$!
addr=$(listening_address "$work/server.log")

"$venv/bin/python" scripts/scim-check.py "$addr/scim/v2" "$secret"
if grep -q "$secret" "$work/server.log"; then
  echo "scim-test: the SCIM credential is in the server's log" >&2
  exit 1
fi
echo "scim-test: passed"
