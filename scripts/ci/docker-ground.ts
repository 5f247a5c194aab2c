/**
 * Prepares the offline Docker ground CI builds on: a running Docker engine and a Debian
 * bookworm base image made with debootstrap (CI cannot pull from Docker Hub); on request, a trixie
 * one too (Debian 13: Python 3.13). Idempotent: a second run only checks and returns.
 *
 * Run alone: `npx tsx scripts/ci/docker-ground.ts` prints the env assignments to use.
 */
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { which } from 'zx'
import { cacheDir } from '../lib/paths.ts'
import { runIfMain } from '../lib/main.ts'
import { aptInstall, ensurePackages, isRoot, processAlive, sh, startDaemon, unmountUnder, type Log } from './host.ts'

export const BASE_IMAGE = debianBase('bookworm')
const MIRROR = 'http://deb.debian.org/debian'
const HOST_CA_DIR = '/usr/local/share/ca-certificates'
const ROOTFS_PREFIX = 'debian-base-rootfs.'
type Suite = 'bookworm' | 'trixie'

/** Our stand-in for debian:<suite>-slim. */
export function debianBase(suite: Suite): string {
  return `spark-standalone-k8s/debian-base:${suite}`
}

// Imported tarballs carry no config; give the image what `debian:<suite>-slim` has, so
// Dockerfiles that use ${PATH} or rely on a default command behave the same on both.
const imageChanges = (suite: Suite) => [
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'CMD ["bash"]',
  'LABEL org.opencontainers.image.title=spark-standalone-k8s-debian-base',
  `LABEL org.opencontainers.image.description="debootstrap ${suite} minbase + host CA, for offline CI"`,
]
const aptSources = (suite: Suite) =>
  [`deb http://deb.debian.org/debian ${suite} main`, `deb http://deb.debian.org/debian ${suite}-updates main`, `deb http://deb.debian.org/debian-security ${suite}-security main`, ''].join('\n')

export type DockerGround = { baseImage: string; sparkDist: 'pypi' }

export async function ensureDockerGround(options: { log?: Log } = {}): Promise<DockerGround> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  await ensureEngine(log)
  await ensureBaseImage('bookworm', log)
  return { baseImage: BASE_IMAGE, sparkDist: 'pypi' }
}

/** The trixie base (Debian's Python 3.13), on an engine ensureDockerGround has readied; about a minute the first time. */
export async function ensureTrixieBase(log: Log): Promise<string> {
  await ensureBaseImage('trixie', log)
  return debianBase('trixie')
}

async function engineAnswers(): Promise<{ ok: boolean; stderr: string }> {
  const out = await sh({ nothrow: true, timeout: '20s' })`docker info --format '{{.ServerVersion}}'`
  return { ok: out.ok, stderr: out.stderr.trim() }
}

async function ensureEngine(log: Log): Promise<void> {
  const first = await engineAnswers()
  if (first.ok) return log('docker: engine answers')

  if (!(await which('dockerd', { nothrow: true }))) {
    if (!isRoot()) {
      throw new Error(
        'no Docker engine: install the Debian package docker.io (apt-get install -y docker.io) ' +
          'and start dockerd, or run this as root',
      )
    }
    log('docker: installing docker.io from Debian')
    await aptInstall('docker.io')
  }
  if (!isRoot()) {
    // dockerd is there but we cannot start it; the CLI's complaint says why (often the socket's permissions).
    throw new Error(`Docker engine does not answer and only root can start dockerd: ${first.stderr}`)
  }

  await startDaemon(
    { name: 'dockerd', command: 'dockerd', args: await boundedRuntimeArgs(log), logFile: cacheDir('dockerd.log'), ready: async () => (await engineAnswers()).ok },
    log,
  )
}

/** Where the runc wrapper is kept while dockerd uses it (outside the repo: a clone may go away). */
export const boundedRunc = cacheDir('runtime', 'runc-bounded')

/**
 * When root here lacks capabilities (this VM holds no CAP_SYS_RESOURCE), a privileged container,
 * which asks for all of them, cannot start: dockerd then runs containers through a runc wrapper that
 * drops what root does not hold (scripts/ci/runtime/runc-bounded). Elsewhere: plain runc.
 */
async function boundedRuntimeArgs(log: Log): Promise<string[]> {
  const bounding = await rootLacksCapabilities()
  if (!bounding) return []
  await ensurePackages(log, { jq: 'jq', 'libcap2-bin': 'capsh' })
  await mkdir(dirname(boundedRunc), { recursive: true })
  await copyFile(new URL('./runtime/runc-bounded', import.meta.url).pathname, boundedRunc)
  await chmod(boundedRunc, 0o755)
  log(`docker: root lacks some capabilities here (CapBnd ${bounding}): containers run through ${boundedRunc}`)
  return ['--add-runtime', `runc-bounded=${boundedRunc}`, '--default-runtime', boundedRuntime]
}

const boundedRuntime = 'runc-bounded'

/** Root's capability bounding set (hex) when it lacks some capability, else undefined. */
async function rootLacksCapabilities(): Promise<string | undefined> {
  const lastCap = Number((await readFile('/proc/sys/kernel/cap_last_cap', 'utf8')).trim())
  const bounding = BigInt(`0x${(await readFile('/proc/self/status', 'utf8')).match(/^CapBnd:\s*([0-9a-f]+)/m)?.[1] ?? '0'}`)
  return bounding === (1n << BigInt(lastCap + 1)) - 1n ? undefined : bounding.toString(16)
}

/** Throws when privileged containers cannot start here: root lacks capabilities and dockerd runs plain runc. */
export async function requirePrivilegedContainers(): Promise<void> {
  const bounding = await rootLacksCapabilities()
  if (!bounding) return
  const runtime = (await sh({ nothrow: true })`docker info --format {{.DefaultRuntime}}`).stdout.trim()
  if (runtime !== boundedRuntime) {
    throw new Error(`root lacks capabilities here (CapBnd ${bounding}) and dockerd runs ${runtime || 'an unknown runtime'}, so a privileged container cannot start: stop dockerd and run \`npm run ground:docker\`, which starts it with ${boundedRuntime}`)
  }
}

async function ensureBaseImage(suite: Suite, log: Log): Promise<void> {
  const image = debianBase(suite)
  const present = await sh({ nothrow: true })`docker image inspect --format '{{.Id}}' ${image}`
  if (present.ok) return log(`base image: ${image} present`)
  if (!isRoot()) {
    throw new Error(`base image ${image} is missing and building it (debootstrap, chroot) needs root`)
  }
  if (!(await which('debootstrap', { nothrow: true }))) {
    log('base image: installing debootstrap from Debian')
    await aptInstall('debootstrap')
  }

  await removeStaleRootfs()
  // Per-process names: concurrent runs never share a directory or a temporary tag, and
  // the real tag only appears once an image is complete.
  const rootfs = cacheDir(`${ROOTFS_PREFIX}${suite}.${process.pid}`)
  const tempTag = `${image}-tmp${process.pid}`
  const started = Date.now()
  try {
    await rm(rootfs, { recursive: true, force: true })
    await mkdir(rootfs, { recursive: true })
    log(`base image: debootstrap ${suite} into ${rootfs} (about a minute)`)
    await sh`debootstrap --variant=minbase --include=ca-certificates ${suite} ${rootfs} ${MIRROR}`

    // The host's extra CAs (e.g. an intercepting proxy's) so pip and curl in builds trust HTTPS.
    const cas = (await readdir(HOST_CA_DIR).catch(() => [])).filter((name) => name.endsWith('.crt'))
    for (const name of cas) await copyFile(join(HOST_CA_DIR, name), join(rootfs, HOST_CA_DIR, name))
    await sh`chroot ${rootfs} update-ca-certificates`
    log(`base image: trusted ${cas.length} host CA certificate(s)`)

    await writeFile(join(rootfs, 'etc/apt/sources.list'), aptSources(suite))
    // No host identity or package caches in the image; Docker provides these files at run time.
    await writeFile(join(rootfs, 'etc/resolv.conf'), '')
    await writeFile(join(rootfs, 'etc/hostname'), '')
    await sh`rm -rf ${rootfs}/var/lib/apt/lists/* ${rootfs}/var/cache/apt/archives/*.deb ${rootfs}/var/cache/apt/*.bin`

    log('base image: importing into Docker')
    const changes = imageChanges(suite).flatMap((change) => ['--change', change])
    await sh`tar -C ${rootfs} --numeric-owner -c . | docker import ${changes} - ${tempTag}`
    await sh`docker tag ${tempTag} ${image}`
    log(`base image: ${image} built in ${Math.round((Date.now() - started) / 1000)} s`)
  } finally {
    await sh({ nothrow: true })`docker rmi ${tempTag}`
    await removeRootfs(rootfs)
  }
}

/** Leftovers of runs that were killed: their pid is gone. */
async function removeStaleRootfs(): Promise<void> {
  const entries = await readdir(cacheDir()).catch(() => [] as string[])
  for (const name of entries) {
    if (!name.startsWith(ROOTFS_PREFIX)) continue
    const pid = Number(name.slice(name.lastIndexOf('.') + 1))
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      await removeRootfs(cacheDir(name))
    }
  }
}

/** A failed debootstrap can leave /proc or /sys mounted inside; unmount before deleting. */
async function removeRootfs(rootfs: string): Promise<void> {
  await unmountUnder(rootfs)
  await rm(rootfs, { recursive: true, force: true })
}

runIfMain(import.meta.url, async () => {
  const ground = await ensureDockerGround()
  process.stdout.write(`SPARK_K8S_BASE_IMAGE=${ground.baseImage}\nSPARK_K8S_SPARK_DIST=${ground.sparkDist}\n`)
})
