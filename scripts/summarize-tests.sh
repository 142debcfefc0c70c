#!/usr/bin/env bash
# Adds up the cargo and Playwright results in a test log and prints one closing line:
# "tests: N passed, N failed". Exits non-zero when anything failed or nothing ran.
set -euo pipefail
log="$1"
read -r passed failed < <(
  sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
    /^test result: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
    /^ +[0-9]+ passed \(/ { p += $1 }
    /^ +[0-9]+ failed$/ { f += $1 }
    END { print p + 0, f + 0 }'
)
fuzzed=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '/^ +[0-9]+ generated, / { g += $1 } END { print g + 0 }')
echo "tests: $passed passed, $failed failed; API fuzzing: $fuzzed cases"
[[ "$failed" == 0 && "$passed" -gt 0 ]]
