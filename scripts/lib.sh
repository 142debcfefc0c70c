# Shell helpers the test and bench scripts share; source it.

# listening_address LOG [TRIES]: waits for `patdesk serve` (started with its stderr in LOG) to
# log the address it listens on, polling every 0.1 s at most TRIES times (default 100), and
# prints it; prints the log to stderr and fails when it never comes.
listening_address() {
  local log=$1 tries=${2:-100} addr=
  for _ in $(seq 1 "$tries"); do
    addr=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -1 | sed 's|listening on ||') || true
    if [[ -n "$addr" ]]; then
      echo "$addr"
      return 0
    fi
    sleep 0.1
  done
  cat "$log" >&2
  return 1
}
