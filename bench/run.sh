#!/usr/bin/env bash
# `make bench`: the release server on a seeded database, driven by wrk over loopback.
#
# For each backend (SQLite, and PostgreSQL when scripts/postgres.sh can provide one) it seeds
# one team with 100,000 tokens and a few hundred questions, starts `patdesk serve`, and runs
# the scenarios of issue #7; it then runs the token check once more against a table of only
# 100 tokens. It prints requests per second, p50 and p99 latency and the ratio to the baseline
# per scenario, the server's peak RSS, the release wasm's size raw and brotli (the main
# module, and each page's first load), and each page's time to interactive on a throttled
# connection (bench/tti.sh), and writes the same figures to bench/results.json.
#
# Knobs: BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS (default 64),
# BENCH_TOKENS (default 100000), BENCH_BACKENDS ("sqlite postgres" by default).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
TOKENS=${BENCH_TOKENS:-100000}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
QUESTIONS=300
PAGE_TOKENS=100
PASSWORD="correct horse battery staple"
BIN=./target/release/patdesk
WORK=bench/.tmp
RESULTS=$WORK/results.ndjson

say() { printf '==> %s\n' "$*" >&2; }

mkdir -p "$WORK"
: > "$RESULTS"

# Seeds the database at $DATABASE_URL: users bench (owner of team bench, with one real token
# and $1 - 1 bulk tokens inserted in SQL) and pageuser (a writer in bench, with 100 tokens made
# through the CLI, for the token page). Prints the real token's value.
seed() {
  local bulk=$(($1 - 1))
  "$BIN" migrate >/dev/null
  printf '%s\n' "$PASSWORD" | "$BIN" user add bench >/dev/null
  printf '%s\n' "$PASSWORD" | "$BIN" user add pageuser >/dev/null
  "$BIN" team add bench --owner bench >/dev/null
  "$BIN" team member add bench pageuser --role writer >/dev/null
  local value
  value=$("$BIN" token create --user bench --team bench --description load --write --no-expiry --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  # The bulk rows copy the real row's timestamps, so that they are stored exactly as the
  # application stores them; their digests are random (nobody holds their secrets). Their
  # descriptions are ASCII, so each one's description key (docs/tokens.md) is itself.
  local sql
  case "$DATABASE_URL" in
    sqlite://*)
      sql="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $bulk)
        INSERT INTO tokens (id, user_id, team_id, description, description_key, secret_digest,
                            hint, write, kind, expires_at, created_at)
        SELECT 'tok_b' || printf('%015d', i), t.user_id, t.team_id, 'bulk ' || i, 'bulk ' || i,
               lower(hex(randomblob(32))), 'bulk', 0, 'personal', t.expires_at, t.created_at
        FROM n, (SELECT * FROM tokens LIMIT 1) AS t;"
      ((bulk > 0)) && sqlite3 "${DATABASE_URL#sqlite://}" "$sql" >/dev/null
      ;;
    postgres://*)
      sql="INSERT INTO tokens (id, user_id, team_id, description, description_key, secret_digest,
                               hint, write, kind, expires_at, created_at)
        SELECT 'tok_b' || lpad(i::text, 15, '0'), t.user_id, t.team_id, 'bulk ' || i, 'bulk ' || i,
               encode(sha256((random()::text || i)::bytea), 'hex'), 'bulk', false, 'personal',
               t.expires_at, t.created_at
        FROM generate_series(1, $bulk) AS i, (SELECT * FROM tokens LIMIT 1) AS t;
        ANALYZE tokens;"
      ((bulk > 0)) && psql -q "$DATABASE_URL" -c "$sql" >/dev/null
      ;;
  esac
  for i in $(seq 1 "$PAGE_TOKENS"); do
    "$BIN" token create --user pageuser --team bench --description "page token $i" \
      --expires-in-days 30 >/dev/null 2>&1
  done
  # A token with the highest rate limit there is, for "me" through the limit's check.
  # A fine-grained token (docs/permissions.md), and the service whose scope it holds: `me` and
  # `verify` with it are the fine-grained scenarios.
  "$BIN" service create --team bench --name Deploy --slug deploy --scope run >/dev/null
  "$BIN" token create --user bench --team bench --description fine --no-expiry \
    --permission questions:read --permission deploy:run --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' >"$WORK/fine-token"
  "$BIN" token create --user bench --team bench --description limited --rate-limit 100000 \
    --no-expiry --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' \
    >"$WORK/limited-token"
  seed_history
  echo "$value"
}

# 90 days of hourly history (three outcomes an hour) and 20 addresses for "page token 1", whose
# page (/tokens/<id>) is then the usage page's scenario (docs/usage.md). Hours are written as
# the application writes them (RFC 3339, UTC, whole hours).
seed_history() {
  local sql
  case "$DATABASE_URL" in
    sqlite://*)
      sql="WITH RECURSIVE h(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM h WHERE i < 2159)
        INSERT INTO token_usage_hours (token_id, hour, surface, outcome, calls)
        SELECT t.id, strftime('%Y-%m-%dT%H:00:00+00:00', 'now', '-' || i || ' hours'), 'api',
               o.outcome, (i % 7) + o.n
        FROM h, (SELECT id FROM tokens WHERE description = 'page token 1') AS t,
             (SELECT 'accepted' AS outcome, 40 AS n UNION ALL SELECT 'read_only_token', 1
              UNION ALL SELECT 'ip_not_allowed', 0) AS o;
        WITH RECURSIVE a(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM a WHERE i < 20)
        INSERT INTO token_addresses (token_id, ip, first_seen, last_seen, calls, refused)
        SELECT t.id, '10.0.0.' || i, strftime('%Y-%m-%dT%H:00:00+00:00', 'now', '-80 days'),
               strftime('%Y-%m-%dT%H:00:00+00:00', 'now', '-' || i || ' hours'), 1000, 10
        FROM a, (SELECT id FROM tokens WHERE description = 'page token 1') AS t;"
      sqlite3 "${DATABASE_URL#sqlite://}" "$sql" >/dev/null
      ;;
    postgres://*)
      sql="INSERT INTO token_usage_hours (token_id, hour, surface, outcome, calls)
        SELECT t.id, date_trunc('hour', now()) - make_interval(hours => i), 'api', o.outcome,
               (i % 7) + o.n
        FROM generate_series(0, 2159) AS i,
             (SELECT id FROM tokens WHERE description = 'page token 1') AS t,
             (VALUES ('accepted', 40), ('read_only_token', 1), ('ip_not_allowed', 0)) AS o(outcome, n);
        INSERT INTO token_addresses (token_id, ip, first_seen, last_seen, calls, refused)
        SELECT t.id, '10.0.0.' || i, now() - interval '80 days', now() - make_interval(hours => i),
               1000, 10
        FROM generate_series(1, 20) AS i, (SELECT id FROM tokens WHERE description = 'page token 1') AS t;"
      psql -q "$DATABASE_URL" -c "$sql" >/dev/null
      ;;
  esac
}

# Starts the server on a free port; sets SERVER_PID and ADDR.
start_server() {
  local log=$1
  # Scenarios 4 and 5 are hundreds of thousands of failed authentications from one address:
  # with the default throttle they would measure the 429 path instead.
  PATDESK_ADDR=127.0.0.1:0 PATDESK_AUTH_FAILURES_PER_MINUTE=10000000 RUST_LOG=warn,server=info \
    LEPTOS_SITE_ROOT=target/site "$BIN" serve 2>"$log" &
  SERVER_PID=$!
  ADDR=$(listening_address "$log" 200)
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

peak_rss_kib() {
  awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status"
}

# wrk one scenario for $DURATION seconds (or $RUN_SECONDS); appends a JSON line to $RESULTS.
run() {
  local backend=$1 tokens=$2 name=$3 url=$4
  shift 4
  local args=()
  for header in "$@"; do args+=(-H "$header"); done
  local out connections=${RUN_CONNECTIONS:-$CONNECTIONS}
  out=$(wrk -t"$((connections < 2 ? connections : 2))" -c"$connections" \
    -d"${RUN_SECONDS:-$DURATION}s" --latency "${args[@]}" "$url")
  python3 - "$backend" "$tokens" "$name" "$out" >>"$RESULTS" <<'EOF'
import json, re, sys
backend, tokens, name, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
errors = re.search(r"Socket errors:.*", out)
print(json.dumps({"backend": backend, "tokens": tokens, "scenario": name, "rps": rps,
                  "p50_ms": p50, "p99_ms": p99,
                  "non_2xx": int(non2xx.group(1)) if non2xx else 0,
                  "socket_errors": errors.group(0) if errors else None}))
EOF
  tail -1 "$RESULTS" >&2
}

bench_backend() {
  local backend=$1 url_base=$2
  for tokens in "$TOKENS" 100; do
    case "$backend" in
      sqlite)
        rm -rf "$WORK/sqlite-$tokens" && mkdir -p "$WORK/sqlite-$tokens"
        export DATABASE_URL="sqlite://$PWD/$WORK/sqlite-$tokens/patdesk.db"
        ;;
      postgres)
        local name="patdesk_bench_$tokens"
        psql -q "$url_base" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
        export DATABASE_URL="${url_base%/*}/$name"
        ;;
    esac
    say "$backend: seeding $tokens tokens"
    local value
    value=$(seed "$tokens")
    start_server "$WORK/server-$backend-$tokens.log"
    local bearer="Authorization: Bearer $value"
    if [[ "$tokens" == 100 ]]; then
      # The same token check against a small table: what 100,000 rows cost.
      run "$backend" "$tokens" me "$ADDR/api/v1/me" "$bearer"
      stop_server
      continue
    fi
    for i in $(seq 1 "$QUESTIONS"); do
      curl -sf -o /dev/null -H "$bearer" -H 'content-type: application/json' \
        -d "{\"title\": \"Question $i\", \"body\": \"Body of question $i.\"}" \
        "$ADDR/api/v1/teams/bench/questions"
    done
    local cookie
    cookie=$(curl -s -o /dev/null -D - -H "Origin: $ADDR" \
      --data-urlencode username=pageuser --data-urlencode "password=$PASSWORD" \
      "$ADDR/rpc/sign_in" | grep -io 'patdesk_session=[^;]*' | head -1)
    [[ -n "$cookie" ]] || { echo "could not sign in pageuser" >&2; exit 1; }
    local bad_checksum="${value:0:36}000000"
    local unknown
    unknown=$(python3 -c '
import secrets, string, zlib
alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
body = "pdk_" + "".join(secrets.choice(alphabet) for _ in range(32))
n, out = zlib.crc32(body.encode()), ""
for _ in range(6):
    n, r = divmod(n, 62)
    out = alphabet[r] + out
print(body + out)')
    say "$backend: warming up"
    wrk -t2 -c"$CONNECTIONS" -d2s "$ADDR/healthz" >/dev/null
    # The baseline runs again after every scenario: each scenario is compared with the mean of
    # the baselines just before and just after it, because this machine's speed drifts between
    # minutes by more than the differences being measured.
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    run "$backend" "$tokens" me "$ADDR/api/v1/me" "$bearer"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    # The same call with a token limited to 100,000 calls a minute (docs/usage.md), the most
    # there is: a lease taken every 5,000 calls. At this machine's rate (about 70,000 calls a
    # second) the minute's budget lasts under 2 s, so the scenario runs 1 s from the start of a
    # minute (the bench may wait for one: it is no test) and measures the accepted path; any
    # 429 is counted as non-2xx.
    python3 -c 'import time; time.sleep(60.05 - time.time() % 60)'
    RUN_SECONDS=1 run "$backend" "$tokens" me_limited "$ADDR/api/v1/me" "Authorization: Bearer $(cat "$WORK/limited-token")"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    # Forward-auth (docs/forward-auth.md): what a reverse proxy asks before every request.
    run "$backend" "$tokens" verify "$ADDR/auth/verify?team=bench" "$bearer"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    # The same two with a fine-grained token: its permissions are a lookup in the cached check.
    local fine="Authorization: Bearer $(cat "$WORK/fine-token")"
    run "$backend" "$tokens" me_fine "$ADDR/api/v1/me" "$fine"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    run "$backend" "$tokens" verify_scope "$ADDR/auth/verify?team=bench&scope=deploy:run" "$fine"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    run "$backend" "$tokens" questions "$ADDR/api/v1/teams/bench/questions?per_page=20" "$bearer"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    run "$backend" "$tokens" malformed "$ADDR/api/v1/me" "Authorization: Bearer $bad_checksum"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    run "$backend" "$tokens" unknown "$ADDR/api/v1/me" "Authorization: Bearer $unknown"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    run "$backend" "$tokens" token_page "$ADDR/" "Cookie: $cookie"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    # One token's page with 90 days of history, its owner having 100 tokens.
    local page_token
    page_token=$("$BIN" token list --user pageuser --json | python3 -c '
import json, sys
print(next(t["id"] for t in json.load(sys.stdin) if t["description"] == "page token 1"))')
    run "$backend" "$tokens" usage_page "$ADDR/tokens/$page_token" "Cookie: $cookie"
    run "$backend" "$tokens" baseline "$ADDR/healthz"
    # The same page one request at a time: its p50 is the time to render it (the target), where
    # under 64 connections it is mostly the queue.
    RUN_CONNECTIONS=1 run "$backend" "$tokens" usage_page_alone "$ADDR/tokens/$page_token" "Cookie: $cookie"
    echo "{\"backend\": \"$backend\", \"peak_rss_kib\": $(peak_rss_kib)}" >>"$RESULTS"
    stop_server
  done
}

for backend in $BACKENDS; do
  case "$backend" in
    sqlite) bench_backend sqlite "" ;;
    postgres)
      if url=$(./scripts/postgres.sh 2>/dev/null); then
        bench_backend postgres "$url"
      else
        say "PostgreSQL is not available: skipping it"
      fi
      ;;
  esac
done

# Time to interactive of every page on a slow connection (bench/tti.sh, docs/frontend.md).
if [[ -d end2end/node_modules/@playwright/test ]] && command -v "${CHROMIUM_PATH:-chromium}" >/dev/null; then
  say "time to interactive, throttled (3 loads of every page)"
  ./bench/tti.sh "$RESULTS"
else
  say "Chromium or the end2end packages are missing (make test-tools): no time to interactive"
fi

# The wasm as the browser gets it (docs/frontend.md): the main module, and for each page the
# main module plus what that page loads first (the split manifest lists it: its bundle, written
# by scripts/bundle-chunks.py), raw and at brotli -q 11 (the same bytes as the .br files the
# server sends).
pkg=target/site/pkg
wasm_sizes=$WORK/wasm-sizes.tsv
: > "$wasm_sizes"
for file in "$pkg"/*.wasm; do
  printf '%s\t%s\t%s\n' "$(basename "$file" .wasm)" "$(stat -c %s "$file")" \
    "$(brotli -c -q 11 "$file" | wc -c)" >>"$wasm_sizes"
done
python3 - "$RESULTS" "$wasm_sizes" "$pkg" "$DURATION" "$CONNECTIONS" <<'EOF'
import json, sys
import glob, os, re
path, sizes_path, pkg, duration, connections = sys.argv[1:]
lines = [json.loads(l) for l in open(path) if l.strip()]
sizes = {}
for row in open(sizes_path):
    name, raw, br = row.split("\t")
    sizes[name] = (int(raw), int(br))
main = next(name for name in sizes if name.startswith("patdesk."))
module_sizes = {name: size for name, size in sizes.items() if not name.startswith("bundle_")}
manifest = json.load(open(glob.glob(os.path.join(pkg, "__wasm_split_manifest.*.json"))[0]))
pages = {}
for split, modules in sorted(manifest.items()):
    # "__tokens_route_view_9081914224610678235" -> "tokens"
    page = re.sub(r"_route_view_\d+$", "", split.strip("_"))
    files = [main] + modules
    pages[page] = {"files": len(files),
                   "raw_bytes": sum(sizes[f][0] for f in files),
                   "brotli_bytes": sum(sizes[f][1] for f in files)}
results = {"duration_s": int(duration), "connections": int(connections), "backends": {},
           "wasm": {"main": {"file": main + ".wasm", "raw_bytes": sizes[main][0], "brotli_bytes": sizes[main][1]},
                    "first_load_by_page": pages,
                    # The modules (what navigations fetch), not the bundles that repeat them.
                    "all_files": {"files": len(module_sizes), "raw_bytes": sum(r for r, _ in module_sizes.values()),
                                  "brotli_bytes": sum(b for _, b in module_sizes.values())}}}
runs = {}  # backend -> the scenario runs in the order they ran, baselines included
tti = {}  # page -> {"direct": …, "tls-h2": …}
for l in lines:
    if "interactive_ms" in l:
        tti.setdefault(l["page"], {})[l["via"]] = l
lines = [l for l in lines if "interactive_ms" not in l]
for line in lines:
    b = results["backends"].setdefault(line["backend"], {"scenarios": {}})
    if "peak_rss_kib" in line:
        b["peak_rss_mib"] = round(line["peak_rss_kib"] / 1024, 1)
    elif line["tokens"] == 100:
        b["me_with_100_tokens"] = line
    else:
        runs.setdefault(line["backend"], []).append(line)
for backend, order in runs.items():
    b = results["backends"][backend]
    baselines = [r["rps"] for r in order if r["scenario"] == "baseline"]
    first = next(r for r in order if r["scenario"] == "baseline")
    b["scenarios"]["baseline"] = dict(first, runs_rps=baselines, rps=sorted(baselines)[len(baselines) // 2])
    for i, r in enumerate(order):
        if r["scenario"] == "baseline":
            continue
        near = [order[j]["rps"] for j in (i - 1, i + 1)
                if 0 <= j < len(order) and order[j]["scenario"] == "baseline"]
        r["baseline_rps"] = round(sum(near) / len(near), 2) if near else b["scenarios"]["baseline"]["rps"]
        b["scenarios"][r["scenario"]] = r
targets = {"me": {"sqlite": 0.70, "postgres": 0.70},
           "me_limited": {"sqlite": 0.60, "postgres": 0.60},
           "verify": {"sqlite": 0.70, "postgres": 0.70},
           # Within 5 % of the whole-team token's (docs/permissions.md): the same targets.
           "me_fine": {"sqlite": 0.70, "postgres": 0.70},
           "verify_scope": {"sqlite": 0.70, "postgres": 0.70},
           "malformed": {"sqlite": 0.90, "postgres": 0.90},
           "questions": {"sqlite": 0.25, "postgres": 0.15}}
print(f"\npatdesk benchmark: wrk, {connections} connections, {duration} s per scenario\n")
for backend, b in results["backends"].items():
    print(f"{backend}  (peak RSS {b.get('peak_rss_mib', '?')} MiB; baseline runs: "
          + ", ".join(f"{r:.0f}" for r in b["scenarios"]["baseline"]["runs_rps"]) + " req/s)")
    print(f"  {'scenario':<12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs base':>9}  target")
    for name, s in b["scenarios"].items():
        # Against the baselines run just before and after it (the median of all for itself).
        s["ratio_to_baseline"] = round(s["rps"] / s.get("baseline_rps", s["rps"]), 3)
        target = targets.get(name, {}).get(backend)
        verdict = ""
        if target is not None:
            ok = s["ratio_to_baseline"] >= target and s["p99_ms"] < 10
            verdict = f"≥{target:.0%} & p99<10ms: {'met' if ok else 'MISSED'}"
        print(f"  {name:<12}{s['rps']:>10.0f}{s['p50_ms']:>9.2f}{s['p99_ms']:>9.2f}{s['ratio_to_baseline']:>9.1%}  {verdict}")
    page = b["scenarios"].get("usage_page_alone")
    if page:
        print(f"  usage page (90 days of history, 100 tokens), one request at a time: p50 "
              f"{page['p50_ms']:.1f} ms, p99 {page['p99_ms']:.1f} ms "
              f"(target < 50 ms: {'met' if page['p50_ms'] < 50 else 'MISSED'})")
    limited = b["scenarios"].get("me_limited")
    if limited and limited.get("non_2xx"):
        print(f"  me_limited: {limited['non_2xx']:,} of its calls were over the limit (429)")
    # A fine-grained token against the whole-team one (docs/permissions.md): within 5 %.
    for fine_name, whole_name in (("me_fine", "me"), ("verify_scope", "verify")):
        fine, whole = b["scenarios"].get(fine_name), b["scenarios"].get(whole_name)
        if fine and whole:
            ratio = fine["rps"] / whole["rps"] - 1
            print(f"  {fine_name} vs {whole_name}: {ratio:+.1%} "
                  f"(target within 5%: {'met' if ratio >= -0.05 else 'MISSED'})")
    small = b.get("me_with_100_tokens")
    if small:
        big = b["scenarios"]["me"]["rps"]
        cost = 1 - big / small["rps"]
        b["cost_of_100k_tokens"] = round(cost, 3)
        print(f"  me with 100 tokens: {small['rps']:.0f} req/s; 100,000 tokens cost {cost:.1%} "
              f"(target ≤10%: {'met' if cost <= 0.10 else 'MISSED'})")
    print()
w = results["wasm"]
main_ok = w["main"]["brotli_bytes"] < 150_000
print(f"wasm main module: {w['main']['raw_bytes']:,} B raw, {w['main']['brotli_bytes']:,} B brotli "
      f"(target < 150 KB: {'met' if main_ok else 'MISSED'})")
# Time to interactive, median of 3 throttled loads: from patdesk itself (HTTP/1.1) and through
# a TLS proxy with HTTP/2 (bench/tti.sh).
print(f"  {'first load of':<14}{'files':>6}{'raw B':>11}{'brotli B':>11}{'content':>9}"
      f"{'interactive':>13}{'(TLS, h2)':>11}  targets: < 200 KB brotli; interactive < 2.0 s (token page < 2.5 s)")
def tti_target(page):
    return 2500 if page == "tokens" else 2000
def timing(page):
    t = tti.get(page, {})
    direct, h2 = t.get("direct"), t.get("tls-h2")
    cells = (f"{direct['content_ms']:>6} ms" if direct else f"{'':>9}") + \
            (f"{direct['interactive_ms']:>10} ms" if direct else f"{'':>13}") + \
            (f"{h2['interactive_ms']:>8} ms" if h2 else f"{'':>11}")
    verdicts = []
    for via, r in (("direct", direct), ("h2", h2)):
        if r:
            verdicts.append(f"{via} time " + ("met" if r["interactive_ms"] < tti_target(page) else "MISSED"))
            if r["console_errors"]:
                verdicts.append(f"console errors: {r['console_errors']}")
    return cells, verdicts
for page, p in w["first_load_by_page"].items():
    cells, verdicts = timing(page)
    verdicts.insert(0, "bytes " + ("met" if p["brotli_bytes"] < 200_000 else "MISSED"))
    p["time_to_interactive"] = tti.get(page, {})
    print(f"  {page:<14}{p['files']:>6}{p['raw_bytes']:>11,}{p['brotli_bytes']:>11,}{cells}  {', '.join(verdicts)}")
for page in tti:
    if page not in w["first_load_by_page"]:
        cells, verdicts = timing(page)
        print(f"  {page:<14}{'':>28}{cells}  {', '.join(verdicts)} (the same route as another)")
results["time_to_interactive"] = tti
a = w["all_files"]
print(f"  all {a['files']} files together: {a['raw_bytes']:,} B raw, {a['brotli_bytes']:,} B brotli")
json.dump(results, open("bench/results.json", "w"), indent=2)
print("\nwritten to bench/results.json")
EOF
