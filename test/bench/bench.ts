#!/usr/bin/env -S npx tsx
// npm run bench — times the user flow on the Docker runtime against a baseline of the raw docker
// commands doing the same work, in the same process, and prints a table (stderr) and JSON (stdout).
// Targets (issue "Real Spark end to end"): warm cluster:up ≤ 3 s; every other ratio ours/baseline ≤ 1.2.
// Not a test: nothing here asserts; it measures. Needs a Docker engine (npm run ground:docker).
import { writeFileSync } from 'node:fs'
import { $ } from 'zx'
import { imageReference } from '../../scripts/build-image.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { dockerLayout, planContainer, workerPlans } from '../../scripts/lib/docker.ts'
import { loadManifests, podTemplate, publishedPorts, renderCluster, renderPiJob, uiNodePort } from '../../scripts/lib/manifests.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'
import { waitForWorkers } from '../../scripts/lib/spark-ui.ts'

const config = parseConfig('up', ['--platform', 'docker'])
const manifests = loadManifests()
const layout = dockerLayout(manifests)
const image = imageReference(config)
const uiUrl = `http://127.0.0.1:${uiNodePort(manifests)}`
const expected = (count: number) => ({ count, cores: config.workerCores, memory: config.workerMemory })
const quiet = $({ quiet: true, cwd: repoRoot })

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return (performance.now() - started) / 1000
}

const ours = (...args: string[]) => quiet({ env: { ...process.env, CI: 'true' } })`npx tsx tasks.ts ${args} --platform docker`

/** The same containers, started by hand: docker network create / run, poll the UI, spark-submit, rm. */
const baseline = {
  async up(workers: number) {
    const rendered = renderCluster(manifests, { ...config, workers, image, namespace: 'default' })
    await quiet`docker network create ${layout.network}`
    const master = planContainer(podTemplate(rendered.master), { name: layout.masterName, network: layout.network, aliases: layout.masterAliases, publish: publishedPorts(manifests), restart: true })
    await quiet`docker run ${master.runArgs}`
    await Promise.all(workerPlans(rendered.worker, layout, workers, '').map((plan) => quiet`docker run ${plan.runArgs}`))
    await waitForWorkers(uiUrl, expected(workers), { timeoutMs: 300_000 })
  },
  async pi() {
    const job = renderPiJob(manifests, { image, namespace: 'default' })
    const plan = planContainer(podTemplate(job), { name: 'spark-pi-baseline', network: layout.network, restart: false })
    const runArgs = plan.runArgs.filter((arg) => arg !== '--detach')
    await quiet`docker run --rm ${runArgs}`
  },
  async scale(from: number, to: number) {
    const rendered = renderCluster(manifests, { ...config, workers: to, image, namespace: 'default' })
    await Promise.all(workerPlans(rendered.worker, layout, to, '').slice(from).map((plan) => quiet`docker run ${plan.runArgs}`))
    await waitForWorkers(uiUrl, expected(to), { timeoutMs: 300_000 })
  },
  async down() {
    const names = (await quiet`docker ps --all --quiet --filter label=app=spark`).stdout.split('\n').filter(Boolean)
    if (names.length) await quiet`docker rm --force ${names}`
    await quiet`docker network rm ${layout.network}`
  },
}

interface Phase {
  phase: string
  ours: number
  baseline?: number
  ratio?: number
  target: string
}

async function main() {
  const reps = Number(process.env.BENCH_REPS ?? 1)
  await ours('down')
  // The image is built once up front: "cold" means no cluster, image cached.
  await quiet({ env: { ...process.env, CI: 'true' } })`npx tsx tasks.ts up --platform docker --workers 2`
  await ours('down')

  const samples: Record<string, { ours: number[]; baseline: number[] }> = {}
  const record = (phase: string, side: 'ours' | 'baseline', seconds: number) => {
    samples[phase] ??= { ours: [], baseline: [] }
    samples[phase][side].push(seconds)
    process.stderr.write(`  ${phase.padEnd(18)} ${side.padEnd(8)} ${seconds.toFixed(2)} s\n`)
  }
  for (let rep = 0; rep < reps; rep++) {
    record('cold cluster:up', 'ours', await timed(() => ours('up', '--workers', '2')))
    record('warm cluster:up', 'ours', await timed(() => ours('up', '--workers', '2')))
    record('pi', 'ours', await timed(() => ours('pi')))
    record('scale 2→4', 'ours', await timed(() => ours('scale', '4')))
    record('cluster:down', 'ours', await timed(() => ours('down')))

    record('cold cluster:up', 'baseline', await timed(() => baseline.up(2)))
    record('pi', 'baseline', await timed(() => baseline.pi()))
    record('scale 2→4', 'baseline', await timed(() => baseline.scale(2, 4)))
    record('cluster:down', 'baseline', await timed(() => baseline.down()))
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const phases: Phase[] = Object.entries(samples).map(([phase, s]) => {
    const oursMedian = median(s.ours)
    const baselineMedian = s.baseline.length ? median(s.baseline) : undefined
    return {
      phase,
      ours: Number(oursMedian.toFixed(2)),
      ...(baselineMedian ? { baseline: Number(baselineMedian.toFixed(2)), ratio: Number((oursMedian / baselineMedian).toFixed(2)) } : {}),
      target: baselineMedian ? 'ratio ≤ 1.2' : '≤ 3 s',
    }
  })
  const met = (p: Phase) => (p.ratio !== undefined ? p.ratio <= 1.2 : p.ours <= 3)
  process.stderr.write(`\n${'phase'.padEnd(18)} ${'ours s'.padStart(8)} ${'baseline s'.padStart(11)} ${'ratio'.padStart(6)}  target\n`)
  for (const p of phases) {
    process.stderr.write(`${p.phase.padEnd(18)} ${p.ours.toFixed(2).padStart(8)} ${(p.baseline?.toFixed(2) ?? '-').padStart(11)} ${(p.ratio?.toFixed(2) ?? '-').padStart(6)}  ${p.target} ${met(p) ? 'met' : 'MISSED'}\n`)
  }
  const result = { runtime: 'docker', image, reps, node: process.version, phases: phases.map((p) => ({ ...p, met: met(p) })) }
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`)
  console.log(JSON.stringify(result, null, 2))
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
