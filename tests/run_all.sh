#!/bin/sh
# The test command: install what is missing, then build and run the whole
# suite twice: gcc (release, -Werror) and clang with ASan+UBSan (-Werror).
# Prints "N passed, N failed" at the end; exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
t0=$(date +%s)
elapsed() { echo "--- $1: done at $(( $(date +%s) - t0 )) s" >&2; }
sh tools/install-deps.sh
elapsed "install-deps"

export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
# meson runs two tests at a time on two cores: OpenMP threads that spin while they wait took a
# multithreaded test 3x longer beside another one (train_learn: 90 s against 29 s passive).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
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
elapsed "gcc release (build and tests)"

# With MPI when installed: tests/mpi/mpi_train.sh turns LeakSanitizer off for the mpirun ranks
# only (Open MPI's initialisation leaks by design); the same code without MPI is leak-checked
# through test_dist's in-process ranks.
# The same build compiles the fuzz targets (-Dfuzz=true; run below): one sanitizer build, not two.
CC=clang setup build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fno-sanitize-recover=all -Dfuzz=true
# tests/lsan_retry.sh runs a test a second time only when LeakSanitizer's tracer itself crashed
# at exit (an upstream runtime fault, not a leak report); each retry is listed here.
export VBP_LSAN_RETRY_LOG="$PWD/build-asan/lsan-retries.txt"
rm -f "$VBP_LSAN_RETRY_LOG"
run_suite "clang ASan+UBSan" build-asan --no-suite slow --timeout-multiplier 4 \
  --wrapper "$PWD/tests/lsan_retry.sh"
if [ -s "$VBP_LSAN_RETRY_LOG" ]; then
  echo "NOTE: LeakSanitizer's tracer crashed and these were run again:" >&2
  cat "$VBP_LSAN_RETRY_LOG" >&2
fi
elapsed "clang ASan+UBSan (build and tests)"

# valgrind memcheck on the tools (suite 'valgrind'): a plain gcc build for
# generic x86-64, because valgrind does not decode -march=native's AVX-512.  Built without MPI
# (-Dmpi=disabled) and without FFmpeg (-Dffmpeg=disabled): this is the suite's build of those
# configurations (the valgrind suite passes with MPI linked too: the tools run alone and never
# initialise it; with FFmpeg linked valgrind cannot start a program, as Debian's libavcodec loads
# libhwy, whose initialiser runs an instruction valgrind does not decode: SIGILL, so the video code
# is memory-checked by the ASan build).  The video tests run there too, to show they SKIP and that
# the PNG path stands.
CC=gcc setup build-valgrind -Dnative=false -Dbuildtype=debugoptimized -Dmpi=disabled -Dffmpeg=disabled
run_suite "valgrind memcheck (gcc, generic x86-64)" build-valgrind --suite valgrind
run_suite "without FFmpeg (video tests SKIP)" build-valgrind test_video track video_reference \
  test_scan test_csv
elapsed "valgrind and without FFmpeg (build and tests)"

# Fuzzing: libFuzzer + ASan + UBSan (the targets of build-asan), each target for
# VBP_FUZZ_SECONDS (default 12; 0 skips) from the seed corpora the build writes.  A crash, leak, hang
# (> 10 s per input), sanitizer report or allocation above 2 GiB fails it.
# Inputs that crashed are kept as build-asan/fuzz-artifacts/*.
fuzz_seconds=${VBP_FUZZ_SECONDS:-12}
if [ "$fuzz_seconds" -gt 0 ]; then
  jobs=$(nproc 2>/dev/null || echo 2)
  echo "=== fuzz (${fuzz_seconds}s per target, $jobs at a time) ===" >&2
  mkdir -p build-asan/fuzz-artifacts
  rm -f build-asan/fuzz_*.rc
  # One target per core at a time (each libFuzzer process is single-threaded); xargs waits
  # for all of them; each writes its log and its exit status under build-asan.
  printf '%s\n' pack png csv safetensors state | xargs -P "$jobs" -I{} sh -c '
    t=$1; s=$2; cd build-asan && mkdir -p "fuzz-corpus/$t"
    "./tests/fuzz/fuzz_$t" -max_total_time="$s" -timeout=10 -rss_limit_mb=2048 \
      -error_exitcode=77 -print_final_stats=1 -artifact_prefix="fuzz-artifacts/fuzz_$t-" \
      "fuzz-corpus/$t" "tests/fuzz/seeds/$t" > "fuzz_$t.log" 2>&1
    echo $? > "fuzz_$t.rc"' sh {} "$fuzz_seconds" || true
  for t in pack png csv safetensors state; do
    rc=$(cat "build-asan/fuzz_$t.rc" 2>/dev/null || echo "?")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-asan/fuzz_$t.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "build-asan/fuzz_$t.log")
    if [ "$rc" = 0 ] && [ -n "$execs" ]; then
      passed=$((passed + 1))
      echo "fuzz_$t: OK, ${execs} executions, ${rate} exec/s, ${fuzz_seconds} s"
    else
      failed=$((failed + 1))
      echo "fuzz_$t: FAIL (exit $rc); log build-asan/fuzz_$t.log:"
      grep -E "ERROR|SUMMARY|invariant|Test unit written" "build-asan/fuzz_$t.log" | head -n 20
    fi
  done
  elapsed fuzz
fi

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
