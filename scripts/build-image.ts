#!/usr/bin/env -S npx tsx
// README step "docker build": tagged by a hash of docker/ and the build args, skipped when that tag exists.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseConfig, type Config } from './lib/config.ts'
import { imageExists } from './lib/docker/containers.ts'
import { StepError } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { dockerDir } from './lib/paths.ts'
import { run } from './lib/proc.ts'
import { hostPythonVersion } from './lib/host-python.ts'
import { baseImageFor, imagePython } from './lib/python-version.ts'

type ImageConfig = Pick<Config, 'image' | 'registry' | 'sparkVersion' | 'sparkDist' | 'baseImage' | 'python' | 'pipRequirements' | 'packages'>

/** The build context's files; Python's byte-code caches (from running pi.py locally) are not part of it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.name !== '__pycache__')
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort()
}

/** The build args the Dockerfile receives; the user's packages only when there are some, so an image without them keeps its tag. */
export function buildArgs(config: ImageConfig, host: () => string | undefined = hostPythonVersion): Record<string, string> {
  const python = imagePython(config, host)
  return {
    SPARK_VERSION: config.sparkVersion,
    SPARK_DIST: config.sparkDist,
    PYTHON_VERSION: python,
    BASE_IMAGE: config.baseImage ?? baseImageFor(python),
    ...(config.pipRequirements.length > 0 ? { PIP_REQUIREMENTS: config.pipRequirements.join('\n') } : {}),
    ...(config.packages.length > 0 ? { SPARK_PACKAGES: config.packages.join(',') } : {}),
  }
}

/** <registry/><image>:<spark version>-py<python>-<12 hex of docker/ contents and build args>. */
export function imageReference(config: ImageConfig, dir: string = dockerDir, host: () => string | undefined = hostPythonVersion): string {
  const args = buildArgs(config, host)
  const hash = createHash('sha256')
  for (const file of filesUnder(dir)) hash.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0')
  hash.update(JSON.stringify(args))
  const repository = config.registry ? `${config.registry}/${config.image}` : config.image
  return `${repository}:${config.sparkVersion}-py${args.PYTHON_VERSION}-${hash.digest('hex').slice(0, 12)}`
}

/**
 * The one line that says why a build failed: the last `<script>: error: …` our install scripts
 * print (they carry pip's or Ivy's own reason), without BuildKit's step and time prefix.
 */
export function buildFailureReason(lines: readonly string[]): string | undefined {
  const found = [...lines].reverse().find((line) => /\b[\w-]+: error: /.test(line))
  // eslint-disable-next-line no-control-regex -- the legacy builder colours a RUN's stderr
  return found?.replace(/\x1b\[[0-9;]*m/g, '').replace(/^#\d+ [\d.]+ /, '').trim()
}

/** `present`: the answer to "is it there already?" when the caller asked ahead (see tasks.ts). */
export async function buildImage(reference: string, config: ImageConfig, onLine?: (line: string) => void, present: Promise<boolean> = imageExists(reference)): Promise<StepOutcome> {
  if (await present) return { skipped: `image ${reference} already present` }
  const args = Object.entries(buildArgs(config)).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`])
  // --force-rm: a failed build must not leave stopped intermediate containers behind.
  // 2>&1: BuildKit reports progress on stderr, the legacy builder on stdout; show whichever comes.
  const build = run({ cwd: dockerDir, nothrow: true })`docker build --force-rm --tag ${reference} ${args} . 2>&1`
  const recent: string[] = []
  let reason: string | undefined
  for await (const line of build) {
    if (!line.trim()) continue
    recent.push(line.trim())
    if (recent.length > 30) recent.shift()
    reason = buildFailureReason([line]) ?? reason
    onLine?.(line.trim())
  }
  const result = await build
  if (result.exitCode !== 0) {
    throw new StepError(`docker build of ${reference} failed (exit ${result.exitCode})${reason ? `: ${reason}` : ''}`, recent.join('\n'))
  }
  return { done: `image ${reference} built` }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const reference = imageReference(config)
  const outcome = await buildImage(reference, config, (line) => console.error(line))
  console.log(describeOutcome(outcome))
})
