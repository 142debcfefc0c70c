#!/usr/bin/env bash
# The shipped secret-scanning rules (contrib/secret-scanning), run by real scanners over a
# temporary git repository that holds a real token from a running patdesk server, end to end:
# secretlint (npm) and detect-secrets (PyPI) find it; `patdesk token check` keeps it and drops a
# look-alike with a broken checksum; the value is reported to POST /api/v1/credentials/revoke;
# the server then refuses it. Exits non-zero on the first step that does not hold.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
root=$PWD
bin=$root/target/release/patdesk
venv=$root/target/scan-venv
secretlint=$root/end2end/node_modules/.bin/secretlint

[[ -x "$bin" ]] || { echo "scan-test: build first (make build)" >&2; exit 1; }
[[ -x "$secretlint" ]] || { echo "scan-test: end2end npm packages missing (scripts/ensure-tools.sh --test)" >&2; exit 1; }
if [[ ! -x "$venv/bin/detect-secrets" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q detect-secrets==1.5.0
fi

work=$(mktemp -d)
server=
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export DATABASE_URL="sqlite://$work/patdesk.db" PATDESK_ADDR=127.0.0.1:0
export LEPTOS_OUTPUT_NAME=patdesk LEPTOS_SITE_ROOT=$root/target/site LEPTOS_SITE_PKG_DIR=pkg

"$bin" migrate >/dev/null
printf 'correct horse battery staple\n' | "$bin" user add scanner-owner >/dev/null
"$bin" team add scan --owner scanner-owner >/dev/null
token=$("$bin" token create --user scanner-owner --team scan --description "committed by mistake" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
scim=$("$bin" scim credential create --name "scan test" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
"$bin" serve 2>"$work/server.log" &
server=$!
addr=$(listening_address "$work/server.log")
me() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$addr/api/v1/me"; }
[[ $(me "$token") == 200 ]] || { echo "scan-test: the new token does not work" >&2; exit 1; }

# A repository with the token in a source file, and a look-alike (last character changed, so
# the checksum fails) in another.
lookalike="${token%?}$([[ "${token: -1}" == A ]] && echo B || echo A)"
repo=$work/repo
git init -q "$repo"
printf 'API_URL = "%s"\nAPI_TOKEN = "%s"\nSCIM_TOKEN = "%s"\n' "$addr" "$token" "$scim" >"$repo/deploy.py"
printf '# an example in the docs\nEXAMPLE = "%s"\n' "$lookalike" >"$repo/example.py"
git -C "$repo" add . && git -C "$repo" -c user.name=ci -c user.email=ci@example.test commit -qm "add deploy script"

# secretlint with the shipped rule: both files are flagged (exit 1), and the report names them.
set +e
(cd "$repo" && "$secretlint" --secretlintrc "$root/contrib/secret-scanning/secretlintrc.json" \
  --format json --no-maskSecrets "**/*") >"$work/secretlint.json"
status=$?
set -e
[[ $status == 1 ]] || { echo "scan-test: secretlint exited $status, expected findings" >&2; cat "$work/secretlint.json" >&2; exit 1; }
found=$(python3 - "$work/secretlint.json" <<'PY'
import json, re, sys
pattern = re.compile(r"\bpdk_[0-9A-Za-z]{38}\b")
values = set()
for result in json.load(open(sys.argv[1])):
    lines = open(result["filePath"]).read().splitlines()
    for message in result["messages"]:
        line = lines[message["loc"]["start"]["line"] - 1]
        values.update(pattern.findall(line))
print("\n".join(sorted(values)))
PY
)
grep -qx "$token" <<<"$found" || { echo "scan-test: secretlint did not find the token" >&2; exit 1; }
grep -qx "$lookalike" <<<"$found" || { echo "scan-test: secretlint did not find the look-alike" >&2; exit 1; }
echo "secretlint: found $(wc -l <<<"$found") candidates"
python3 - "$work/secretlint.json" "$scim" <<'PY'
import json, sys
lines = []
for result in json.load(open(sys.argv[1])):
    text = open(result["filePath"]).read().splitlines()
    lines += [text[m["loc"]["start"]["line"] - 1] for m in result["messages"]]
assert any(sys.argv[2] in line for line in lines), "secretlint did not find the SCIM credential"
print("secretlint: found the SCIM credential")
PY

# detect-secrets with the shipped plugin finds the token's file too.
(cd "$repo" && "$venv/bin/detect-secrets" scan --plugin "$root/contrib/secret-scanning/detect_secrets_patdesk.py" deploy.py) >"$work/detect.json"
python3 - "$work/detect.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
kinds = {finding["type"] for finding in results.get("deploy.py", [])}
assert "patdesk personal access token" in kinds, f"detect-secrets found {kinds}"
assert "patdesk SCIM credential" in kinds, f"detect-secrets found {kinds}"
print("detect-secrets: found the token and the SCIM credential in deploy.py")
PY

# The pipeline: keep what `patdesk token check` calls valid, report it, and the token stops.
report=()
while read -r value; do
  if "$bin" token check "$value" >/dev/null 2>&1; then report+=("$value"); fi
done <<<"$found"
[[ ${#report[@]} == 1 && ${report[0]} == "$token" ]] || { echo "scan-test: token check kept ${#report[@]} values" >&2; exit 1; }
if "$bin" token check "$lookalike" >"$work/check.txt" 2>&1; then
  echo "scan-test: the look-alike passed token check" >&2; exit 1
fi
grep -q "^patdesk: invalid: the token's checksum does not match" "$work/check.txt" ||
  { echo "scan-test: token check said: $(cat "$work/check.txt")" >&2; exit 1; }
body=$(python3 -c 'import json, sys; print(json.dumps({"credentials": sys.argv[1:], "source": "scan-test: deploy.py"}))' "${report[@]}")
answer=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' -d "$body" "$addr/api/v1/credentials/revoke")
[[ $answer == *" 202" ]] || { echo "scan-test: report answered $answer" >&2; exit 1; }
for _ in $(seq 1 100); do
  [[ $(me "$token") == 401 ]] && { echo "reported token refused: ok"; exit 0; }
  sleep 0.05
done
echo "scan-test: the reported token still works" >&2
exit 1
