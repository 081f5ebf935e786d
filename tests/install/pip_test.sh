#!/bin/sh
# `pip install ./python` and `pip install -e ./python` into a venv, offline (Debian's pip,
# setuptools and wheel, no build isolation): vbpack imports from where pip put it, with
# vbpack.torch beside it and the project's version.  pip builds twice: about 10 s on a quiet
# machine, most of this test.
# usage: pip_test.sh PYTHON SOURCE_DIR VERSION
set -eu
py=$1; src=$2; version=$3
if ! "$py" -c 'import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ("pip", "setuptools", "wheel", "numpy")))' 2>/dev/null; then
  why="pip, setuptools, wheel and numpy (python3-pip, python3-setuptools, python3-wheel, python3-numpy) needed in $py"
  [ "${VBP_SKIP_REFERENCE:-0}" = 1 ] && { echo "SKIPPED: $why"; exit 77; }
  echo "FAIL: $why (run tools/install-deps.sh, or set VBP_SKIP_REFERENCE=1 to skip)"; exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/python" "$tmp/python"   # pip builds inside the tree: not in the source tree
"$py" -m venv --without-pip --system-site-packages "$tmp/venv"
pip() { "$tmp/venv/bin/python3" -m pip --disable-pip-version-check --no-input "$@"; }
check() { # where vbpack must come from
  out=$(cd "$tmp" && env -u PYTHONPATH "$tmp/venv/bin/python3" -c '
import importlib.metadata, importlib.util, os, vbpack
assert importlib.util.find_spec("vbpack.torch"), "no vbpack.torch"
print(os.path.realpath(vbpack.__file__), importlib.metadata.version("vbpack"))')
  [ "$out" = "$(realpath "$1")/vbpack/__init__.py $version" ] ||
    { echo "FAIL: expected vbpack $version from $1, got: $out"; exit 1; }
}
pip install --quiet --no-build-isolation --no-index "$tmp/python" >"$tmp/pip.log" 2>&1 ||
  { cat "$tmp/pip.log"; echo "FAIL: pip install ./python"; exit 1; }
check "$tmp/venv/lib/python3."*"/site-packages"
pip uninstall --quiet --yes vbpack >"$tmp/pip.log" 2>&1
pip install --quiet --no-build-isolation --no-index -e "$tmp/python" >"$tmp/pip.log" 2>&1 ||
  { cat "$tmp/pip.log"; echo "FAIL: pip install -e ./python"; exit 1; }
check "$tmp/python"
echo "ok: pip install ./python and pip install -e ./python give vbpack $version"
