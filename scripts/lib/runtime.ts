// What differs between the runtimes a cluster runs on, behind one interface the steps call: one
// home per runtime (scripts/lib/docker/runtime.ts, scripts/lib/kube/runtime.ts), chosen once, in
// makeTarget. A step asks `target.runtime` and never which runtime it is.
import type { V1Job, V1Pod } from '@kubernetes/client-node'
import type { DeletableRole } from './config.ts'
import type { DriverOptions, DriverRun } from './driver.ts'
import type { ElasticStatus, WorkerRange } from './elastic.ts'
import type { ClusterShape } from './manifests.ts'
import type { MasterUi } from './master-ui.ts'
import type { StepOutcome } from './outcome.ts'
import type { ClusterServer, ServerSpec } from './server.ts'
import type { ClusterStorage } from './storage.ts'
import type { ExpectedWorkers } from './spark-ui.ts'

export type RoomShape = Pick<ClusterShape, 'workers' | 'workerCores' | 'workerMemory'>

export type ScaleOutcome = StepOutcome & { expected: ExpectedWorkers }

/** The image made visible to the cluster, and the reference its pods run it by (pinned where the runtime can). */
export type PublishedImage = StepOutcome & { image: string }

/** Elastic workers' controller (manifests/elastic/) on a runtime that can run one in the cluster. */
export interface ElasticWorkers {
  /** The worker Deployment's replicas now (undefined: there is none yet). */
  liveWorkers(): Promise<number | undefined>
  /** Creates or updates the controller for this range, leaving it alone when it matches. */
  apply(image: string, range: WorkerRange, idleSeconds: number): Promise<StepOutcome>
  /** Removes the controller, and waits until its pod is gone; the range it kept (undefined: there was none). */
  end(): Promise<WorkerRange | undefined>
  /** The running controller's range, idle time and Events (undefined: none runs). */
  read(): Promise<ElasticStatus | undefined>
}

/** A master, worker, Connect server or driver, as `status` lists it. */
export interface Member {
  name: string
  role: string
  state: string
  detail: string
  /** The addresses a driver here may advertise (its spark.driver.host): how `status` tells its applications. */
  addresses?: string[]
}

export interface Runtime {
  /** The cluster in words, for messages. */
  readonly name: string
  /**
   * What the cluster really is, however the user named it: the key of the lock that has commands take
   * turns on it (scripts/lib/cluster-lock.ts). Two spellings of one engine's socket, or two contexts of
   * one cluster, are one key.
   */
  lockKey(): Promise<string>
  /** What a cluster's members are on this runtime: "containers" or "pods". */
  readonly memberNoun: string
  /** What a PersistentVolumeClaim of the manifests is here, for messages: "volume" (Docker's) or "claim". */
  readonly claimNoun: string
  /** The most a submit's files may weigh in all here, and what holds them (for the message). */
  readonly submitFiles: { limit: number; holder: string }
  /**
   * Makes the built image visible to the cluster (a registry push, `minikube image load`, nothing); what
   * the pods run. `builtOn`: the cluster image it was built on (JupyterLab's), whose way it then goes.
   */
  publishImage(reference: string, builtOn?: string): Promise<PublishedImage>
  /** Whether the pods' requests fit, said with the numbers before anything changes. */
  checkRoom(shape: RoomShape): Promise<StepOutcome>
  /**
   * What --data / --data-claim ask for, checked (a missing folder or claim, one this runtime cannot
   * mount) and made ready for the Spark user before anything changes; where the event logs go.
   */
  prepareStorage(): Promise<{ storage: ClusterStorage; note?: string }>
  /** Creates or updates the cluster (its secret, master, `workers` workers) to run `image`, leaving what matches alone. */
  apply(image: string, storage: ClusterStorage, workers: number): Promise<StepOutcome>
  /**
   * What a Prometheus needs beyond the pods' own prometheus.io annotations: the Prometheus Operator's
   * PodMonitors on Kubernetes where the cluster has them; skipped, with why, where it has not.
   */
  applyMonitoring(): Promise<StepOutcome>
  /** Until master and every worker run; `proven` ends the wait early with its reason. */
  waitReady(onProgress?: (reason: string) => void, proven?: Promise<string>): Promise<string>
  /**
   * Elastic workers (`--workers MIN..MAX`): their controller where it can run in the cluster; else
   * why it cannot, said before anything changes.
   */
  readonly elastic: ElasticWorkers | { refusal: string }
  /** Sets the worker count; cores and memory stay what the running cluster has. */
  setWorkerCount(count: number): Promise<ScaleOutcome>
  members(): Promise<Member[]>
  /** The running master's image and annotations: every driver the tool starts runs the same Spark, with the same storage. */
  runningMaster(): Promise<{ image: string; annotations: Record<string, string> }>
  /** Runs a driver (the Job's pod) to its end, removing what it made (also on Ctrl-C). */
  runDriver(job: V1Job, options: DriverOptions): Promise<DriverRun>
  /** Runs the REPL pod attached to this terminal until it exits; its exit code. */
  runShell(pod: V1Pod, tty: boolean, say: (line: string) => void): Promise<number>
  masterUi(): MasterUi
  /** A server of the cluster's: Spark Connect, the History Server, JupyterLab. */
  server(spec: ServerSpec): ClusterServer
  /** The cluster's spark-defaults.conf (its secret; undefined: there is none). */
  authConf(image: string): Promise<string | undefined>
  /** Status, recent warnings and last log lines of what runs, for a failed step. */
  diagnostics(): Promise<string>
  /** Everything labelled as ours (or one role's), and waits until it is gone. */
  deleteCluster(role: DeletableRole | undefined, onProgress?: (reason: string) => void): Promise<StepOutcome>
}
