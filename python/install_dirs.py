"""Where `meson install` puts the Python package (python/meson.build runs this).

usage: python3 install_dirs.py PREFIX LIBDIR SONAME MESON_DEFAULT
Prints two lines: the site directory the package goes into, and the path of the
installed library relative to the package directory (vbpack/_install.py records it).
The site directory is the first of this interpreter's own (site.getsitepackages())
inside PREFIX: on Debian, /usr/local/lib/python3.X/dist-packages for /usr/local (meson's
python module would pick lib/python3/dist-packages, which Debian's python3 does not read
under /usr/local), a venv's site-packages for a venv's interpreter and prefix.  Otherwise
meson's default for the prefix, which a venv created at that prefix reads.
"""
import os
import site
import sys

prefix, libdir, soname, default = sys.argv[1:5]
root = os.path.normpath(prefix)
own = [d for d in site.getsitepackages() if os.path.normpath(d).startswith(root + os.sep)]
target = os.path.normpath(own[0] if own else default)
library = os.path.join(root, libdir, soname)  # an absolute libdir stays as it is
print(target)
print(os.path.relpath(library, os.path.join(target, "vbpack")))
