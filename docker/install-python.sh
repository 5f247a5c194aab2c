#!/bin/sh
# Makes /opt/venv on Python ${PYTHON_VERSION} with the pandas, pyarrow and numpy that Arrow UDFs,
# pandas_udf, toPandas and pandas-on-Spark need, pinned by digest for the image's Spark line.
set -eu
script=install-python
. /tmp/image-scripts/common.sh

case ${PYTHON_VERSION:-} in
  3.[0-9] | 3.[0-9][0-9]) ;;
  *) die "PYTHON_VERSION must be a minor version like 3.11 (got '${PYTHON_VERSION:-}')" ;;
esac
python=python$PYTHON_VERSION
if ! command -v "$python" >/dev/null; then
  have=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)
  die "the base image gives Python $have, not $PYTHON_VERSION: Debian bookworm has 3.11, trixie 3.13, Docker Hub's python:$PYTHON_VERSION-slim-bookworm has $PYTHON_VERSION (pass it as --base-image, or --python $have)"
fi
"$python" -m venv "$VENV" || die "could not create $VENV with $python (Debian: python3-venv)"
# pip builds sdists (pyspark's among them) with a setuptools of its own; the venv's is dead weight.
rm -rf "$VENV"/lib/python*/site-packages/setuptools* "$VENV"/lib/python*/site-packages/pkg_resources "$VENV"/lib/python*/site-packages/_distutils_hack "$VENV"/lib/python*/site-packages/distutils-precedence.pth

case ${SPARK_VERSION:-} in
  3.*) lock=python-libs-spark3.5.txt ;;
  *) lock=python-libs-spark4.txt ;;
esac
say "pip install numpy, pandas, pyarrow with the hashes pinned in $lock"
venv_pip "numpy, pandas and pyarrow for Python $PYTHON_VERSION" --only-binary :all: --require-hashes -r "/tmp/image-scripts/pypi-lock/$lock"
prune_tests numpy pandas pyarrow
# C++ headers and sources, and Arrow Flight (an RPC framework Spark never loads), are a fifth of pyarrow.
arrow=$("$VENV/bin/python" -c 'import os, pyarrow; print(os.path.dirname(pyarrow.__file__))')
rm -rf "$arrow/include" "$arrow/src" "$arrow"/*flight* "$arrow"/*.pxd "$arrow"/*.pyx "$arrow"/includes
"$VENV/bin/python" -c 'import numpy, pandas, pyarrow' || die "numpy, pandas or pyarrow does not import on Python $PYTHON_VERSION"
