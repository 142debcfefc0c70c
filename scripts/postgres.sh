#!/usr/bin/env bash
# Installs and starts Debian's PostgreSQL for the test suite, with a role that may create
# databases (tests make throw-away ones), and prints its URL. Idempotent.
set -euo pipefail

# Only the URL goes to stdout: callers capture it with $(...). Everything the tools print
# (pg_ctlcluster says "Removed stale pid file." after an unclean stop) goes to stderr.
exec 3>&1 1>&2

# Runs a command without the caller's stdout (fd 3). The PostgreSQL server that
# pg_ctlcluster starts inherits every open descriptor; if it kept the $(...) pipe open,
# the caller would wait for the URL's end of file for as long as the server runs.
without_stdout() { "$@" 3>&-; }

ROLE=patdesk
PASSWORD=patdesk
DATABASE=patdesk_test

sudo=()
[[ "$(id -u)" != 0 ]] && sudo=(sudo)
if ! dpkg -s postgresql >/dev/null 2>&1; then
  echo "==> installing PostgreSQL" >&2
  without_stdout "${sudo[@]}" apt-get update -qq
  # Installing starts the cluster too.
  DEBIAN_FRONTEND=noninteractive without_stdout "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null
fi
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
if [[ -z "$cluster" ]]; then
  echo "no PostgreSQL cluster found" >&2
  exit 1
fi
if ! pg_lsclusters --no-header | awk 'NR==1 {print $4}' | grep -q online; then
  # shellcheck disable=SC2086
  without_stdout "${sudo[@]}" pg_ctlcluster $cluster start
fi
as_postgres() { "${sudo[@]}" su postgres -c "$1"; }
for _ in $(seq 1 30); do
  as_postgres "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$ROLE'\"" | grep -q 1 ||
  as_postgres "psql -qc \"CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'\""
# The tests drop their databases WITH (FORCE), which must end every session on them; one that
# an autovacuum worker holds belongs to no role the test role is a member of, and the drop
# failed ("must be a member of the role whose process is being terminated").
as_postgres "psql -qc \"GRANT pg_signal_backend TO $ROLE\"" >/dev/null
as_postgres "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$DATABASE'\"" | grep -q 1 ||
  as_postgres "createdb -O $ROLE $DATABASE"
echo "postgres://$ROLE:$PASSWORD@127.0.0.1:5432/$DATABASE" >&3
