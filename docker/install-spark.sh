#!/bin/sh
# Installs Apache Spark ${SPARK_VERSION} at /opt/spark, either from the Apache binary
# tarball (SPARK_DIST=apache, checksum-verified) or from PyPI's pyspark (SPARK_DIST=pypi),
# which bundles the same jars and launch scripts and is reachable where apache.org is not.
# Both leave the same layout: /opt/spark/{bin,sbin,jars,python,conf,work,logs}.
set -eu
script=install-spark
. /tmp/image-scripts/common.sh

SPARK_HOME=/opt/spark
RUNTIME_UID=185

SPARK_VERSION=${SPARK_VERSION:-}
SPARK_DIST=${SPARK_DIST:-apache}
case $SPARK_VERSION in
  '' | *[!0-9A-Za-z.-]*) die "SPARK_VERSION must look like 4.0.1 (got '$SPARK_VERSION')" ;;
esac

is_sha512() { printf '%s' "$1" | grep -Eq '^[0-9a-f]{128}$'; }

# Apache publishes two .sha512 formats: sha512sum's "<hex>  <file>" and, for older
# releases, gpg --print-md's "<file>: <HEX in groups>" wrapped over several lines.
parse_sha512_file() {
  first=$(awk 'NR == 1 { print tolower($1); exit }' "$1")
  if is_sha512 "$first"; then
    printf '%s' "$first"
  else
    sed '1s/^[^:]*://' "$1" | tr -d ' \t\r\n' | tr 'A-F' 'a-f'
  fi
}

# The ASF's CDN first (current releases, not throttled), then the archive (every release, throttled);
# the digest from the ASF's own hosts (downloads.apache.org, else the archive), not from the CDN,
# and from a mirror of your own only when neither answers.
install_apache() {
  file=spark-$SPARK_VERSION-bin-hadoop3.tgz
  tmp=$(mktemp -d)
  url=''
  for mirror in ${APACHE_MIRROR:-https://dlcdn.apache.org/spark/spark-$SPARK_VERSION/ https://archive.apache.org/dist/spark/spark-$SPARK_VERSION/}; do
    say "downloading ${mirror%/}/$file"
    if curl -fsSL --retry 3 --retry-connrefused -o "$tmp/$file" "${mirror%/}/$file"; then
      url=${mirror%/}/$file
      break
    fi
    say "not at $mirror"
  done
  [ -n "$url" ] || die "could not download $file from ${APACHE_MIRROR:-the ASF CDN or archive} (--spark-dist pypi needs only PyPI)"

  if [ -n "${SPARK_SHA512:-}" ]; then
    # A pinned digest beats the mirror's own .sha512: it does not come from the same place.
    expected=$(printf '%s' "$SPARK_SHA512" | tr -d ' \t\r\n' | tr 'A-F' 'a-f')
    from='the SPARK_SHA512 build argument'
    is_sha512 "$expected" || die "SPARK_SHA512 must be 128 hex digits (got '$SPARK_SHA512')"
  fi

  if [ -z "${SPARK_SHA512:-}" ]; then
    from=''
    # A mirror of your own is asked last, for networks that reach nothing else.
    for digest in https://downloads.apache.org/spark/spark-$SPARK_VERSION/$file.sha512 https://archive.apache.org/dist/spark/spark-$SPARK_VERSION/$file.sha512 ${APACHE_MIRROR:+$url.sha512}; do
      if curl -fsSL --retry 3 --retry-connrefused -o "$tmp/$file.sha512" "$digest"; then from=$digest; break; fi
    done
    [ -n "$from" ] || die "could not download the .sha512 of $file (pass --build-arg SPARK_SHA512=<digest> to pin one)"
    expected=$(parse_sha512_file "$tmp/$file.sha512")
    is_sha512 "$expected" || die "no SHA-512 digest found in $from"
  fi

  actual=$(sha512sum "$tmp/$file" | cut -d ' ' -f 1)
  [ "$actual" = "$expected" ] ||
    die "checksum mismatch for $file: expected $expected (from $from), got $actual"
  say "sha512 verified against $from"

  mkdir -p "$SPARK_HOME"
  tar -xzf "$tmp/$file" -C "$SPARK_HOME" --strip-components=1 --no-same-owner
  rm -rf "$tmp"
}

# Into the venv install-python.sh made.
install_pypi() {
  # The versions the tool offers have their digests pinned in pypi-lock/ (a mismatch fails the
  # build); any other version installs by version only, and says so.
  lock=/tmp/image-scripts/pypi-lock/pyspark-$SPARK_VERSION.txt
  if [ -f "$lock" ]; then
    say "pip install pyspark==$SPARK_VERSION (a ~400 MB sdist) with the hashes pinned in $(basename "$lock")"
    set -- --require-hashes -r "$lock"
  else
    say "warning: no pinned hashes for pyspark==$SPARK_VERSION in docker/pypi-lock/: installing by version only"
    set -- "pyspark==$SPARK_VERSION"
  fi
  venv_pip "pyspark==$SPARK_VERSION" "$@"
  prune_tests pyspark

  pkg=$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))') ||
    die "pyspark does not import from $VENV"
  # Link rather than move, so pip's record of the package stays true.
  mkdir -p "$SPARK_HOME"
  for dir in bin sbin jars python data examples licenses; do
    if [ -e "$pkg/$dir" ]; then ln -s "$pkg/$dir" "$SPARK_HOME/$dir"; fi
  done
  # Wheels do not always keep the execute bit on package data.
  chmod 0755 "$pkg"/bin/* "$pkg"/sbin/*
}

case $SPARK_DIST in
  apache) install_apache ;;
  pypi) install_pypi ;;
  *) die "SPARK_DIST must be 'apache' or 'pypi' (got '$SPARK_DIST')" ;;
esac

for tool in bin/spark-class bin/spark-submit; do
  [ -x "$SPARK_HOME/$tool" ] || die "$SPARK_HOME/$tool is missing after install"
done
[ -d "$SPARK_HOME/jars" ] || die "$SPARK_HOME/jars is missing after install"

# RocksDB's jar carries its native library for a dozen platforms (70 MB); keep this machine's.
rocksdb=$(ls "$SPARK_HOME"/jars/rocksdbjni-*.jar 2>/dev/null | head -n 1 || true)
if [ -n "$rocksdb" ]; then
  case $(uname -m) in
    x86_64) keep=librocksdbjni-linux64.so ;;
    aarch64) keep=librocksdbjni-linux-aarch64.so ;;
    *) keep='' ;;
  esac
  if [ -n "$keep" ]; then
    python3 - "$rocksdb" "$keep" <<'PY' || die "could not slim $rocksdb"
import os, sys, zipfile
jar, keep = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(jar) as old, zipfile.ZipFile(jar + '.new', 'w', zipfile.ZIP_DEFLATED) as new:
    if keep not in old.namelist():
        sys.exit(f'{keep} is not in {jar}')
    for item in old.infolist():
        if not item.filename.startswith('librocksdbjni-') or item.filename == keep:
            new.writestr(item, old.read(item.filename))
os.replace(jar + '.new', jar)
PY
  fi
fi

# Writable by the runtime user, and by group 0 for platforms that pick an arbitrary uid.
mkdir -p "$SPARK_HOME/conf" "$SPARK_HOME/work" "$SPARK_HOME/logs"
chown "$RUNTIME_UID:0" "$SPARK_HOME/work" "$SPARK_HOME/logs"
chmod 0775 "$SPARK_HOME/work" "$SPARK_HOME/logs"

# Proves java, the jars and the launcher agree before the image is tagged.
version_output=$("$SPARK_HOME/bin/spark-submit" --version 2>&1) ||
  die "spark-submit --version failed: $version_output"
printf '%s\n' "$version_output" | grep -q "version $SPARK_VERSION" ||
  die "installed Spark does not report version $SPARK_VERSION: $version_output"
say "Spark $SPARK_VERSION installed at $SPARK_HOME ($SPARK_DIST)"
