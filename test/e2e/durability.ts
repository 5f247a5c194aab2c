// What the durability tests share on both runtimes: a job that runs for a while and shuffles
// (apps/durable.py), the memory stress app (apps/stress.py), and what their output must say.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { pollUntil } from '../../scripts/lib/poll.ts'
import type { RunningCli } from './cli.ts'

const apps = join(import.meta.dirname, 'apps')

/** N map tasks of 4 s, a shuffle, N reduce tasks of 4 s: 12 run ≥ 48 s on two one-core workers. */
export const durableArgs = (partitions: number) => [join(apps, 'durable.py'), String(partitions), '4']

/** The same job as one notebook cell: the kernel's `spark` is what its getOrCreate returns, and its stop() ends the kernel's application. */
export function durableCell(partitions: number): string {
  const [file, ...args] = durableArgs(partitions)
  return `import sys\nsys.argv = ${JSON.stringify(['durable.py', ...args])}\n${readFileSync(file, 'utf8')}`
}

/** Cache 1200 MiB over the executors (1g each, 80% of the heap for Spark) and run Python UDFs beside it. */
export const stressArgs = [
  '--conf', 'spark.executor.memory=1g',
  '--conf', 'spark.memory.fraction=0.8',
  // Sample executor memory every 100 ms, not only at each 10 s heartbeat: the peak is the point.
  '--conf', 'spark.executor.metrics.pollingInterval=100ms',
  join(apps, 'stress.py'), '1200',
]

/**
 * `status --json` during a running durable.py, its only driver: it lists the application RUNNING with
 * the cores the workers say are in use, its memory per executor, and its driver with it.
 */
export function expectDurableInStatus(status: Record<string, any> | undefined) {
  expect(status, 'status --json printed no JSON').toBeDefined()
  const app = status!.applications.find((a: { name: string }) => a.name === 'durable')
  const inUse = status!.workers.reduce((sum: number, w: { coresUsed: number }) => sum + w.coresUsed, 0)
  // Dynamic allocation (the drivers' default): an executor of a worker's cores per pending task
  // beyond what it has, so while every core is taken it is short of the rest, and says so.
  const cores = status!.workers[0].cores
  expect(app).toMatchObject({ state: 'RUNNING', coresGranted: inUse, memoryPerExecutorMiB: 512, coresPerExecutor: cores, user: expect.any(String), durationMs: expect.any(Number) })
  // Its 8 tasks want more cores than the workers have (what an elastic range would add workers for).
  expect(app.coresWanted).toBeGreaterThan(0)
  expect(app.executors.target).toBeGreaterThan(app.executors.current)
  expect(inUse).toBeGreaterThan(0)
  const free = status!.workers.reduce((sum: number, w: { coresFree: number }) => sum + w.coresFree, 0)
  if (app.coresWanted > 0 && free === 0) expect(app.waiting).toMatch(new RegExp(`^wants ${cores} cores? × 512 MiB per executor; no worker has them \\(most free on a worker: 0 cores, `))
  else expect(app.waiting).toBeUndefined()
  expect(status!.drivers).toEqual([expect.objectContaining({ role: 'driver', applications: [app.id] })])
}

/** Resolves once the running command's output (stdout or stderr) matches. */
export async function waitForOutput(running: RunningCli, pattern: RegExp, timeoutMs: number): Promise<void> {
  let exited: number | null | undefined
  void running.exit.then((code) => (exited = code))
  await pollUntil<true>(`output matching ${pattern}`, timeoutMs, async () => {
    const { stdout, stderr } = running.output()
    if (pattern.test(`${stdout}${stderr}`)) return { done: true }
    if (exited !== undefined) throw new Error(`the command exited ${exited} before printing ${pattern}: ${stderr.slice(-2000)}`)
    return { waiting: 'not yet' }
  })
}

/** The job ran to the end (exit 0) and every partition counted exactly once. */
export function expectDurableResult(exitCode: number | null, output: { stdout: string; stderr: string }, partitions: number): void {
  expect(exitCode, output.stderr.slice(-3000)).toBe(0)
  const rows = partitions * 1000
  expect(output.stdout).toContain(`RESULT ${(rows * (rows - 1)) / 2}`)
}

/**
 * The scaled-away executors were decommissioned, as the driver log says, and none was lost. (When
 * they exit before the job ends the log also says "Executor N on … is decommissioned after …";
 * on Kubernetes, where scale returns at once, the job may end first.)
 */
export function expectDecommissioned(output: { stdout: string; stderr: string }): void {
  const log = `${output.stdout}${output.stderr}`
  expect(log).toMatch(/Executor app-\S+ decommissioned: ExecutorDecommissionInfo\(worker decommissioned/)
  expect(log).not.toMatch(/Lost executor/)
}

/** The stress app's answer is right, no executor died under it, and some executor's heap was at least 80% full. */
export function expectStressed(stdout: string, stderr: string): number {
  expect(stdout).toContain(`RESULT ${2 * ((40_000 * 39_999) / 2)}`)
  // An OOM kill of one process (an executor JVM or a Python worker) leaves the container running.
  expect(`${stdout}${stderr}`).not.toMatch(/Lost executor|ExecutorLostFailure/)
  const fraction = Number(/HEAP_PEAK_FRACTION (\S+)/.exec(stdout)?.[1])
  expect(fraction).toBeGreaterThanOrEqual(0.8)
  return fraction
}
