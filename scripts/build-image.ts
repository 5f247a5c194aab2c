#!/usr/bin/env -S npx tsx
// README step "docker build": tagged by a hash of docker/ and the build args, skipped when that tag exists.
import { createHash, type Hash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { optionSpecs, parseConfig, type Config } from './lib/config.ts'
import { imageExists } from './lib/docker/containers.ts'
import { StepError } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { dockerDir, notebookSubdir } from './lib/paths.ts'
import { run } from './lib/proc.ts'
import { hostPythonVersion } from './lib/host-python.ts'
import { baseImageFor, imagePython } from './lib/python-version.ts'

type ImageConfig = Pick<Config, 'image' | 'registry' | 'sparkVersion' | 'sparkDist' | 'baseImage' | 'python' | 'pipRequirements' | 'packages'>

/** The build context's files; Python's byte-code caches (from running pi.py locally) are not part of it. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.name !== '__pycache__')
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort()
}

/** Feeds each file's path (relative to `dir`) and content to `hash`: what a tag's hash of a build context is made of. */
export function hashFiles(hash: Hash, dir: string, files: string[]): Hash {
  for (const file of files) hash.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0')
  return hash
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
  // The notebook's files make JupyterLab's own image (scripts/lib/notebook-image.ts), not this one.
  hashFiles(hash, dir, filesUnder(dir).filter((file) => relative(dir, file).split(sep)[0] !== notebookSubdir))
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

/** Docker's words for a registry the engine cannot reach (or that sends it away), and for one that says no. */
const unreachable = /no such host|server misbehaving|i\/o timeout|connection refused|connection reset by peer|TLS handshake timeout|proxyconnect|Client\.Timeout exceeded|context deadline exceeded|network is unreachable|no route to host|toomanyrequests|x509: /
const refused = /pull access denied|manifest unknown|: not found|unauthorized/

/** The image's path on Docker Hub (library/debian:bookworm-slim), or undefined when its name starts with another registry. */
function dockerHubPath(image: string): string | undefined {
  const name = image.replace(/^((index|registry-1)\.)?docker\.io\//, '')
  if (/^([^/]*[.:][^/]*|localhost)\//.test(name)) return undefined
  return name.includes('/') ? name : `library/${name}`
}

/** Whether the failure at `lines[at]` happened pulling the base image: which step failed. */
function failedPulling(lines: readonly string[], at: number): boolean {
  // BuildKit names the image whose metadata it could not get (before v0.9: "failed to create LLB definition").
  if (/failed to resolve source metadata for|failed to create LLB definition/.test(lines[at])) return true
  // The legacy builder prints the registry's answer right after its "Step n/m : FROM …".
  const lastStep = lines.slice(0, at).reverse().find((line) => /^Step \d+\/\d+ : /.test(line))
  if (lastStep) return /^Step \d+\/\d+ : FROM /i.test(lastStep)
  // BuildKit: "#5 ERROR: …" for step #5, which loaded the base image's metadata or ran its FROM.
  const step = /^#(\d+) ERROR: /.exec(lines[at])?.[1]
  return step !== undefined && lines.some((line) => line.startsWith(`#${step} [`) && / FROM | load metadata for /.test(line))
}

/**
 * A build that failed pulling its base image, as one line naming the image and a hint with the
 * ways out; undefined for any other failure.
 */
export function basePullFailure(lines: readonly string[], baseImage: string): StepError | undefined {
  // eslint-disable-next-line no-control-regex -- the legacy builder colours its output
  const plain = lines.map((line) => line.replace(/\x1b\[[0-9;]*m/g, '').trim())
  let at = plain.length - 1
  while (at >= 0 && !unreachable.test(plain[at]) && !refused.test(plain[at])) at--
  if (at < 0 || !failedPulling(plain, at)) return undefined
  const line = plain[at]
  // Docker's reason without the request before it: `Get "https://…/v2/": dial tcp: lookup … no such host`.
  const request = /"?https?:\/\/([^/"\s]+)[^"\s]*"?: /.exec(line)
  const reason = request ? line.slice(request.index + request[0].length) : line.slice(line.search(unreachable.test(line) ? unreachable : refused))
  const message = `could not pull the base image ${baseImage}${request ? ` from ${request[1]}` : ''}: ${reason}`
  const flag = optionSpecs.find((spec) => spec.key === 'baseImage')!.flag
  if (!unreachable.test(line)) return new StepError(message, `  - check the image's name (${flag}), and \`docker login\` to its registry if it is private`)
  const hubPath = dockerHubPath(baseImage)
  const ways = [`  - pass ${flag} with this image from a registry or mirror the Docker engine reaches, like ${flag} <mirror>/${hubPath ?? baseImage.slice(baseImage.indexOf('/') + 1)}`]
  if (hubPath) ways.push('  - or give the Docker engine a mirror of Docker Hub: "registry-mirrors": ["https://<mirror>"] in its daemon.json (/etc/docker/daemon.json; Docker Desktop: Settings, Docker Engine), then restart it')
  return new StepError(message, ways.join('\n'))
}

/** How a `docker build` in docker/ ended: its exit code, its last lines, and the reason our scripts gave (if any). */
export interface BuildRun {
  exitCode: number
  recent: string[]
  reason?: string
}

/** `docker build` of docker/ (the context) tagged `reference`, with `args` (build args, --file), its lines shown as they come. */
export async function dockerBuild(reference: string, args: string[], onLine?: (line: string) => void): Promise<BuildRun> {
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
  return { exitCode: (await build).exitCode ?? 1, recent, reason }
}

/** "docker build of … failed (exit 1): <reason>", with its last lines. */
export function buildFailure(reference: string, build: BuildRun): StepError {
  return new StepError(`docker build of ${reference} failed (exit ${build.exitCode})${build.reason ? `: ${build.reason}` : ''}`, build.recent.join('\n'))
}

/** `present`: the answer to "is it there already?" when the caller asked ahead (see tasks.ts). */
export async function buildImage(reference: string, config: ImageConfig, onLine?: (line: string) => void, present: Promise<boolean> = imageExists(reference)): Promise<StepOutcome> {
  if (await present) return { skipped: `image ${reference} already present` }
  const buildArgValues = buildArgs(config)
  const args = Object.entries(buildArgValues).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`])
  const build = await dockerBuild(reference, args, onLine)
  if (build.exitCode !== 0) throw basePullFailure(build.recent, buildArgValues.BASE_IMAGE) ?? buildFailure(reference, build)
  return { done: `image ${reference} built` }
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const reference = imageReference(config)
  const outcome = await buildImage(reference, config, (line) => console.error(line))
  console.log(describeOutcome(outcome))
})
