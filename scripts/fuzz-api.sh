#!/usr/bin/env bash
# Property-based fuzzing of the REST API with schemathesis (from PyPI, in a virtualenv under
# target/), driven by our own OpenAPI document against the real release binary on a fresh
# SQLite database, with a valid read/write token for the team the document's examples name.
# Fixed seed and a bounded number of cases, so that a run is reproducible and takes minutes.
# Fails on any 5xx, and on any response that breaks the document (status, content type,
# headers, body schema).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SCHEMATHESIS_VERSION=4.32.5
SEED=${FUZZ_SEED:-20261123}
EXAMPLES=${FUZZ_EXAMPLES:-100}
venv=target/fuzz-venv
work=target/fuzz
bin=./target/release/patdesk

if [[ "$("$venv/bin/st" --version 2>/dev/null || true)" != *"$SCHEMATHESIS_VERSION"* ]]; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

rm -rf "$work" && mkdir -p "$work"
export DATABASE_URL="sqlite://$PWD/$work/patdesk.db"
export PATDESK_ADDR=127.0.0.1:0
export LEPTOS_SITE_ROOT=target/site
# The fuzzer's own malformed credentials must not get it rate-limited.
export PATDESK_AUTH_FAILURES_PER_MINUTE=100000
"$bin" migrate
printf 'correct horse battery staple\n' | "$bin" user add fuzzer >/dev/null
"$bin" team add ops --owner fuzzer >/dev/null
token=$("$bin" token create --user fuzzer --team ops --description fuzzing --write --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

"$bin" serve 2>"$work/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
addr=$(listening_address "$work/server.log")

# Question 1 with answer 1, the ids the document's examples name, so that the example phase
# reaches real rows (the stateful phase makes its own through the document's links).
python3 - "$addr" "$token" <<'PY'
import json, sys, urllib.request
addr, token = sys.argv[1], sys.argv[2]
def post(path, body):
    request = urllib.request.Request(addr + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 201, response.status
post("/api/v1/teams/ops/questions", {"title": "Seeded for fuzzing", "body": "Question 1."})
post("/api/v1/teams/ops/questions/1/answers", {"body": "Answer 1."})
PY

# The team in every path is the fuzzer's own (a random slug only ever meets 403 wrong_team,
# which tests/api.rs covers), so that the cases reach validation and the database.
cat >"$work/schemathesis.toml" <<'TOML'
[parameters]
"path.team" = "ops"
TOML

# The token's own endpoints are left out: deleting or regenerating the fuzzer's token would
# turn every later case into a 401 (tests/api.rs covers them). The stateful phase follows the
# document's links: a created question's id into the operations that take one, and so on.
"$venv/bin/st" --config-file "$work/schemathesis.toml" run "$addr/api/openapi.json" \
  --url "$addr" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-path-regex '^/api/v1/tokens/self' \
  --phases examples,coverage,fuzzing,stateful \
  --seed "$SEED" \
  --max-examples "$EXAMPLES" \
  --generation-database none \
  --workers 1 \
  --no-color \
  --output-sanitize true \
  --report junit --report-dir "$work/report"

if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked during fuzzing:" >&2
  grep -A3 "panicked" "$work/server.log" >&2
  exit 1
fi
