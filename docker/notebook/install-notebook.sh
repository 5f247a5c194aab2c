#!/bin/sh
# Installs JupyterLab and ipykernel into /opt/venv from docker/notebook/pypi-lock.txt, and makes
# the folder notebooks are kept in.
set -eu
script=install-notebook
. /tmp/image-scripts/common.sh

say "pip install jupyterlab and ipykernel with the hashes pinned in notebook/pypi-lock.txt"
venv_pip "JupyterLab" --only-binary :all: --require-hashes -r /tmp/image-scripts/pypi-lock.txt
# ipykernel's own "Python 3" spec would start a kernel without Spark's driver settings: ours only.
rm -rf "$VENV/share/jupyter/kernels/python3"
"$VENV/bin/python" -c 'import jupyterlab, ipykernel, pyspark' || die "jupyterlab, ipykernel or pyspark does not import"

# The notebooks volume's mount point: a fresh Docker volume takes its owner from here.
install -d -o 185 -g 0 -m 0775 /opt/spark/notebooks
