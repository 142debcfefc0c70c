#!/usr/bin/env bash
# with-progress.sh WHAT COMMAND [ARG...]: runs the command and prints "==>   ... still WHAT
# (N min)" every minute while it runs, then how long it took, so that a first run never looks
# stuck (docs/first-run.md). Exits with the command's status.
set -uo pipefail
what=$1
shift
started=$SECONDS
"$@" &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  kill -0 "$pid" 2>/dev/null || break
  printf '==>   ... still %s (%d min)\n' "$what" $(((SECONDS - started) / 60)) >&2
done
wait "$pid"
status=$?
took=$((SECONDS - started))
((status == 0)) && printf '==>   %s: done in %d min %02d s\n' "$what" $((took / 60)) $((took % 60)) >&2
exit "$status"
