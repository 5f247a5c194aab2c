#!/bin/sh
# The user's own packages, each mode in its own layer on top of Spark:
#   add-packages.sh pip    — $PIP_REQUIREMENTS (requirements lines) into /opt/venv; hash-checked
#                            by pip itself when the lines carry --hash
#   add-packages.sh maven  — $SPARK_PACKAGES (group:artifact:version,…) resolved by Spark's own
#                            Ivy, as --packages would at run time, into $SPARK_HOME/jars, so every
#                            driver and executor has them on its classpath with no resolution, no
#                            writable directory and no network at run time
set -eu
script=add-packages
. /tmp/image-scripts/common.sh
SPARK_HOME=${SPARK_HOME:-/opt/spark}

add_pip() {
  [ -n "${PIP_REQUIREMENTS:-}" ] || exit 0
  requirements=$(mktemp)
  printf '%s\n' "$PIP_REQUIREMENTS" >"$requirements"
  say "pip install your requirements ($(grep -c . "$requirements") lines)"
  venv_pip "your requirements" -r "$requirements"
  rm -f "$requirements"
}

add_maven() {
  [ -n "${SPARK_PACKAGES:-}" ] || exit 0
  ivy=$(mktemp -d)
  noop=$(mktemp --suffix .py)
  log=$(mktemp)
  say "resolving $SPARK_PACKAGES from Maven Central with Spark's Ivy"
  status=0
  # An empty app: spark-submit resolves --packages before it starts it, and it exits at once.
  "$SPARK_HOME/bin/spark-submit" --master 'local[1]' --conf spark.jars.ivy="$ivy" --packages "$SPARK_PACKAGES" "$noop" >"$log" 2>&1 || status=$?
  cat "$log" >&2
  if [ "$status" != 0 ]; then
    reason=$(grep -o 'unresolved dependency: [^],]*' "$log" | head -n 1)
    [ -n "$reason" ] || reason=$(grep -m 1 -E '^(Exception|Error)|Exception: ' "$log" || true)
    die "Ivy could not resolve $SPARK_PACKAGES: ${reason:-exit $status, see above}"
  fi
  # What Spark puts on the classpath for --packages: $ivy/jars/<group>_<artifact>-<version>.jar, jars
  # and OSGi bundles alike. The artifact's name (a directory of Ivy's cache, <group>/<artifact>/)
  # tells which of them Spark already ships, in its own version, the one that works with it.
  for jar in "$ivy"/jars/*.jar; do
    [ -e "$jar" ] || continue
    name=$(basename "$jar")
    group=${name%%_*}
    rest=${name#*_}
    artifact=''
    for dir in "$ivy/cache/$group"/*/; do
      candidate=$(basename "$dir")
      case $rest in "$candidate"-[0-9]*) artifact=$candidate ;; esac
    done
    shipped=''
    if [ -n "$artifact" ]; then shipped=$(ls "$SPARK_HOME/jars/$artifact"-[0-9]*.jar 2>/dev/null | head -n 1 || true); fi
    if [ -n "$shipped" ]; then
      say "kept Spark's own $(basename "$shipped") rather than $name"
    else
      cp "$jar" "$SPARK_HOME/jars/$name"
      say "added $name"
    fi
  done
  rm -rf "$ivy" "$noop" "$log" /root/.ivy2*
}

case ${1:-} in
  pip) add_pip ;;
  maven) add_maven ;;
  *) die "usage: add-packages.sh pip|maven" ;;
esac
