#!/bin/sh
# meson install of this build into a staging directory, then a program compiled
# against the staged library with nothing but `pkg-config --cflags --libs vbpack`,
# linked against the shared library and then the static one, and run.
# usage: install_test.sh BUILD_DIR CC SANITIZE CONSUMER_C
set -eu
build=$1; cc=$2; san=$3; src=$4
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
