#!/bin/sh
# tests/lsan_retry.sh retries a command exactly when LeakSanitizer's tracer
# crashed and nothing else went wrong, and never hides a real failure.
# usage: lsan_retry_test.sh LSAN_RETRY_SH
set -eu
wrap=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/lsan-retry-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export VBP_LSAN_RETRY_LOG="$dir/retries"
# fake TEXT: a test that fails with TEXT on stderr on its first run, passes after.
cat > "$dir/fake.sh" <<'EOS'
if [ -f "$1.ran" ]; then echo second-run; exit 0; fi
touch "$1.ran"; printf '%b\n' "$2" >&2; exit 1
EOS
run() { rm -f "$dir/state.ran"; sh "$wrap" sh "$dir/fake.sh" "$dir/state" "$1" > "$dir/out" 2>&1; }
crash='Tracer caught signal 11: addr=0x1f38 pc=0x96a\n==1==LeakSanitizer has encountered a fatal error.'

run "$crash" || fail "a tracer crash alone was not retried"
grep -q second-run "$dir/out" || fail "the retry's output is missing"
[ "$(wc -l < "$dir/retries")" -eq 1 ] || fail "the retry was not logged"
for real in "==1==ERROR: LeakSanitizer: detected memory leaks" "==1==ERROR: AddressSanitizer: heap-buffer-overflow" \
            "x.c:3:5: runtime error: signed integer overflow" "[  FAILED  ] 1 test(s)" "FAIL: the shell test's own check"; do
  if run "$real\n$crash"; then fail "retried past a real failure: $real"; fi
  if run "$real"; then fail "a real failure passed: $real"; fi
done
[ "$(wc -l < "$dir/retries")" -eq 1 ] || fail "a real failure was logged as a retry"
if run "plain failure"; then fail "a plain failure was retried"; fi
sh "$wrap" sh -c 'exit 0' || fail "a passing command failed"
if sh "$wrap" sh -c 'exit 3'; then fail "a failing command passed"; else [ $? -eq 3 ] || fail "exit code lost"; fi
echo "lsan_retry: ok"
