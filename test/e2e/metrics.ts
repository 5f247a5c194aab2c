// What a real Prometheus must see of a cluster during a job, on either runtime: the master's alive
// workers, the running application, every worker's executors, and the job's completed tasks rising
// between two scrapes of the driver's executors endpoint.
import { expect } from 'vitest'
import { pollUntil } from '../../scripts/lib/poll.ts'
import type { RunningPrometheus } from './prometheus.ts'

/** The scrape paths of each Spark process, as spark-defaults.conf sets them (trailing slash: no redirect). */
export const scrapePaths = {
  master: ['/metrics/master/prometheus/', '/metrics/applications/prometheus/'],
  worker: ['/metrics/prometheus/'],
  driver: ['/metrics/prometheus/', '/metrics/executors/prometheus/'],
}

const single = async (prometheus: RunningPrometheus, expr: string) => {
  const samples = await prometheus.query(expr)
  return samples.length === 1 ? samples[0].value : undefined
}

export async function expectJobMetrics(prometheus: RunningPrometheus, expected: { workers: number; appId: string; appName: string }): Promise<void> {
  // The master's own instance: its alive workers and running applications.
  expect(await single(prometheus, 'metrics_master_aliveWorkers_Value')).toBe(expected.workers)
  expect(await single(prometheus, 'metrics_master_apps_Value')).toBeGreaterThanOrEqual(1)
  // The master's applications instance: one gauge set per running application, named after it.
  // (Spark's PrometheusServlet turns what is not a letter, digit or _ into _.)
  const cores = await prometheus.query(`{__name__=~"metrics_application_${expected.appName.replace(/[^a-zA-Z0-9_]/g, '_')}_[0-9]+_cores_Value"}`)
  expect(cores.map((sample) => sample.value)).toEqual([expect.any(Number)])
  expect(cores[0].value).toBeGreaterThanOrEqual(1)
  // Each worker's own instance: together they run the application's executors.
  expect(await prometheus.query('metrics_worker_executors_Value')).toHaveLength(expected.workers)
  expect(await single(prometheus, 'sum(metrics_worker_executors_Value)')).toBeGreaterThanOrEqual(1)
  // The driver's executors endpoint: completed tasks, rising from one scrape to a later one.
  const completed = `sum(metrics_executor_completedTasks_total{application_id="${expected.appId}", executor_id!="driver"})`
  const first = await pollUntil<number>('a completed task in the scrapes', 120_000, async () => {
    const value = await single(prometheus, completed)
    return value && value > 0 ? { done: value } : { waiting: `completed tasks ${value ?? 'not scraped yet'}` }
  })
  await pollUntil<number>(`completed tasks above ${first}`, 120_000, async () => {
    const value = (await single(prometheus, completed)) ?? 0
    return value > first ? { done: value } : { waiting: `completed tasks ${value}` }
  })
  // The driver's own instance, named after the application id.
  expect(await prometheus.query(`{__name__="metrics_${expected.appId.replace(/-/g, '_')}_driver_DAGScheduler_job_activeJobs_Value"}`)).toHaveLength(1)
}
