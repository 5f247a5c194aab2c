# Sourced by the image's install scripts: how they speak and how they run pip.
# Each failure ends in one "<script>: error: …" line carrying pip's or Ivy's own reason, which
# the tool shows as the build's one-line error.
VENV=/opt/venv

say() { echo "$script: $*" >&2; }
die() { echo "$script: error: $*" >&2; exit 1; }

# pip into the image's venv, with the OS trust store (so a CA added to the base image, a CI
# proxy's, is honoured), no cache left in the layer, and pip's own last ERROR line on failure.
# $1 says what is installed, for the error; the rest are pip's arguments.
venv_pip() {
  what=$1
  shift
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then export PIP_CERT=/etc/ssl/certs/ca-certificates.crt; fi
  log=$(mktemp)
  status=0
  "$VENV/bin/pip" install --no-cache-dir --disable-pip-version-check --progress-bar off "$@" >"$log" 2>&1 || status=$?
  cat "$log" >&2
  reason=$(grep '^ERROR: ' "$log" | tail -n 1 | sed 's/^ERROR: //')
  rm -f "$log"
  [ "$status" = 0 ] || die "pip could not install $what: ${reason:-exit $status, see above}"
}

# The test suites of these packages (a fifth of pandas' size; nothing imports them). Only ours:
# a package of yours may ship a tests package it imports.
prune_tests() {
  for package in "$@"; do
    find "$VENV"/lib/python*/site-packages/"$package" -depth -type d -name tests -exec rm -rf {} +
  done
}
