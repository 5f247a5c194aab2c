#!/usr/bin/env -S npx tsx
/**
 * Writes docker/s3a-lock/spark-<version>.txt: the jars that give an image of that Spark release
 * s3a:// paths, pinned by SHA-256. They are hadoop-aws of the image's own Hadoop and the AWS SDK v2
 * modules its S3 client loads, at the SDK version that Hadoop release builds with. They are not
 * the SDK's bundle (680 MB for 2.35.4), and not the jars Spark already ships (netty,
 * httpclient, commons-codec, slf4j), which stay in Spark's version. commons-logging is left out too:
 * Spark carries its API as jcl-over-slf4j.
 * A maintainer's tool (it needs Maven and a built image of that release): run it when adding a
 * Spark release, and commit what it writes.
 *
 *   npx tsx scripts/ci/s3a-lock.ts 4.3.0 spark-standalone:4.3.0-py3.11-<hash>
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx'
import { runIfMain } from '../lib/main.ts'
import { dockerDir } from '../lib/paths.ts'

const central = 'https://repo1.maven.org/maven2'
const sdkModules = ['s3', 's3-transfer-manager']
const leftOut = new Set(['commons-logging'])

/** The name a jar file has without its version: netty-common-4.1.126.Final.jar → netty-common. */
const artifactOf = (jar: string) => jar.replace(/-\d[^-]*(-[A-Za-z]+)?\.jar$/, '')

async function sdkVersionOf(hadoop: string): Promise<string> {
  const pom = await (await fetch(`${central}/org/apache/hadoop/hadoop-project/${hadoop}/hadoop-project-${hadoop}.pom`)).text()
  const version = /<aws-java-sdk-v2\.version>([^<]+)</.exec(pom)?.[1]
  if (!version) throw new Error(`hadoop-project ${hadoop} names no aws-java-sdk-v2.version (Hadoop before 3.4 used SDK v1)`)
  return version
}

runIfMain(import.meta.url, async () => {
  const [spark, image] = process.argv.slice(2)
  if (!spark || !image) throw new Error('usage: s3a-lock.ts <spark version> <image of that version>')
  const shipped = (await $({ quiet: true })`docker run --rm --entrypoint ls ${image} /opt/spark/jars`).stdout.split('\n').filter(Boolean)
  const hadoop = shipped.map((jar) => /^hadoop-client-api-(.+)\.jar$/.exec(jar)?.[1]).find(Boolean)
  if (!hadoop) throw new Error(`${image} has no hadoop-client-api jar`)
  const sdk = await sdkVersionOf(hadoop)
  const work = mkdtempSync(join(tmpdir(), 's3a-lock-'))
  const dependency = (group: string, artifact: string, version: string, exclusions = '') =>
    `<dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version>${exclusions}</dependency>`
  const bundleExcluded = '<exclusions><exclusion><groupId>software.amazon.awssdk</groupId><artifactId>bundle</artifactId></exclusion></exclusions>'
  writeFileSync(join(work, 'pom.xml'), [
    '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>',
    '<groupId>lock</groupId><artifactId>s3a</artifactId><version>1</version><dependencies>',
    dependency('org.apache.hadoop', 'hadoop-aws', hadoop, bundleExcluded),
    ...sdkModules.map((module) => dependency('software.amazon.awssdk', module, sdk)),
    '</dependencies></project>',
  ].join('\n'))
  await $({ cwd: work, quiet: true })`mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -Dmdep.useRepositoryLayout=true -DoutputDirectory=jars`
  const sparkArtifacts = new Set(shipped.map(artifactOf))
  const lines: string[] = []
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name
      if (entry.isDirectory()) walk(join(dir, entry.name), path)
      else if (entry.name.endsWith('.jar') && !sparkArtifacts.has(artifactOf(entry.name)) && !leftOut.has(artifactOf(entry.name))) {
        lines.push(`${path} ${createHash('sha256').update(readFileSync(join(dir, entry.name))).digest('hex')}`)
      }
    }
  }
  walk(join(work, 'jars'), '')
  const header = [
    `# S3A for Spark ${spark} (Hadoop ${hadoop}, AWS SDK v2 ${sdk}): the jars docker/install-s3a.sh adds, as paths`,
    `# under a Maven repository with their SHA-256. Written by scripts/ci/s3a-lock.ts; do not edit.`,
  ]
  const file = join(dockerDir, 's3a-lock', `spark-${spark}.txt`)
  writeFileSync(file, `${[...header, ...lines.sort()].join('\n')}\n`)
  console.log(`wrote ${file}: ${lines.length} jars`)
})
