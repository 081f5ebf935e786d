# cgroup.sh - memory cgroups for tests and benchmarks, sourced by tests/faults/memory_cgroup.sh
# and tools/bench_cgroup.sh (root only).  cgroup v2 where its hierarchy has the memory controller,
# else v1.  Defines:
#   cg_init             sets cg_version (1 or 2) and cg_parent (where cgroups are made); returns 1
#                       with the reason in cg_why when no memory cgroup can be made
#   cg_new NAME BYTES   a fresh cgroup with that memory limit and no swap; its path in $cg
#   cg_run CMD...       run CMD as a member of $cg (its exit status is returned)
#   cg_oom_kills        the oom_kill count of $cg
#   cg_peak             the largest memory usage of $cg so far, bytes ("" when not recorded)
#   cg_cleanup          remove every cgroup cg_new made (their processes must have exited)

cg_made=""

cg_init() {
  cg_version=0; cg_parent=""; cg_why=""
  if [ "$(id -u)" -ne 0 ]; then cg_why="not root: cannot create a memory cgroup"; return 1; fi
  _v2=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
  if [ -n "$_v2" ] && grep -qw memory "$_v2/cgroup.controllers" 2>/dev/null; then
    _own=$(awk -F: '$1 == "0" { print $3; exit }' /proc/self/cgroup)
    # A child of our own cgroup needs +memory in its subtree_control, which v2 refuses while
    # processes sit in it (us); the hierarchy's root accepts it.
    for _p in "$_v2$_own" "$_v2"; do
      if [ -d "$_p" ] && { grep -qw memory "$_p/cgroup.subtree_control" 2>/dev/null ||
                           echo +memory > "$_p/cgroup.subtree_control" 2>/dev/null; }; then
        cg_version=2; cg_parent=${_p%/}; return 0
      fi
    done
  fi
  _v1=$(awk '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++)
               if (o[i] == "memory") { print $4, $5; exit } }' /proc/self/mountinfo)
  if [ -n "$_v1" ]; then
    _root=${_v1%% *}; _mnt=${_v1#* }
    _own=$(awk -F: '{ n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == "memory") {
                        print $3; exit } }' /proc/self/cgroup)
    [ "$_root" = / ] || _own=${_own#"$_root"}
    cg_version=1; cg_parent=${_mnt%/}${_own%/}; return 0
  fi
  cg_why="no memory cgroup hierarchy (cgroup v1 memory, or v2 with the memory controller)"
  return 1
}

cg_new() {
  cg=$cg_parent/vbp-$$-$1
  if ! mkdir "$cg" 2>/dev/null; then
    cg_why="cannot create a cgroup under $cg_parent (read-only or not delegated)"; return 1
  fi
  cg_made="$cg_made $cg"
  if [ "$cg_version" -eq 2 ]; then
    echo "$2" > "$cg/memory.max" || { cg_why="cannot set memory.max in $cg"; return 1; }
    [ ! -f "$cg/memory.swap.max" ] || echo 0 > "$cg/memory.swap.max"
  else
    echo "$2" > "$cg/memory.limit_in_bytes" || { cg_why="cannot set memory.limit_in_bytes in $cg"; return 1; }
    [ ! -f "$cg/memory.memsw.limit_in_bytes" ] || echo "$2" > "$cg/memory.memsw.limit_in_bytes"
  fi
}

cg_run() {
  sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$@"
}

cg_oom_kills() {
  if [ "$cg_version" -eq 2 ]; then awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events"
  else awk '$1 == "oom_kill" { print $2 } END { if (!NR) print 0 }' "$cg/memory.oom_control"; fi
}

cg_peak() {
  if [ "$cg_version" -eq 2 ]; then cat "$cg/memory.peak" 2>/dev/null || true
  else cat "$cg/memory.max_usage_in_bytes"; fi
}

cg_cleanup() {
  for _c in $cg_made; do rmdir "$_c" 2>/dev/null || true; done
  cg_made=""
}
