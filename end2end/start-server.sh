#!/bin/sh
# Starts the release patdesk binary for the browser tests on a fresh database: a throw-away
# SQLite file under .tmp/, or with a second argument (a PostgreSQL server's URL) a throw-away
# database `patdesk_e2e` on it, with its state under .tmp-pg/. The log goes to server.log there,
# so that the suite can check it for leaked secrets.
set -eu
cd "$(dirname "$0")"
port="$1"
postgres="${2:-}"
if [ -n "$postgres" ]; then
  state=.tmp-pg
  database="${postgres%/*}/patdesk_e2e"
  psql -q "$postgres" -c "DROP DATABASE IF EXISTS patdesk_e2e WITH (FORCE)" -c "CREATE DATABASE patdesk_e2e"
else
  state=.tmp
  database="sqlite://$(pwd)/.tmp/patdesk.db"
fi
rm -rf "$state" && mkdir -p "$state"
export DATABASE_URL="$database"
export PATDESK_ADDR="127.0.0.1:${port}"
export LEPTOS_SITE_ROOT="$(cd .. && pwd)/target/site"
export RUST_LOG="${RUST_LOG:-info}"
# Expiry reminders are looked for every second, so that a test sees them without waiting.
export PATDESK_NOTIFY_INTERVAL_SECONDS=1
# The suite signs up many accounts from 127.0.0.1 within a minute.
export PATDESK_SIGN_UPS_PER_MINUTE=100000
# Single sign-on through the OpenID provider the config starts (PATDESK_E2E_PORT + 1).
export PATDESK_PUBLIC_URL="http://127.0.0.1:${port}/"
export PATDESK_OIDC_ISSUER="${PATDESK_E2E_ISSUER:-http://127.0.0.1:$((port + 1))}"
export PATDESK_OIDC_CLIENT_ID=patdesk-e2e
export PATDESK_OIDC_CLIENT_SECRET=e2e-client-secret
export PATDESK_OIDC_NAME="Example SSO"
# Mail through the SMTP sink the config starts (PATDESK_E2E_SMTP_PORT, or PATDESK_E2E_PORT + 3):
# the password reset spec reads its mails from end2end/.tmp-mail.
export PATDESK_SMTP_URL="smtp://127.0.0.1:${PATDESK_E2E_SMTP_PORT:-$((port + 3))}"
export PATDESK_MAIL_FROM="patdesk <patdesk@patdesk.test>"
# Trust policies may name the CI issuer the config starts on loopback (PATDESK_E2E_PORT + 4).
export PATDESK_FEDERATION_ALLOW_HTTP_LOOPBACK=true
# webhooks.spec.ts's receiver (scripts/webhook-receiver.py) listens on loopback.
export PATDESK_WEBHOOK_ALLOW_PRIVATE=true
exec ../target/release/patdesk serve 2> "$state/server.log"
