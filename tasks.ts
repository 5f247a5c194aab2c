// The classic README as task graphs, one per npm script. Each step is a module in scripts/;
// this file only says in which order they run, when they are skipped, and what is reported.
import type { ListrTask, ListrTaskWrapper } from 'listr2'
import type { Command, Config, Platform } from './scripts/lib/config.ts'
import { collectDiagnostics } from './scripts/lib/diagnostics.ts'
import { errorMessage, StepError, UsageError } from './scripts/lib/errors.ts'
import { lockCluster } from './scripts/lib/cluster-lock.ts'
import { installInterruptHandler, interruption } from './scripts/lib/interrupt.ts'
import { resolvePlatform } from './scripts/lib/platform.ts'
import { withNote, type StepOutcome } from './scripts/lib/outcome.ts'
import { describeS3 } from './scripts/lib/s3.ts'
import type { ClusterServer } from './scripts/lib/server.ts'
import { describeStorage, type ClusterStorage } from './scripts/lib/storage.ts'
import { aliveWorkers } from './scripts/lib/spark-ui.ts'
import { makeTarget, type Target } from './scripts/lib/target.ts'
import { applyCluster } from './scripts/apply.ts'
import { buildImage, imageReference } from './scripts/build-image.ts'
import { imageExists } from './scripts/lib/docker/containers.ts'
import { checkDependencies } from './scripts/check-deps.ts'
import { checkRoom } from './scripts/check-room.ts'
import { applyConnect, serveConnect } from './scripts/connect.ts'
import { applyHistory, serveHistory } from './scripts/history.ts'
import { historyServer } from './scripts/lib/history-server.ts'
import { connectServer } from './scripts/lib/connect-server.ts'
import { buildNotebookImage, localClusterImage, notebookImageReference } from './scripts/lib/notebook-image.ts'
import { notebookServer } from './scripts/lib/notebook-server.ts'
import { applyNotebook, notebookCluster, serveNotebook, type NotebookCluster } from './scripts/notebook.ts'
import { deleteCluster } from './scripts/delete.ts'
import { applyElastic, elasticWorkers, endElastic, runsElastic, startingWorkers } from './scripts/elastic.ts'
import { runLogs } from './scripts/logs.ts'
import { startMinikube } from './scripts/minikube-start.ts'
import { stopMinikube } from './scripts/minikube-stop.ts'
import { describePi, runPi, type PiRun } from './scripts/pi.ts'
import { pushImage } from './scripts/push-image.ts'
import { setWorkerCount } from './scripts/scale.ts'
import { clusterStatus, formatStatus } from './scripts/status.ts'
import { runShell } from './scripts/shell.ts'
import { runSubmit } from './scripts/submit.ts'
import { runUi } from './scripts/ui.ts'
import { describeLink, verifyUi, type VerifiedUi } from './scripts/verify-ui.ts'
import { waitForRollout } from './scripts/wait-ready.ts'

/** Shared by every graph: where we work, and what --json reports at the end. */
interface Context {
  target: Target
  timings: Record<string, number>
  /** Set when a step that works on the running cluster fails: then its pods/containers are worth showing. */
  diagnose?: boolean
  image?: string
  ui?: VerifiedUi
  pi?: PiRun
  /** cluster:up: the workers it applies (--workers N, or the count kept inside MIN..MAX). */
  workers?: number
  /** cluster:up: the data mounted and where event logs go, from --data / --data-claim. */
  storage?: ClusterStorage
  /** cluster:up: the running Connect / History servers its apply rolled, which the rollout wait waits for too. */
  rolledServers?: ClusterServer[]
  /** npm run connect: the client token, read before the server is started. */
  connectToken?: string
  /** npm run notebook: the running cluster JupyterLab starts from (its token among it). */
  notebook?: NotebookCluster
}

type Task = ListrTask<Context>
type Wrapper = ListrTaskWrapper<Context, any, any>

interface StepOptions {
  /** Whether the step runs at all (one that does not is not shown). */
  enabled?: boolean | ((ctx: Context) => boolean)
  /** On failure, print the cluster's pods/containers, events and logs. */
  diagnose?: boolean
}

/** A step: timed for --json, and skipped with its reason shown when it had nothing to do. */
function step(title: string, run: (ctx: Context, task: Wrapper) => Promise<StepOutcome | string>, options: StepOptions = {}): Task {
  return {
    title,
    enabled: options.enabled ?? true,
    task: async (ctx, task) => {
      const started = performance.now()
      try {
        const outcome = await run(ctx, task)
        if (typeof outcome === 'string') task.title = `${title}: ${outcome}`
        else if ('skipped' in outcome) task.skip(outcome.skipped)
        else task.title = `${title}: ${outcome.done}`
      } catch (error) {
        ctx.diagnose = options.diagnose
        throw error
      } finally {
        ctx.timings[title] = Math.round(performance.now() - started) / 1000
      }
    },
  }
}

const progress = (task: Wrapper) => (line: string) => {
  task.output = line
}

// npm run cluster:up — README: minikube start → docker build/push → kubectl apply → check the web UI.
function upTasks(config: Config, platform: Platform, platformNote: string): Task[] {
  // The reference hashes docker/: worked out once, when first needed.
  let reference: string | undefined
  const image = () => (reference ??= imageReference(config))
  // Asked while the dependencies are checked (the next step needs the answer; asking changes nothing).
  let imagePresent: Promise<boolean> | undefined
  return [
    step(`Check dependencies for ${platformNote}`, async (ctx) => {
      imagePresent = imageExists(image()).catch(() => false)
      return checkDependencies(ctx.target.platform, config)
    }),
    step('Start minikube', async () => startMinikube(config), { enabled: platform === 'minikube' }),
    step('Build the Spark image', async (ctx, task) => {
      ctx.image = image()
      return buildImage(ctx.image, config, progress(task), imagePresent)
    }),
    step('Publish the image to the cluster', async (ctx) => {
      const published = await pushImage(ctx.target, ctx.image!)
      // From here on the image is what the pods run: by digest where the runtime pins it.
      ctx.image = published.image
      return published
    }),
    // With a range, room for MAX: the controller adds workers up to it.
    step(`Check the cluster has room for ${config.workerRange?.max ?? config.workers} workers`, async (ctx) => checkRoom(ctx.target, { ...config, workers: config.workerRange?.max ?? config.workers })),
    step('Mount your data and keep the event logs', async (ctx) => {
      const { storage, note } = await ctx.target.runtime.prepareStorage()
      ctx.storage = storage
      const outcome = describeStorage(storage, note)
      return config.s3 ? withNote(outcome, describeS3(config.s3)) : outcome
    }),
    // A fixed count ends a range: its controller goes before the count is applied, so it changes it no more.
    step(`Remove manifests/elastic/ (${config.workers} fixed workers, no elastic range)`, async (ctx) => endElastic(ctx.target, config.workers), {
      enabled: (ctx) => !config.workerRange && runsElastic(ctx.target),
    }),
    step('Apply manifests/ (master, service, workers)', async (ctx) => {
      ctx.workers = await startingWorkers(ctx.target)
      const { outcome, rolled } = await applyCluster(ctx.target, ctx.image!, ctx.storage!, ctx.workers)
      ctx.rolledServers = rolled
      return outcome
    }, { diagnose: true }),
    step('Apply manifests/monitoring/ (Prometheus PodMonitors)', async (ctx) => ctx.target.runtime.applyMonitoring()),
    step(`Apply manifests/elastic/ (workers follow demand between ${config.workerRange?.min} and ${config.workerRange?.max})`, async (ctx) => applyElastic(ctx.target, ctx.image!), {
      enabled: Boolean(config.workerRange),
      diagnose: true,
    }),
    step('Wait for the rollout', async (ctx, task) => {
      const ready = await waitForRollout(ctx.target, progress(task))
      // Then the servers the apply rolled, which started on the new master.
      const servers = await Promise.all((ctx.rolledServers ?? []).map((server) => server.waitReady(progress(task))))
      return [ready, ...servers].join('; ')
    }, { diagnose: true }),
    step(`Verify the master UI reports ${config.workerRange ? 'every worker' : config.workers} ALIVE${config.workerRange ? '' : ' workers'}`, async (ctx, task) => {
      ctx.ui = await verifyUi(ctx.target, { count: ctx.workers!, cores: config.workerCores, memory: config.workerMemory, range: config.workerRange }, progress(task))
      return `ALIVE, ${ctx.ui.state.aliveworkers} workers × ${config.workerCores} cores/${config.workerMemory} (read ${ctx.ui.via})`
    }, { diagnose: true }),
  ]
}

// npm run pi — README: python test.py, but the driver runs inside the cluster.
function piTasks(config: Config, _platform: Platform, platformNote: string): Task[] {
  return [
    step(`Run the Pi job in the cluster on ${platformNote}`, async (ctx, task) => {
      ctx.pi = await runPi(ctx.target, config.partitions, progress(task))
      return describePi(ctx.pi)
    }, { diagnose: true }),
  ]
}

// npm run connect — README: python test.py, from your laptop, through a driver that lives in the cluster.
function connectTasks(_config: Config, _platform: Platform, platformNote: string): Task[] {
  return [
    step(`Start the Spark Connect server on ${platformNote}`, async (ctx) => {
      const { image, token, outcome } = await applyConnect(ctx.target)
      ctx.image = image
      ctx.connectToken = token
      return outcome
    }, { diagnose: true }),
    step('Wait until it accepts connections', async (ctx, task) => connectServer(ctx.target).waitReady(progress(task)), { diagnose: true }),
  ]
}

// npm run history — the finished applications' UI, which the classic README has no step for.
function historyTasks(_config: Config, _platform: Platform, platformNote: string): Task[] {
  return [
    step(`Start the Spark History Server on ${platformNote}`, async (ctx) => applyHistory(ctx.target), { diagnose: true }),
    step('Wait until it accepts connections', async (ctx, task) => historyServer(ctx.target).waitReady(progress(task)), { diagnose: true }),
  ]
}

// npm run notebook — a notebook whose kernel is a driver in the cluster, the commonest way to use Spark.
function notebookTasks(_config: Config, _platform: Platform, platformNote: string): Task[] {
  let reference: string | undefined
  return [
    step(`Check the cluster on ${platformNote} and its secret`, async (ctx) => {
      ctx.notebook = await notebookCluster(ctx.target)
      reference = notebookImageReference(ctx.notebook.clusterImage)
      return `the cluster runs ${localClusterImage(ctx.notebook.clusterImage)}; its secret holds JupyterLab's token`
    }),
    step("Build JupyterLab's image on the cluster's", async (ctx, task) => buildNotebookImage(reference!, ctx.notebook!.clusterImage, progress(task))),
    step('Publish the image to the cluster', async (ctx) => {
      const published = await pushImage(ctx.target, reference!, ctx.notebook!.clusterImage)
      ctx.image = published.image
      return published
    }),
    step('Start JupyterLab', async (ctx) => applyNotebook(ctx.target, ctx.image!, ctx.notebook!), { diagnose: true }),
    step('Wait until it accepts connections', async (ctx, task) => notebookServer(ctx.target).waitReady(progress(task)), { diagnose: true }),
  ]
}

// npm run scale -- N — README: kubectl scale, then wait until the master agrees.
/** Never settles: a proof that failed proves nothing (the verify step reports its error). */
const pending = new Promise<never>(() => {})

function scaleTasks(config: Config, _platform: Platform, platformNote: string): Task[] {
  let verified: Promise<VerifiedUi> | undefined
  let report = (_line: string) => {}
  return [
    step(`Scale workers to ${config.workers} on ${platformNote}`, async (ctx) => {
      const outcome = await setWorkerCount(ctx.target, config.workers)
      // Asked from now on, alongside the rollout: once the master reports every worker, the rollout
      // has nothing left to prove (the pods' readiness probes only follow).
      verified = verifyUi(ctx.target, outcome.expected, (line) => report(line))
      verified.catch(() => undefined) // reported by the step that awaits it
      return outcome
    }, { diagnose: true }),
    step('Wait for the rollout', async (ctx, task) => waitForRollout(ctx.target, progress(task), verified!.then((ui) => `the master already reports ${ui.state.aliveworkers} ALIVE workers`, () => pending)), { diagnose: true }),
    step(`Verify the master UI reports ${config.workers} ALIVE workers`, async (ctx, task) => {
      report = progress(task)
      ctx.ui = await verified!
      return `the master reports ${ctx.ui.state.aliveworkers} ALIVE workers (read ${ctx.ui.via})`
    }, { diagnose: true }),
  ]
}

// npm run cluster:down — README: kubectl delete all -l app=spark → minikube stop.
function downTasks(config: Config, platform: Platform, platformNote: string): Task[] {
  const label = `app=spark${config.role ? `,role=${config.role}` : ''} and managed by this tool`
  return [
    step(`Delete everything labelled ${label} on ${platformNote}`, async (ctx, task) => deleteCluster(ctx.target, config.role, progress(task))),
    step('Stop minikube', async () => stopMinikube(config.profile), { enabled: platform === 'minikube' && !config.keepMinikube && !config.role }),
  ]
}

const graphs: Record<Exclude<Command, 'status' | 'ui' | 'submit' | 'shell' | 'logs'>, (config: Config, platform: Platform, platformNote: string) => Task[]> = {
  up: upTasks,
  pi: piTasks,
  scale: scaleTasks,
  connect: connectTasks,
  history: historyTasks,
  notebook: notebookTasks,
  down: downTasks,
}

/** listr2 is loaded only by the commands that run a graph (not by --help, status, ui, submit, shell, logs). */
type Listr2 = typeof import('listr2')

function listrOptions(config: Config, { ListrLogger, ProcessOutput, PRESET_TIMER, PRESET_TIMESTAMP }: Listr2) {
  // In a terminal: the live renderer. In CI, pipes or --json: one readable line per event, on stderr.
  const plain = config.json || !process.stdout.isTTY || Boolean(process.env.CI)
  const logger = new ListrLogger({ useIcons: false, processOutput: new ProcessOutput(process.stderr, process.stderr) })
  return {
    concurrent: false,
    exitOnError: true,
    // Our own handler undoes half-done work (see scripts/lib/interrupt.ts) before exiting.
    registerSignalListeners: false,
    renderer: plain ? ('simple' as const) : ('default' as const),
    rendererOptions: { timer: PRESET_TIMER, collapseSubtasks: false, showSkipMessage: true },
    fallbackRendererOptions: { timer: PRESET_TIMER, timestamp: PRESET_TIMESTAMP, logger },
    fallbackRenderer: 'simple' as const,
    fallbackRendererCondition: plain,
  }
}

function summary(command: Command, ctx: Context, ok: boolean, error?: string) {
  return {
    ok,
    command,
    platform: ctx.target.platform,
    ...(error ? { error } : {}),
    ...(ctx.image ? { image: ctx.image } : {}),
    ...(ctx.ui ? { ...('url' in ctx.ui.link ? { uiUrl: ctx.ui.link.url } : { uiHint: ctx.ui.link.hint }), aliveWorkers: ctx.ui.state.aliveworkers, workers: aliveWorkers(ctx.ui.state).map(({ id, host, cores, memory }) => ({ id, host, cores, memoryMiB: memory })) } : {}),
    ...(ctx.pi ? { pi: ctx.pi.pi, piPartitions: ctx.pi.partitions, piSamples: ctx.pi.samples, piSeconds: ctx.pi.seconds } : {}),
    timingsSeconds: ctx.timings,
  }
}

/** The one line users read, then what a StepError has to add (what is missing, how to fix it). */
function printError(error: unknown, before = ''): void {
  console.error(`${before}error: ${errorMessage(error)}`)
  if (error instanceof StepError && error.details) console.error(error.details)
}

/** The serving phase of a command (after its graph): its errors are reported like a step's. */
async function serveAfterwards(serve: () => Promise<number>): Promise<number> {
  try {
    return await serve()
  } catch (error) {
    printError(error, '\n')
    return 1
  }
}

const changesCluster = new Set<Command>(['up', 'scale', 'down', 'connect', 'history', 'notebook'])

/** Runs a command whose flags scripts/cli.ts has parsed; returns its exit code. */
export async function runCommand(config: Config): Promise<number> {
  const { platform, reason } = await resolvePlatform(config)
  const ctx: Context = { target: makeTarget(config, platform), timings: {} }
  // A range this runtime cannot run is bad input: refused before anything changes.
  if (config.command === 'up' && config.workerRange) {
    try {
      elasticWorkers(ctx.target)
    } catch (error) {
      printError(error)
      return 2
    }
  }
  if (config.command === 'submit' || config.command === 'shell' || config.command === 'logs') {
    installInterruptHandler()
    try {
      if (config.command === 'logs') return await runLogs(ctx.target, config)
      return await (config.command === 'submit' ? runSubmit(ctx.target, config) : runShell(ctx.target))
    } catch (error) {
      const interrupted = interruption()
      if (interrupted) return interrupted
      printError(error)
      return error instanceof UsageError ? 2 : 1
    }
  }
  if (config.command === 'status' || config.command === 'ui') {
    try {
      if (config.command === 'ui') return await runUi(ctx.target, config)
      const report = await clusterStatus(ctx.target)
      console.log(config.json ? JSON.stringify(report, null, 2) : formatStatus(report))
      return 0
    } catch (error) {
      printError(error)
      return 1
    }
  }
  const note = `${platform} (${reason})`
  installInterruptHandler()
  const listr2 = await import('listr2')
  let release: (() => void) | undefined
  try {
    // Commands that change the cluster take turns (scripts/lib/cluster-lock.ts); the others only read it.
    if (changesCluster.has(config.command)) release = await lockCluster({ key: await ctx.target.runtime.lockKey(), name: ctx.target.runtime.name }, config.timeoutSeconds * 1000, (line) => console.error(line))
    await new listr2.Listr<Context, any, any>(graphs[config.command](config, platform, note), listrOptions(config, listr2)).run(ctx)
  } catch (error) {
    const interrupted = interruption()
    if (interrupted) return interrupted
    printError(error, '\n')
    if (ctx.diagnose) console.error(`\ndiagnostics:\n${await collectDiagnostics(ctx.target)}`)
    if (config.json) console.log(JSON.stringify(summary(config.command, ctx, false, errorMessage(error)), null, 2))
    return 1
  } finally {
    release?.()
  }
  if (config.command === 'connect') return serveAfterwards(() => serveConnect(ctx.target, ctx.image!, ctx.connectToken!, config))
  if (config.command === 'history') return serveAfterwards(() => serveHistory(ctx.target, config))
  if (config.command === 'notebook') return serveAfterwards(() => serveNotebook(ctx.target, ctx.notebook!, config))
  if (config.json) console.log(JSON.stringify(summary(config.command, ctx, true), null, 2))
  else if (ctx.ui) console.log(`\nSpark master UI: ${describeLink(ctx.ui.link)}`)
  else if (ctx.pi) console.log(`\n${describePi(ctx.pi)}`)
  return 0
}
