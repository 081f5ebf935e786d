#!/bin/sh
# meson install of this build into a staging directory, then a program compiled
# against the staged library with nothing but `pkg-config --cflags --libs vbpack`,
# linked against the shared library and then the static one, and run; then the Python
# package: `import vbpack.torch` from the staged prefix with no PYTHONPATH, finding the
# staged library.
# usage: install_test.sh BUILD_DIR CC SANITIZE CONSUMER_C PYTHON
# VBP_PYTHON_PRELOAD: the sanitizer runtime the interpreter preloads in a sanitizer build.
set -eu
build=$1; cc=$2; san=$3; src=$4; py=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
meson install -C "$build" --no-rebuild --quiet --destdir "$stage" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; echo "FAIL: meson install"; exit 1; }

pc=$(find "$stage" -name vbpack.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: no vbpack.pc installed"; find "$stage"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
for f in bin/vbpack bin/vbdump bin/vbtrain include/vbpack/vbp_pack.h include/vbpack/vbp_net.h; do
  [ -e "$stage$prefix/$f" ] || { echo "FAIL: $prefix/$f not installed"; exit 1; }
done
# with FFmpeg, `vbtrain track` runs vbtrain-track from vbtrain's directory
if [ -e "$build/tools/vbtrain-track" ] && [ ! -e "$stage$prefix/bin/vbtrain-track" ]; then
  echo "FAIL: $prefix/bin/vbtrain-track not installed beside vbtrain"; exit 1
fi
libdir=$(dirname "$(dirname "$pc")")
[ -e "$libdir/libvbpack.a" ] || { echo "FAIL: no libvbpack.a in $libdir"; exit 1; }
ls "$libdir"/libvbpack.so.* >/dev/null 2>&1 || { echo "FAIL: no libvbpack.so.* in $libdir"; exit 1; }
# The installed headers must not reach for anything that was not installed.
for h in "$stage$prefix"/include/vbpack/*.h; do
  grep -h '#include "' "$h" | sed 's/.*"\(.*\)".*/\1/' | while read -r inc; do
    [ -e "$stage$prefix/include/vbpack/$inc" ] ||
      { echo "FAIL: $(basename "$h") includes $inc, which is not installed"; exit 1; }
  done
done

# The staged .pc names the final prefix; the sysroot maps it into the stage.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$stage"
extra=""
[ "$san" = none ] || extra="-fsanitize=$san"
cflags=$(pkg-config --cflags vbpack)
# shellcheck disable=SC2086
$cc $extra -o "$tmp/consumer" "$src" $cflags $(pkg-config --libs vbpack)
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer")
LD_LIBRARY_PATH="$libdir" ldd "$tmp/consumer" | grep -q "$libdir/libvbpack.so" ||
  { echo "FAIL: consumer is not linked against the staged libvbpack.so"; exit 1; }
# Static: the archive plus the private dependencies pkg-config lists for --static.
libs=$(pkg-config --static --libs vbpack | sed 's/-lvbpack//')
# shellcheck disable=SC2086
$cc $extra -o "$tmp/consumer_static" "$src" $cflags "$libdir/libvbpack.a" $libs
out_static=$("$tmp/consumer_static")

expected="params 9166
checksum mismatch"
for o in "$out" "$out_static"; do
  [ "$o" = "$expected" ] || { echo "FAIL: consumer printed:"; echo "$o"; exit 1; }
done
echo "ok: installed under $prefix; consumer built with pkg-config (shared and static) prints the expected lines"

# The Python package went into the interpreter's site directory for the prefix
# (python/install_dirs.py), with vbpack/_install.py saying where the library is.
init=$(find "$stage$prefix" -path '*-packages/vbpack/__init__.py' | head -n 1)
[ -n "$init" ] && [ -e "$(dirname "$init")/_install.py" ] ||
  { echo "FAIL: the Python package (vbpack/__init__.py, _install.py) is not installed"; exit 1; }
if ! "$py" -c 'import numpy, torch' 2>/dev/null; then
  if [ "${VBP_SKIP_REFERENCE:-0}" = 1 ]; then
    echo "SKIPPED: import vbpack.torch from the prefix: no numpy/torch in $py (VBP_SKIP_REFERENCE=1)"
    exit 0
  fi
  echo "FAIL: numpy and torch (python3-numpy, python3-torch) needed in $py; run tools/install-deps.sh"
  exit 1
fi
# An interpreter pointed at the staged prefix as Debian's python3 is at /usr/local: a venv
# there, seeing the system's numpy and torch.  Run from elsewhere than the source tree, without
# PYTHONPATH, VBPACK_LIBRARY or the build's LD_LIBRARY_PATH.
"$py" -m venv --without-pip --system-site-packages "$stage$prefix"
out=$(cd "$tmp" && env -u PYTHONPATH -u VBPACK_LIBRARY -u LD_LIBRARY_PATH \
  ${VBP_PYTHON_PRELOAD:+LD_PRELOAD="$VBP_PYTHON_PRELOAD"} "$stage$prefix/bin/python3" -c '
import os, vbpack, vbpack.torch
print(os.path.realpath(vbpack.__file__))
print(os.path.realpath(vbpack.library_path()))
try:
    vbpack.torch.Loader("missing.vbp")
except OSError as e:
    print(e)') || { echo "FAIL: import vbpack.torch from the installed prefix"; exit 1; }
echo "$out" | sed -n 1p | grep -q "^$(realpath "$stage$prefix")/" ||
  { echo "FAIL: vbpack imported from elsewhere than the prefix:"; echo "$out"; exit 1; }
lib=$(echo "$out" | sed -n 2p)
[ "$lib" = "$(realpath "$libdir"/libvbpack.so.0)" ] ||
  { echo "FAIL: vbpack loaded $lib, not the installed library in $libdir"; exit 1; }
echo "$out" | sed -n 3p | grep -q "missing.vbp: cannot open" ||
  { echo "FAIL: the installed library did not answer:"; echo "$out"; exit 1; }
echo "ok: import vbpack.torch from $prefix (a venv there) loads $lib"
