#!/usr/bin/env -S npx tsx
// README step "minikube start". A new profile is sized to what the pods request, within what the
// machine that really hosts it has (the Docker engine for the docker/podman drivers); an existing
// profile is read and never re-sized (minikube would only warn), and refused before anything starts
// when the cluster cannot fit in it.
import { cpus, totalmem } from 'node:os'
import { clusterRequests, formatRoom, requireRoom, total, type Room } from './lib/capacity.ts'
import { parseConfig, type Config } from './lib/config.ts'
import { StepError } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { loadManifests, type ClusterManifests } from './lib/manifests.ts'
import { isRunning, minikubeDataPath, minikubeMountArgs, minikubeStatus, readProfile } from './lib/kube/minikube.ts'
import { run } from './lib/proc.ts'

type StartConfig = Pick<Config, 'profile' | 'workers' | 'workerCores' | 'workerMemory' | 'data'>

/** Room asked for on top of what our pods request, when sizing a new profile: Kubernetes, the OS, slack. */
const reserve: Room = { cpu: 1, memoryMiB: 2048 }
/** What minikube's own pods request (kubeadm's control plane and CoreDNS: 0.75 CPU, 170 MiB), rounded up: what a profile's node has less. */
export const controlPlane: Room = { cpu: 0.75, memoryMiB: 256 }
/** minikube refuses less than this. */
const minikubeMinimum: Room = { cpu: 2, memoryMiB: 1800 }

/** What can host the node: for the docker/podman drivers the engine's own CPUs and memory (Docker Desktop's VM, say), else this machine. */
export interface HostRoom extends Room {
  what: string
}

/** The driver a new profile would get: `minikube config get driver`, else minikube's own first choice, Docker when its engine answers. */
export async function driverForNewProfile(): Promise<string | undefined> {
  const configured = await run({ nothrow: true })`minikube config get driver`
  if (configured.exitCode === 0 && configured.stdout.trim()) return configured.stdout.trim()
  return (await run({ nothrow: true, timeout: 15_000 })`docker info --format ${'{{.ID}}'}`).exitCode === 0 ? 'docker' : undefined
}

export async function hostRoom(driver: string | undefined): Promise<HostRoom> {
  if (driver === 'docker') {
    const info = JSON.parse((await run`docker info --format ${'{{json .}}'}`).stdout) as { NCPU: number; MemTotal: number }
    return { what: 'the Docker engine', cpu: info.NCPU, memoryMiB: Math.floor(info.MemTotal / 1024 ** 2) }
  }
  if (driver === 'podman') {
    const info = JSON.parse((await run`podman info --format json`).stdout) as { host: { cpus: number; memTotal: number } }
    return { what: 'the Podman machine', cpu: info.host.cpus, memoryMiB: Math.floor(info.host.memTotal / 1024 ** 2) }
  }
  return { what: 'this machine', cpu: cpus().length, memoryMiB: Math.floor(totalmem() / 1024 ** 2) }
}

/**
 * CPUs and memory for a new profile: what the pods request (workers, master, one Pi driver) plus
 * the reserve, capped at the host less 1 GiB for its own use (minikube warns past that).
 */
export function minikubeSize(manifests: ClusterManifests, config: Omit<StartConfig, 'profile'>, host: Room): Room {
  const wanted = total([...clusterRequests(manifests, config), reserve])
  return {
    cpu: Math.max(minikubeMinimum.cpu, Math.min(host.cpu, Math.ceil(wanted.cpu))),
    memoryMiB: Math.max(minikubeMinimum.memoryMiB, Math.min(host.memoryMiB - 1024, Math.ceil(wanted.memoryMiB))),
  }
}

/**
 * The folder as minikube's --mount-string takes it: it splits the string at ':' and knows a Windows
 * drive only by its upper-case letter (pkg/drivers/kic/oci ParseMountString), so any other ':' is refused.
 */
export function minikubeHostPath(folder: string): string {
  const path = folder.replace(/^([a-z]):\\/, (_, drive: string) => `${drive.toUpperCase()}:\\`)
  if (path.replace(/^[A-Z]:\\/, '').includes(':')) throw new StepError(`--data ${folder}: minikube's --mount-string cannot carry a folder whose name holds ':'`, '  - rename the folder, or link it from a name without one')
  return path
}

export async function startMinikube(config: StartConfig, manifests = loadManifests()): Promise<StepOutcome> {
  const { profile } = config
  // An invalid profile (a start that failed before saving its config) is started like a new one.
  const existing = await readProfile(profile)
  // --data: the node mounts the folder, which minikube fixes when it creates a profile (the docker driver binds it into the node).
  const mountString = config.data ? `${minikubeHostPath(config.data)}:${minikubeDataPath}` : undefined
  if (existing?.valid) {
    if (mountString && existing.mountString !== mountString) {
      throw new StepError(
        `minikube profile ${profile} was created ${existing.mountString ? `with --mount-string ${existing.mountString}` : 'without a data folder'}, and minikube cannot change a profile's mount`,
        `  - recreate it with this folder: \`minikube delete -p ${profile}\`, then \`npm run cluster:up -- --data ${config.data}\`\n  - or use another profile: --profile <name>`,
      )
    }
    const size = `${existing.cpus} CPUs / ${existing.memoryMiB} MiB`
    // A profile made with --cpus/--memory=no-limit says 0: then only the node itself can tell (the room check).
    if (existing.cpus > 0 && existing.memoryMiB > 0) {
      requireRoom(manifests, config, [{ cpu: existing.cpus - controlPlane.cpu, memoryMiB: existing.memoryMiB - controlPlane.memoryMiB }], `minikube profile ${profile} (${size})`,
        `or recreate the profile at the size this cluster needs (minikube never resizes one): \`minikube delete -p ${profile}\`, then \`npm run cluster:up\``)
    }
    if (isRunning(await minikubeStatus(profile))) return { skipped: `minikube profile ${profile} already running (${size})` }
    // No --cpus/--memory: minikube keeps a profile's size, and for the docker driver it would
    // still refuse values above what the engine has now.
    await run`minikube start -p ${profile}`
    return { done: `minikube profile ${profile} started (${size}, as created)` }
  }
  const driver = await driverForNewProfile()
  const host = await hostRoom(driver)
  if (host.cpu < minikubeMinimum.cpu || host.memoryMiB - 1024 < minikubeMinimum.memoryMiB) {
    throw new StepError(
      `${host.what} has ${formatRoom(host)}; minikube needs at least ${minikubeMinimum.cpu} CPUs and ${minikubeMinimum.memoryMiB} MiB plus 1 GiB left to the host`,
      driver === 'docker' ? '  - give Docker more CPUs and memory (Docker Desktop: Settings → Resources), then run `npm run cluster:up` again' : undefined,
    )
  }
  const size = minikubeSize(manifests, config, host)
  requireRoom(manifests, config, [{ cpu: size.cpu - controlPlane.cpu, memoryMiB: size.memoryMiB - controlPlane.memoryMiB }],
    `a new minikube profile of ${size.cpu} CPUs / ${size.memoryMiB} MiB (as much as ${host.what} can give)`,
    driver === 'docker' ? 'or give Docker more CPUs and memory (Docker Desktop: Settings → Resources)' : `or free CPUs and memory on ${host.what}`)
  await run`minikube start -p ${profile} --cpus ${size.cpu} --memory ${`${size.memoryMiB}mb`} ${mountString ? minikubeMountArgs(mountString) : []}`
  const mounted = config.data ? `, mounting ${config.data}` : ''
  return { done: `minikube profile ${profile} created (${size.cpu} CPUs / ${size.memoryMiB} MiB${driver ? `, driver ${driver}` : ''}${mounted}; ${host.what} has ${formatRoom(host)})` }
}

runIfMain(import.meta.url, async () => {
  const outcome = await startMinikube(parseConfig('up', process.argv.slice(2)))
  console.log(describeOutcome(outcome))
})
