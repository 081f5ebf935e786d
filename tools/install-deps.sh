#!/bin/sh
# Install the Debian 12 packages vbpack needs, only those missing.
# FFmpeg's libav*-dev give video input (vbpack from .mp4, vbtrain track); the build works
# without them (meson -Dffmpeg=disabled: video input is then a clear error, its tests SKIP).
# Set VBP_SKIP_REFERENCE=1 to leave out python3-numpy/python3-torch/python3-lz4/python3-onnx,
# the packaging tools the Python package's install tests use (venv, pip, setuptools, wheel)
# and ONNX Runtime (the reference tests then report themselves as SKIPPED).
# ONNX Runtime is npm's onnxruntime-node (it ships the runtime binary), installed into
# ${VBP_NODE_MODULES%/node_modules} (default ~/.cache/vbpack/npm), where tests look for it.
set -eu
pkgs="meson ninja-build pkg-config gcc clang libpng-dev libxxhash-dev liblz4-dev libcmocka-dev libclang-rt-14-dev valgrind openmpi-bin libopenmpi-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev"
if [ "${VBP_SKIP_REFERENCE:-0}" != 1 ]; then
  pkgs="$pkgs python3-numpy python3-torch python3-lz4 python3-opencv python3-onnx python3-venv python3-pip python3-setuptools python3-wheel"
  command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi
if [ "${VBP_SKIP_REFERENCE:-0}" != 1 ]; then
  modules=${VBP_NODE_MODULES:-$HOME/.cache/vbpack/npm/node_modules}
  if [ ! -d "$modules/onnxruntime-node" ]; then
    echo "installing: onnxruntime-node (npm) into ${modules%/node_modules}" >&2
    mkdir -p "${modules%/node_modules}"
    # The CPU runtime is in the package; skip its optional CUDA download.
    ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent \
      --prefix "${modules%/node_modules}" onnxruntime-node@1.30.0
  fi
fi
