#!/bin/sh
# Install the Debian 12 packages vbpack needs, only those missing.
# Set VBP_SKIP_REFERENCE=1 to leave out python3-numpy/python3-torch/python3-lz4 (the
# reference tests then report themselves as SKIPPED).
set -eu
pkgs="meson ninja-build pkg-config gcc clang libpng-dev libxxhash-dev liblz4-dev libcmocka-dev libclang-rt-14-dev valgrind"
if [ "${VBP_SKIP_REFERENCE:-0}" != 1 ]; then
  pkgs="$pkgs python3-numpy python3-torch python3-lz4 python3-opencv"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
