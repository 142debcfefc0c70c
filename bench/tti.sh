#!/usr/bin/env bash
# Time to interactive of every page on a slow connection (bench/tti.cjs says how it measures),
# against the release server on a small seeded SQLite database: an instance admin who owns a
# team with 20 tokens (one with a rate limit and an allow-list, used from two addresses) and a
# service credential. Each page is loaded two ways: from patdesk itself (HTTP/1.1, where a
# browser opens at most 6 connections to a host, so every 6 files cost a round trip), and
# through Debian's nginx terminating TLS with HTTP/2 (one connection carrying every file at
# once), as a deployment behind a TLS proxy serves it. Appends one JSON line per page and way
# to $1 (run.sh's results) and prints them.
#
# Knobs: TTI_LOADS (loads per page, the median is kept; default 3); PATDESK_BIN and SITE_ROOT
# (the binary and site to measure; default ./target/release/patdesk and target/site);
# TTI_PAGES (names of the pages to load, comma-separated, e.g. `tokens,activity`; default all).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RESULTS=${1:-bench/.tmp/tti.ndjson}
BIN=${PATDESK_BIN:-./target/release/patdesk}
SITE_ROOT=${SITE_ROOT:-target/site}
WORK=bench/.tmp/tti
PASSWORD="correct horse battery staple"
rm -rf "$WORK" && mkdir -p "$WORK"
export DATABASE_URL="sqlite://$PWD/$WORK/patdesk.db"

"$BIN" migrate >/dev/null
printf '%s\n' "$PASSWORD" | "$BIN" user add tti --admin >/dev/null
printf '%s\n' "$PASSWORD" | "$BIN" user add ttimember >/dev/null
"$BIN" team add tti --owner tti >/dev/null
"$BIN" team member add tti ttimember --role writer >/dev/null
for i in $(seq 1 19); do
  write=()
  ((i % 3 == 0)) && write=(--write)
  "$BIN" token create --user tti --team tti --description "script $i" --expires-in-days 30 \
    "${write[@]}" >/dev/null 2>&1
done
value=$("$BIN" token create --user tti --team tti --description "deploy bot" --write \
  --rate-limit 600 --allow-ip 127.0.0.1 --allow-ip 10.1.0.0/16 --no-expiry --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
"$BIN" service create --team tti --name "metrics API" >/dev/null

PATDESK_ADDR=127.0.0.1:0 RUST_LOG=warn,server=info LEPTOS_SITE_ROOT=$SITE_ROOT \
  "$BIN" serve 2>"$WORK/server.log" &
SERVER_PID=$!
NGINX_PID=
stop() {
  [[ -n "$NGINX_PID" ]] && kill "$NGINX_PID" 2>/dev/null
  kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT
ADDR=$(listening_address "$WORK/server.log" 200)

# nginx in front: TLS with a throw-away certificate, HTTP/2, proxying to patdesk.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
TLS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
d=$PWD/$WORK
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
user root;
pid $d/nginx.pid;
error_log $d/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
  server {
    listen 127.0.0.1:$TLS_PORT ssl http2;
    ssl_certificate $d/cert.pem;
    ssl_certificate_key $d/key.pem;
    location / {
      proxy_pass http://${ADDR#http://};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
    }
  }
}
EOF
nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
for _ in $(seq 1 100); do
  curl -skf -o /dev/null "https://127.0.0.1:$TLS_PORT/healthz" && break
  sleep 0.1
done

# A few calls, so that the usage page has history and the team's tab has counts.
for _ in 1 2 3; do
  curl -sf -o /dev/null -H "Authorization: Bearer $value" "$ADDR/api/v1/me"
done
token_id=$(curl -sf -H "Authorization: Bearer $value" "$ADDR/api/v1/me" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"]["id"])')
cookie=$(curl -s -o /dev/null -D - -H "Origin: $ADDR" \
  --data-urlencode username=tti --data-urlencode "password=$PASSWORD" \
  "$ADDR/rpc/sign_in" | grep -io 'patdesk_session=[^;]*' | head -1)
[[ -n "$cookie" ]] || { echo "could not sign in tti" >&2; exit 1; }

# Every page (the second sign-in step needs a sign-in under way: not measured). Names as in
# the split manifest, so that the summary sets each beside its bytes.
pages=$(python3 - "$token_id" "${TTI_PAGES:-}" <<'EOF'
import json, sys
token, only = sys.argv[1], sys.argv[2]
pages = [("tokens", "/"), ("token_usage", f"/tokens/{token}"), ("teams", "/teams"),
         ("team", "/teams/tti"), ("team_tokens", "/teams/tti/tokens"),
         ("team_services", "/teams/tti/services"), ("activity", "/activity"),
         ("account", "/account"), ("notifications", "/notifications"),
         ("explorer", "/explorer"), ("admin", "/admin"), ("admin_users", "/admin/users"),
         ("admin_tokens", "/admin/tokens")]
out = [{"name": n, "path": p, "signedIn": True} for n, p in pages]
out += [{"name": "sign_in", "path": "/signin", "signedIn": False},
        {"name": "sign_up", "path": "/signup", "signedIn": False}]
if only:
    wanted = only.split(",")
    unknown = sorted(set(wanted) - {page["name"] for page in out})
    if unknown:
        sys.exit(f"TTI_PAGES: no page named {', '.join(unknown)}")
    out = [page for page in out if page["name"] in wanted]
print(json.dumps(out))
EOF
)
node bench/tti.cjs "$ADDR" "$cookie" "$pages" "${TTI_LOADS:-3}" direct | tee -a "$RESULTS"
node bench/tti.cjs "https://127.0.0.1:$TLS_PORT" "$cookie" "$pages" "${TTI_LOADS:-3}" tls-h2 |
  tee -a "$RESULTS"
