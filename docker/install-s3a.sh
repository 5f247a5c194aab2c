#!/bin/sh
# s3a:// paths: adds hadoop-aws of the image's own Hadoop and the AWS SDK v2 modules its S3 client
# loads (13 MB, rather than the SDK's 680 MB bundle) to $SPARK_HOME/jars, each jar downloaded from
# $MAVEN_REPOSITORY and checked against the SHA-256 pinned in s3a-lock/spark-$SPARK_VERSION.txt
# (scripts/ci/s3a-lock.ts writes it). A release with no lock gets no S3A, and the build says so.
set -eu
script=install-s3a
. /tmp/image-scripts/common.sh
SPARK_HOME=${SPARK_HOME:-/opt/spark}

lock=/tmp/image-scripts/s3a-lock/spark-$SPARK_VERSION.txt
if [ ! -f "$lock" ]; then
  say "no S3A jars are pinned for Spark $SPARK_VERSION (docker/s3a-lock/): this image reads no s3a:// paths"
  exit 0
fi
hadoop=$(ls "$SPARK_HOME"/jars/hadoop-client-api-*.jar 2>/dev/null | sed -n 's|.*/hadoop-client-api-\(.*\)\.jar$|\1|p' | head -n 1)
grep -q "/hadoop-aws-$hadoop\.jar " "$lock" || die "$(basename "$lock") pins no hadoop-aws for this image's Hadoop ${hadoop:-(none found)}"

repository=${MAVEN_REPOSITORY:-https://repo1.maven.org/maven2}
count=0
# A last line with no newline is read too; a CR (a lock checked out with CRLF) is dropped.
while read -r path sha256 || [ -n "$path" ]; do
  sha256=$(printf '%s' "${sha256:-}" | tr -d '\r')
  case $path in '' | '#'*) continue ;; esac
  jar=$SPARK_HOME/jars/$(basename "$path")
  curl -fsSL --retry 3 --retry-connrefused -o "$jar" "${repository%/}/$path" || die "could not download $path from $repository"
  actual=$(sha256sum "$jar" | cut -d ' ' -f 1)
  [ "$actual" = "$sha256" ] || die "checksum mismatch for $path from $repository: expected $sha256 (pinned), got $actual"
  count=$((count + 1))
done <"$lock"
pinned=$(grep -cv -e '^#' -e '^[[:space:]]*$' "$lock")
[ "$count" = "$pinned" ] || die "installed $count of the $pinned jars $(basename "$lock") pins"
say "S3A: hadoop-aws $hadoop and $count jars in all, sha256 verified against $(basename "$lock")"
