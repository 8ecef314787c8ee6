#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [TARGET...] -- builds the libFuzzer targets and runs
# each for SECONDS seconds, one after the other (the machine is shared: one
# core per fuzzer).  One line per target: executions, libFuzzer's coverage
# (cov: edges, ft: features), corpus size.  Exit 0 when no target crashed,
# 1 when one did (the reproducer's path and the sanitizer report's first
# lines are printed), 2 on a usage or build error.
#
#   tests/fuzz/run.sh 5                 # the short pass ./tlsfit test runs
#   tests/fuzz/run.sh 60 x509 record    # a longer run of two targets
#
# Each target starts from tests/fuzz/corpus/<target> (seeds, see
# make_seeds.py) and tests/fuzz/regressions/<target> (inputs that once
# crashed it, if any); what it finds goes to build/fuzz/corpus/<target>, so
# the committed corpus is never modified.  A crashing input is saved as
# build/fuzz/artifacts/<target>-crash-<sha1>; replay it with
#   build/fuzz/fuzz_<target> build/fuzz/artifacts/<target>-crash-<sha1>
#
# Environment: MBEDTLS_DIR (default: the tree ./tlsfit setup fetched),
# TLSFIT_FUZZ_BUILD (default build/fuzz), TLSFIT_FUZZ_CC (default clang, else
# clang-14).  When build/asan (the C unit tests' build, same mbedTLS tree)
# holds a libmbedcrypto.a, it is linked instead of building the crypto again.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
say() { printf 'fuzz: %s\n' "$*" >&2; }

# The targets: every fuzz_<name>.c but the transport, each with its seeds.
all_targets=()
for src in "$here"/fuzz_*.c; do
  t=$(basename "$src" .c); t=${t#fuzz_}
  [[ $t == net ]] && continue
  [[ -d "$here/corpus/$t" ]] || { say "tests/fuzz/corpus/$t is missing (run tests/fuzz/make_seeds.py)"; exit 2; }
  all_targets+=("$t")
done

if [[ $# -lt 1 || ! "$1" =~ ^[0-9]+$ || "$1" -lt 1 ]]; then
  say "usage: tests/fuzz/run.sh SECONDS [TARGET...]   (targets: ${all_targets[*]})"
  exit 2
fi
seconds=$1; shift
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { say "unknown target $t (targets: ${all_targets[*]})"; exit 2; }
done

cc=${TLSFIT_FUZZ_CC:-clang}
command -v "$cc" >/dev/null || cc=clang-14
command -v "$cc" >/dev/null || { say "clang is not installed (run ./tlsfit setup: it installs clang-14)"; exit 2; }
cache="${TLSFIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tlsfit}"
mbedtls=${MBEDTLS_DIR:-$cache/mbedtls-3.6}
build=${TLSFIT_FUZZ_BUILD:-$root/build/fuzz}
mkdir -p "$build"
# One pass at a time per build directory (two `./tlsfit test` runs in one checkout share
# the build, the corpora and the artifacts): the second waits.
exec 9>"$build/.tlsfit-lock"
flock 9
log="$build/build.log"

# --- build ----------------------------------------------------------------
crypto=""
asan="$root/build/asan"
if [[ -f "$asan/mbedtls/library/libmbedcrypto.a" ]] &&
   grep -qxF "MBEDTLS_DIR:PATH=$mbedtls" "$asan/CMakeCache.txt" 2>/dev/null; then
  crypto="$asan/mbedtls/library/libmbedcrypto.a"
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  took="about a minute"; [[ -n "$crypto" ]] && took="about 20 s, mbedTLS's crypto from build/asan"
  say "building the fuzz targets with $cc in ${build#"$root"/} (first run, $took)"
fi
# Configured every time (a second when nothing changed): the crypto library may come or go.
if ! cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER="$cc" -DMBEDTLS_DIR="$mbedtls" \
     -DMBEDCRYPTO_LIB="$crypto" >"$log" 2>&1; then
  tail -n 5 "$log" >&2; say "cmake configure failed (log: $log)"; rm -f "$build/CMakeCache.txt"; exit 2
fi
if ! cmake --build "$build" -j2 >>"$log" 2>&1; then
  grep -E "error|Error" "$log" | head -n 10 >&2
  say "build failed (log: $log)"; exit 2
fi

# --- run --------------------------------------------------------------------
child=0
stop() { [[ $child -gt 0 ]] && kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; say "stopped"; exit 130; }
trap stop INT TERM HUP

mkdir -p "$build/artifacts"
failed=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  dirs=("$work" "$here/corpus/$t")
  [[ -d "$here/regressions/$t" ]] && dirs+=("$here/regressions/$t")
  out="$build/run-$t.log"
  # -timeout: one input running 10 s is a hang; -rss_limit_mb: a leak or a
  # runaway allocation fails the run instead of swapping the shared machine.
  "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" "${dirs[@]}" >"$out" 2>&1 &
  child=$!
  wait "$child"; rc=$?
  child=0
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$out" | tail -n 1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<<"$last")
  if [[ $rc -ne 0 ]]; then
    failed=1
    artifact=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$out" | tail -n 1)
    printf 'fuzz_%-13s CRASH (exit %d) after %s executions: %s\n' "$t" "$rc" "${execs:-?}" "${artifact:-no reproducer saved}"
    grep -m 3 -E 'ERROR: |runtime error|SUMMARY' "$out" | sed 's/^/    /'
    say "full report: $out"
  else
    printf 'fuzz_%-13s %9s executions in %ss  cov %-5s ft %-6s corpus %s\n' \
      "$t" "${execs:-?}" "$seconds" "${cov:-?}" "${ft:-?}" "${corp:-?}"
  fi
done
exit $failed
