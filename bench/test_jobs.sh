#!/usr/bin/env bash
# bench/test_jobs.sh ROUNDS JOBS [pytest args...] -- the same pytest selection run with
# `./tlsfit test --no-unit --no-fuzz --jobs 1` and `--jobs JOBS`, alternating ROUNDS times
# (a shared machine's load moves: alternating hurts both alike), one line per run:
# jobs, wall, user+sys CPU (pytest and everything it ran), the load average before, and
# pytest's counts.  docs/testing.md ("Running in parallel") quotes it.
#
#   bench/test_jobs.sh 2 2 tests/test_platform_eval.py tests/test_properties.py \
#       tests/test_compat.py tests/test_gen_mbedtls4.py tests/test_profile_library_shipped.py
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ $# -lt 2 || ! "$1" =~ ^[1-9][0-9]*$ || ! "$2" =~ ^[2-9][0-9]*$ ]]; then
  echo "usage: bench/test_jobs.sh ROUNDS JOBS(>=2) [pytest args...]" >&2; exit 2
fi
rounds=$1 jobs=$2; shift 2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '%-5s %-4s %9s %12s %6s  %s\n' round jobs "wall s" "user+sys s" load "pytest"
for ((r = 1; r <= rounds; r++)); do
  for n in 1 "$jobs"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" ./tlsfit test --no-unit --no-fuzz --jobs "$n" "$@" \
      >"$tmp/out" 2>&1
    read -r wall user sys <"$tmp/time"
    counts=$(grep -E "^tlsfit test:" "$tmp/out" | sed -E 's/^tlsfit test: [a-z]+ tier, //; s/ in [0-9].*//')
    printf '%-5s %-4s %9.1f %12.1f %6s  %s\n' "$r" "$n" "$wall" "$(echo "$user + $sys" | bc)" \
      "$load" "$counts"
  done
done
