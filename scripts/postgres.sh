#!/usr/bin/env bash
# Installs and starts Debian's PostgreSQL for the test suite, with a role that may create
# databases (tests make throw-away ones), and prints its URL. Idempotent.
set -euo pipefail

# Only the URL goes to stdout: callers capture it with $(...). Everything the tools print
# (pg_ctlcluster says "Removed stale pid file." after an unclean stop) goes to stderr.
exec 3>&1 1>&2

ROLE=patdesk
PASSWORD=patdesk
DATABASE=patdesk_test

sudo=()
[[ "$(id -u)" != 0 ]] && sudo=(sudo)
if ! dpkg -s postgresql >/dev/null 2>&1; then
  echo "==> installing PostgreSQL" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null
fi
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
if [[ -z "$cluster" ]]; then
  echo "no PostgreSQL cluster found" >&2
  exit 1
fi
if ! pg_lsclusters --no-header | awk 'NR==1 {print $4}' | grep -q online; then
  # shellcheck disable=SC2086
  "${sudo[@]}" pg_ctlcluster $cluster start
fi
as_postgres() { "${sudo[@]}" su postgres -c "$1"; }
for _ in $(seq 1 30); do
  as_postgres "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$ROLE'\"" | grep -q 1 ||
  as_postgres "psql -qc \"CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'\""
as_postgres "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$DATABASE'\"" | grep -q 1 ||
  as_postgres "createdb -O $ROLE $DATABASE"
echo "postgres://$ROLE:$PASSWORD@127.0.0.1:5432/$DATABASE" >&3
