#!/usr/bin/env -S npx tsx
// README steps "kubectl get all" and "open the web UI", in one report: pods or containers, the
// applications the master knows with what they have and still want, its workers' used and free
// cores and memory, the drivers the tool started, and where to open the UI.
import { parseConfig } from './lib/config.ts'
import { driverRoles } from './lib/manifests.ts'
import { errorMessage } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { masterUi } from './lib/master-ui.ts'
import { resolvePlatform } from './lib/platform.ts'
import type { Member } from './lib/runtime.ts'
import { s3EndpointOf } from './lib/cluster-secret.ts'
import { formatIdle, type ElasticStatus } from './lib/elastic.ts'
import { elasticWorkers, runsElastic } from './elastic.ts'
import { describeData, storageOf } from './lib/storage.ts'
import type { AppState, MasterState } from './lib/spark-ui.ts'
import { plural, readDemand, type AppDemand } from './lib/demand.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { describeLink, type VerifiedUi } from './verify-ui.ts'

export interface StatusReport {
  platform: string
  /** What its members are: containers or pods. */
  memberNoun: string
  /** A URL that answers from here, or the hint. */
  ui: VerifiedUi['link']
  members: Member[]
  master?: { url: string; status: string; aliveworkers: number }
  masterError?: string
  /** Each worker the master has, but those gone (DEAD): cores and MiB, used and free. */
  workers?: WorkerUse[]
  /** The master's active applications: what each has and still wants. */
  applications?: AppDemand[]
  /** The last few that ended, newest first. */
  completedApplications?: CompletedApp[]
  /** The drivers the tool started (pi, submit, shell, the Connect server, JupyterLab's kernels) and the applications they run. */
  drivers?: DriverMember[]
  /** The data folder or claim the cluster mounts, in words. */
  data?: string
  /** The S3-compatible server s3a:// paths go to (never its keys). */
  s3Endpoint?: string
  /** Elastic workers: the range its controller keeps, its idle time and last decisions (absent: a fixed count). */
  elastic?: ElasticStatus
  /** Why the controller could not be read (it may still run). */
  elasticError?: string
}

export interface WorkerUse {
  id: string
  state: string
  cores: number
  coresUsed: number
  coresFree: number
  memoryMiB: number
  memoryUsedMiB: number
  memoryFreeMiB: number
}

/** An ended application: what the master still tells of it. */
export type CompletedApp = Pick<AppDemand, 'id' | 'name' | 'user' | 'state' | 'startTime' | 'durationMs'>

export interface DriverMember {
  name: string
  role: string
  state: string
  /** The active applications whose driver advertises this member's address. */
  applications: string[]
}

const completedShown = 5

export async function clusterStatus(target: Target): Promise<StatusReport> {
  const members = await target.runtime.members()
  const running = members.some((m) => m.role === 'master') ? await target.runtime.runningMaster() : undefined
  const data = running && describeData(storageOf(running.annotations))
  const ui = masterUi(target)
  const [master, link, conf, elastic] = await Promise.all([
    ui.readState().catch((error: unknown) => new Error(errorMessage(error))),
    ui.link(),
    running?.image ? target.runtime.authConf(running.image).catch(() => undefined) : undefined,
    runsElastic(target) ? elasticWorkers(target).read().catch((error: unknown) => new Error(errorMessage(error))) : undefined,
  ])
  const s3Endpoint = conf && s3EndpointOf(conf)
  const report = { platform: target.platform, memberNoun: target.runtime.memberNoun, ui: link, members, data, s3Endpoint, ...(elastic instanceof Error ? { elasticError: elastic.message } : elastic ? { elastic } : {}) }
  if (master instanceof Error) return { ...report, masterError: master.message }
  return { ...report, ...masterSide(master, await readDemand(master, ui.get), members, driverRoles(target.manifests)) }
}

/** What the master's /json/ and the drivers (the members of `rolesWithDrivers`) say, in the report's words. */
export function masterSide(master: MasterState, applications: AppDemand[], members: Member[], rolesWithDrivers: string[]): Pick<StatusReport, 'master' | 'workers' | 'applications' | 'completedApplications' | 'drivers'> {
  // A worker that left stays in the master's list as DEAD for a while, with the figures it last had.
  const workers = master.workers.filter((w) => w.state !== 'DEAD').map((w) => ({ id: w.id, state: w.state, cores: w.cores, coresUsed: w.coresused, coresFree: w.coresfree, memoryMiB: w.memory, memoryUsedMiB: w.memoryused, memoryFreeMiB: w.memoryfree }))
  const completed = [...master.completedapps].sort((a, b) => b.starttime - a.starttime).slice(0, completedShown).map(completedApp)
  const drivers = members
    .filter((m) => rolesWithDrivers.includes(m.role))
    .map((m) => ({ name: m.name, role: m.role, state: m.state, applications: applications.filter((app) => app.driverHost && m.addresses?.includes(app.driverHost)).map((app) => app.id) }))
  return { master: { url: master.url, status: master.status, aliveworkers: master.aliveworkers }, workers, applications, completedApplications: completed, drivers }
}

function completedApp(app: AppState): CompletedApp {
  return { id: app.id, name: app.name, user: app.user, state: app.state, startTime: app.starttime, durationMs: app.duration }
}

export function formatStatus(report: StatusReport, now: number = Date.now()): string {
  const lines = [`platform: ${report.platform}`, `master UI: ${describeLink(report.ui)}`, '', `${report.memberNoun}:`]
  lines.push(...(report.members.length ? report.members.map((m) => `  ${m.name.padEnd(34)} ${m.role.padEnd(7)} ${m.state.padEnd(9)} ${m.detail}`) : ['  (none)']))
  const connect = report.members.find((m) => m.role === 'connect')
  if (connect) lines.push('', `Spark Connect server: ${connect.name} ${connect.state} (\`npm run connect\` prints how to connect)`)
  const history = report.members.find((m) => m.role === 'history')
  lines.push('', history ? `History Server: ${history.name} ${history.state} (\`npm run history\` serves it on http://localhost:18080)` : 'History Server: not started (`npm run history` starts it and serves it on http://localhost:18080)')
  const notebook = report.members.find((m) => m.role === 'notebook')
  lines.push(notebook ? `JupyterLab: ${notebook.name} ${notebook.state} (\`npm run notebook\` serves it and prints its URL with the token)` : 'JupyterLab: not started (`npm run notebook` starts it)')
  if (report.data) lines.push(`your data: ${report.data} (cluster:down never deletes it)`)
  if (report.s3Endpoint) lines.push(`S3: s3a:// paths go to ${report.s3Endpoint} (its keys are in the spark-auth secret)`)
  if (report.elastic) lines.push('', ...formatElastic(report.elastic, report.members, now))
  if (report.elasticError) lines.push('', `elastic workers: cannot read the controller (${report.elasticError})`)
  lines.push('', 'workers registered with the master:')
  if (!report.master) {
    lines.push(`  (master UI not answering: ${report.masterError})`)
    return lines.join('\n')
  }
  lines.push(`  master ${report.master.status}, ${report.master.aliveworkers} alive`)
  lines.push(...(report.workers ?? []).map((w) => `  ${w.id.padEnd(40)} ${w.state.padEnd(6)} cores ${w.coresUsed} used, ${w.coresFree} free of ${w.cores}; memory ${w.memoryUsedMiB} MiB used, ${w.memoryFreeMiB} MiB free of ${w.memoryMiB}`))
  lines.push('', 'applications:')
  const applications = report.applications ?? []
  lines.push(...(applications.length ? applications.flatMap(formatApplication) : ['  (none running or waiting)']))
  const completed = report.completedApplications ?? []
  if (completed.length) lines.push('', 'recently ended:', ...completed.map((app) => `  ${app.id} ${app.name} ${app.state} by ${app.user} after ${formatDuration(app.durationMs)}`))
  const drivers = report.drivers ?? []
  lines.push('', 'drivers the tool started:')
  lines.push(...(drivers.length ? drivers.map((d) => `  ${d.name.padEnd(34)} ${d.role.padEnd(8)} ${d.state.padEnd(9)} ${d.applications.join(', ') || '(no application now)'}`) : ['  (none)']))
  return lines.join('\n')
}

/** The range, the controller's pod and its last decisions, newest last, each with its age. */
function formatElastic(elastic: ElasticStatus, members: Member[], now: number): string[] {
  const pod = members.find((m) => m.role === 'autoscaler')
  const controller = pod ? `${pod.name} ${pod.state} (${pod.detail})` : 'no pod running'
  const head = `elastic workers: ${elastic.min}..${elastic.max}, a worker idle for ${formatIdle(elastic.idleSeconds)} is removed; controller ${controller}`
  const events = elastic.events.map((event) => `  ${`${formatDuration(Math.max(0, now - Date.parse(event.time)))} ago`.padEnd(16)} ${event.reason.padEnd(13)} ${event.message}`)
  return [head, ...(events.length ? events : ['  (no worker added or removed in the Events the API server keeps: the last hour by default)'])]
}

function formatApplication(app: AppDemand): string[] {
  const perExecutor = `${app.coresPerExecutor === null ? 'all free cores of a worker' : plural(app.coresPerExecutor, 'core')} × ${app.memoryPerExecutorMiB} MiB per executor`
  const head = `  ${app.id} ${app.name} ${app.state} by ${app.user} for ${formatDuration(app.durationMs)}: ${plural(app.coresGranted, 'core')} granted, ${formatWanted(app)}; ${perExecutor}`
  return [head, ...(app.waiting ? [`    ${app.state === 'WAITING' ? 'waiting' : 'short'}: ${app.waiting}`] : [])]
}

function formatWanted(app: AppDemand): string {
  // Its driver's REST API answers 404 until the application has started, a moment after the master knows it.
  if (app.coresWanted === undefined) return `still wants: not known (asking its driver: ${app.driverError})`
  if (app.coresWanted === null) return 'takes every core that comes free (no spark.cores.max)'
  const executors = app.executors ? ` (dynamic allocation: ${app.executors.current} of ${app.executors.target} executors)` : ''
  return `wants ${app.coresWanted} more${executors}`
}

/** 42 s, 3 min 5 s, 2 h 7 min. */
function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`
  return `${Math.floor(seconds / 3600)} h ${Math.floor(seconds / 60) % 60} min`
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('status', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(formatStatus(await clusterStatus(makeTarget(config, platform))))
})
