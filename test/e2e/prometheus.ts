// A real Prometheus (Debian's, test/e2e/prometheus-ground.ts) run by a test: its own config and
// storage in a temp dir, on a free loopback port, asked through its HTTP API.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { stringify } from 'yaml'
import { pollUntil } from '../../scripts/lib/poll.ts'
import { groundReady } from '../background-ground.ts'

export interface Sample {
  metric: Record<string, string>
  value: number
}

export interface Target {
  labels: Record<string, string>
  scrapeUrl: string
  health: 'up' | 'down' | 'unknown'
  lastError: string
}

export interface RunningPrometheus {
  url: string
  query(expr: string): Promise<Sample[]>
  targets(): Promise<Target[]>
  /** Until every target is up and has been scraped; the targets then. */
  allUp(timeoutMs: number, atLeast: number): Promise<Target[]>
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Starts Prometheus scraping every 1 s with these scrape configs. */
export async function startPrometheus(scrapeConfigs: object[]): Promise<RunningPrometheus> {
  const ground = inject('prometheus')
  if (ground.statusFile) await groundReady(ground.statusFile, "Debian's prometheus")
  const dir = mkdtempSync(join(tmpdir(), 'ssk8s-prometheus-'))
  writeFileSync(join(dir, 'prometheus.yml'), stringify({ global: { scrape_interval: '1s', scrape_timeout: '1s' }, scrape_configs: scrapeConfigs }))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let log = ''
  const child = spawn(ground.binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', (chunk: Buffer) => (log += chunk))
  child.stderr.on('data', (chunk: Buffer) => (log += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`)
    const body = (await response.json()) as { status: string; data: T; error?: string }
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`)
    return body.data
  }
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await pollUntil<true>('prometheus to be ready', 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${log.slice(-2000)}`)
      const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)
      return ready ? { done: true } : { waiting: 'not ready' }
    })
  } catch (error) {
    await stop()
    throw error
  }
  const targets = async () => (await api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets
  return {
    url,
    query: async (expr) => {
      const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
    },
    targets,
    allUp: (timeoutMs, atLeast) =>
      pollUntil<Target[]>(`${atLeast} scrape targets up`, timeoutMs, async () => {
        const all = await targets()
        const notUp = all.filter((t) => t.health !== 'up')
        if (all.length >= atLeast && notUp.length === 0) return { done: all }
        return { waiting: `${all.length - notUp.length} of ${Math.max(all.length, atLeast)} up${notUp[0] ? `; ${notUp[0].scrapeUrl}: ${notUp[0].health} ${notUp[0].lastError}` : ''}` }
      }),
    stop,
  }
}
