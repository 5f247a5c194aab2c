// Elastic workers (`cluster:up --workers MIN..MAX`): the worker count follows demand, set by a
// controller in the cluster (manifests/elastic/). What every runtime shares: the flags' forms, the
// count cluster:up starts from, and what `status` says of the controller.
import { UsageError } from './errors.ts'

export interface WorkerRange {
  min: number
  max: number
}

/** What `status` reports of a running controller: its range, idle time and last decisions. */
export interface ElasticStatus extends WorkerRange {
  idleSeconds: number
  /** Its Events, oldest first. */
  events: ElasticEvent[]
}

export interface ElasticEvent {
  /** WorkerAdded, WorkerRemoved, CannotServe. */
  reason: string
  /** Normal or Warning. */
  type: string
  /** A whole sentence, shown as it is. */
  message: string
  /** When it last happened (ISO 8601). */
  time: string
}

export const maxWorkers = 64
export const workersForm = `N or MIN..MAX (1..${maxWorkers})`

/** --workers: a fixed count N, or a range MIN..MAX the controller keeps the count inside. */
export function parseWorkers(raw: string, flag: string): number | WorkerRange {
  const match = /^(\d+)(?:\.\.(\d+))?$/.exec(raw)
  const [min, max] = match ? [Number(match[1]), Number(match[2] ?? match[1])] : [0, 0]
  if (!match || min < 1 || max > maxWorkers || min > max) {
    // A value that looks like no range gets the fixed count's message (the README quotes it).
    if (!raw.includes('..')) throw new UsageError(`${flag} must be a whole number from 1 to ${maxWorkers} (got "${raw}")`)
    throw new UsageError(`${flag} must be a range MIN..MAX like 1..6 with 1 ≤ MIN ≤ MAX ≤ ${maxWorkers}, or a whole number from 1 to ${maxWorkers} (got "${raw}")`)
  }
  return match[2] === undefined ? min : { min, max }
}

export const idleForm = 'a duration like 90s, 2m or 1m30s (10s..24h)'

/** --worker-idle: how long a worker runs no executor before the controller removes it. */
export function parseIdle(raw: string, flag: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(raw)
  const seconds = match ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0) : 0
  if (!match || raw === '' || seconds < 10 || seconds > 24 * 3600) throw new UsageError(`${flag} must be ${idleForm} (got "${raw}")`)
  return seconds
}

/** 90 → "90s", 120 → "2m", 3600 → "1h": as the flag would say it. */
export function formatIdle(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`
}

/** "1..6 (idle 2m)" */
export function describeRange(range: WorkerRange, idleSeconds: number): string {
  return `${range.min}..${range.max} (idle ${formatIdle(idleSeconds)})`
}

/**
 * The count cluster:up applies with a range: the one running when it is inside (what the controller
 * chose stays), else the nearer end; MIN for a new cluster.
 */
export function workersInRange(live: number | undefined, range: WorkerRange): number {
  return Math.min(range.max, Math.max(range.min, live ?? range.min))
}

/** What scale and cluster:up say when they end a range. */
export function describeEndedRange(range: WorkerRange, workers: number): string {
  return `elastic range ${range.min}..${range.max} ended: fixed at ${workers} workers`
}
