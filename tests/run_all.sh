#!/bin/sh
# The test command: install what is missing, then build and run the whole
# suite twice: gcc (release, -Werror) and clang with ASan+UBSan (-Werror).
# Prints "N passed, N failed" at the end; exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh

export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
passed=0
failed=0

run_suite() { # name, build dir, extra meson test args
  name=$1; dir=$2; shift 2
  echo "=== $name ===" >&2
  set +e
  meson test -C "$dir" --print-errorlogs "$@" > "$dir/test-summary.txt" 2>&1
  set -e
  cat "$dir/test-summary.txt"
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$dir/test-summary.txt" | tail -n 1)
  bad=$(sed -n 's/^\(Fail\|Timeout\|Unexpected Pass\): *\([0-9]*\).*/\2/p' "$dir/test-summary.txt" | awk '{s+=$1} END {print s+0}')
  skipped=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$dir/test-summary.txt" | tail -n 1)
  [ -n "$ok" ] || { ok=0; bad=$((bad + 1)); }
  passed=$((passed + ok)); failed=$((failed + bad))
  if [ "${skipped:-0}" -gt 0 ]; then
    echo "NOTE: $skipped test(s) SKIPPED in $name:" >&2
    grep -h "SKIPPED" "$dir"/meson-logs/testlog.txt >&2 || true
  fi
}

setup() { # dir, meson args...
  dir=$1; shift
  if [ -d "$dir" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
  else meson setup "$dir" "$@" >/dev/null; fi
  ninja -C "$dir" >/dev/null
}

CC=gcc setup build-gcc
run_suite "gcc release" build-gcc

CC=clang setup build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fno-sanitize-recover=all
run_suite "clang ASan+UBSan" build-asan --no-suite slow --timeout-multiplier 4

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
