#!/usr/bin/env -S npx tsx
// README steps "kubectl get all" and "open the web UI", in one report: pods or containers, the workers
// the master has registered, and where to open the UI.
import { parseConfig } from './lib/config.ts'
import { errorMessage } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { masterUi } from './lib/master-ui.ts'
import { resolvePlatform } from './lib/platform.ts'
import type { Member } from './lib/runtime.ts'
import { s3EndpointOf } from './lib/cluster-secret.ts'
import { describeData, storageOf } from './lib/storage.ts'
import type { MasterState } from './lib/spark-ui.ts'
import { makeTarget, type Target } from './lib/target.ts'
import { describeLink, type VerifiedUi } from './verify-ui.ts'

export interface StatusReport {
  platform: string
  /** What its members are: containers or pods. */
  memberNoun: string
  /** A URL that answers from here, or the hint. */
  ui: VerifiedUi['link']
  members: Member[]
  master?: MasterState
  masterError?: string
  /** The data folder or claim the cluster mounts, in words. */
  data?: string
  /** The S3-compatible server s3a:// paths go to (never its keys). */
  s3Endpoint?: string
}

export async function clusterStatus(target: Target): Promise<StatusReport> {
  const members = await target.runtime.members()
  const running = members.some((m) => m.role === 'master') ? await target.runtime.runningMaster() : undefined
  const data = running && describeData(storageOf(running.annotations))
  const ui = masterUi(target)
  const [master, link, conf] = await Promise.all([
    ui.readState().catch((error: unknown) => new Error(errorMessage(error))),
    ui.link(),
    running?.image ? target.runtime.authConf(running.image).catch(() => undefined) : undefined,
  ])
  const s3Endpoint = conf && s3EndpointOf(conf)
  const report = { platform: target.platform, memberNoun: target.runtime.memberNoun, ui: link, members, data, s3Endpoint }
  return master instanceof Error ? { ...report, masterError: master.message } : { ...report, master }
}

export function formatStatus(report: StatusReport): string {
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
  lines.push('', 'workers registered with the master:')
  if (report.master) {
    lines.push(`  master ${report.master.status}, ${report.master.aliveworkers} alive`)
    lines.push(...report.master.workers.map((w) => `  ${w.id.padEnd(40)} ${w.state.padEnd(6)} ${w.cores} cores ${w.memory} MiB`))
  } else {
    lines.push(`  (master UI not answering: ${report.masterError})`)
  }
  return lines.join('\n')
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('status', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(formatStatus(await clusterStatus(makeTarget(config, platform))))
})
