/**
 * What a worker container really holds, so its memory limit is never the thing that kills it.
 * Standalone Spark counts only executor heaps against SPARK_WORKER_MEMORY; each executor JVM also
 * needs its non-heap (and, in PySpark, its Python workers), which Spark's own rule puts at
 * max(384 MiB, 10% of the heap); and the Worker daemon is a JVM of its own.
 */

/** Spark's minimum JVM overhead and its overhead factor (spark.executor.memoryOverhead's default). */
const minimumOverheadMiB = 384
const overheadFactor = 0.1

/** Spark's rule for the memory a JVM (and its Python workers) needs beyond its heap. */
export function jvmOverheadMiB(heapMiB: number): number {
  return Math.max(minimumOverheadMiB, Math.ceil(heapMiB * overheadFactor))
}

export interface WorkerMemory {
  /** SPARK_WORKER_MEMORY: the sum of the heaps of the executors on this worker. */
  executorsMiB: number
  /** SPARK_WORKER_CORES: at most this many executors (each takes at least one core). */
  cores: number
  /** SPARK_DAEMON_MEMORY: the Worker daemon's heap. */
  daemonMiB: number
}

/**
 * The container limit: executor heaps + the most overhead they can need + the daemon's heap and
 * overhead. Overhead is largest when one executor holds nearly all the memory and every other core
 * runs a small one: max(384, 10% × memory) for the big one, 384 for each of the rest.
 */
export function workerContainerMiB({ executorsMiB, cores, daemonMiB }: WorkerMemory): number {
  const executorOverhead = minimumOverheadMiB * (cores - 1) + jvmOverheadMiB(executorsMiB)
  return executorsMiB + executorOverhead + daemonMiB + jvmOverheadMiB(daemonMiB)
}
