#!/bin/sh
# meson test --wrapper for the sanitizer suite: runs the test once and, only
# when LeakSanitizer's own stop-the-world tracer crashed at exit ("Tracer
# caught signal 11" + "LeakSanitizer has encountered a fatal error": a runtime
# fault, google/sanitizers#1353, seen here once in a CI run after all of
# test_train's assertions had passed, never reproduced in 30 local runs), runs
# it once more.  Anything else decides at once: a leak report, an ASan or
# UBSan error, a failed cmocka assertion or a shell test's FAIL line in the
# first run fails the test even when the tracer also crashed, and the second
# run must pass on its own.  Each
# retry is appended to $VBP_LSAN_RETRY_LOG (tests/run_all.sh prints it).
# usage: lsan_retry.sh COMMAND [ARGS...]
log=$(mktemp "${TMPDIR:-/tmp}/lsan-retry.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
"$@" > "$log" 2>&1
rc=$?
cat "$log"
[ "$rc" -eq 0 ] && exit 0
grep -q "LeakSanitizer has encountered a fatal error" "$log" || exit "$rc"
if grep -q -E "detected memory leaks|ERROR: AddressSanitizer|runtime error:|\[  FAILED  \]|\[  ERROR   \]|^FAIL" "$log"; then
  exit "$rc"
fi
printf '%s\n' "lsan_retry.sh: LeakSanitizer's tracer crashed (not a leak report); running once more: $*" >&2
[ -n "${VBP_LSAN_RETRY_LOG:-}" ] && printf '%s\n' "$*" >> "$VBP_LSAN_RETRY_LOG"
rm -f "$log"
trap - EXIT
exec "$@"
