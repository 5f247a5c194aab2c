#!/bin/sh
# Installs JupyterLab and ipykernel into /opt/venv from docker/notebook/pypi-lock.txt, and makes
# the folder notebooks are kept in.
set -eu
script=install-notebook
. /tmp/image-scripts/common.sh

# What the executors have (pandas, pyarrow, your --pip packages) must stay exactly so in the kernel:
# pip would replace a version JupyterLab pins otherwise, and only warn.
before=$(mktemp)
after=$(mktemp)
"$VENV/bin/pip" freeze --all >"$before"
say "pip install jupyterlab and ipykernel with the hashes pinned in notebook/pypi-lock.txt"
venv_pip "JupyterLab" --only-binary :all: --require-hashes -r /tmp/image-scripts/pypi-lock.txt
"$VENV/bin/pip" freeze --all >"$after"
changed=$(grep -vxF -f "$after" "$before" | tr '\n' ' ' || true)
[ -z "$changed" ] || die "JupyterLab's pinned packages would change what the executors run: ${changed}(a --pip package clashes with docker/notebook/pypi-lock.txt; pin it to the lock's version)"
rm -f "$before" "$after"
# ipykernel's own "Python 3" spec would start a kernel without Spark's driver settings: ours only.
rm -rf "$VENV/share/jupyter/kernels/python3"
"$VENV/bin/python" -c 'import jupyterlab, ipykernel, pyspark' || die "jupyterlab, ipykernel or pyspark does not import"

# The notebooks volume's mount point: a fresh Docker volume takes its owner from here.
install -d -o 185 -g 0 -m 0775 /opt/spark/notebooks
