// The cluster's storage: the user's data (a host folder or a claim) mounted in every member and
// driver, and where the drivers' event logs go. Chosen once by `cluster:up` and kept on the
// master's pod template as an annotation (a label on Docker), so every later driver, Connect
// server and History Server mounts the same without being told again.
import { posix, win32 } from 'node:path'
import type { V1PodTemplateSpec, V1Volume } from '@kubernetes/client-node'
import { withNote, type StepOutcome } from './outcome.ts'

export const storageAnnotation = 'spark-standalone-k8s/storage'
/** The drivers' and the History Server's event-log volume in the manifests. */
export const eventsVolume = 'events'
const dataVolume = 'data'
/** Under the data folder or claim: the event logs, which cluster:down then never deletes. */
export const eventsDir = 'spark-events'
/** JupyterLab's notebooks volume in its manifest, and its folder under the data folder or claim. */
export const notebooksVolume = 'notebooks'
export const notebooksDir = 'notebooks'
/** The volumes of the tool's own (claims) that move under the data when the cluster has some, and where to. */
const movedVolumes: ReadonlyArray<{ volume: string; dir: string }> = [
  { volume: eventsVolume, dir: eventsDir },
  { volume: notebooksVolume, dir: notebooksDir },
]

export interface ClusterStorage {
  data?: {
    /** hostPath (a folder of this machine, or of the minikube node) or persistentVolumeClaim. */
    source: Omit<V1Volume, 'name'>
    mountPath: string
    /** In the user's words, for messages: "folder /home/me/lake", "claim lake". */
    what: string
  }
  /** Groups the pods join so the Spark user may write a host folder: the folder's own group. */
  groups?: number[]
  /**
   * No data, and no claim every driver can mount (no default StorageClass, several nodes, or no
   * way to tell): the drivers write no event log.
   */
  eventsOff?: boolean
}

/**
 * The template with the data mounted in its one container (read-only for a reader such as the
 * History Server), its event-log volume (if it has one) moved to the data's spark-events/ (or event
 * logging turned off) and its notebooks volume (JupyterLab's) to the data's notebooks/; the storage
 * is recorded on it for later runs to read.
 */
export function withStorage(template: V1PodTemplateSpec, storage: ClusterStorage, options: { readOnly?: boolean } = {}): V1PodTemplateSpec {
  const spec = template.spec!
  const container = spec.containers[0]
  const { data } = storage
  if (data) {
    spec.volumes = [...(spec.volumes ?? []), { name: dataVolume, ...data.source }]
    container.volumeMounts = [...(container.volumeMounts ?? []), { name: dataVolume, mountPath: data.mountPath, ...(options.readOnly ? { readOnly: true } : {}) }]
  }
  const events = spec.volumes?.find((volume) => volume.name === eventsVolume)
  const eventsMount = container.volumeMounts?.find((m) => m.name === eventsVolume)
  if (events && eventsMount && storage.eventsOff) {
    spec.volumes = spec.volumes!.filter((volume) => volume !== events)
    container.volumeMounts = container.volumeMounts!.filter((m) => m !== eventsMount)
    // In the command line (servers, drivers) or in PYSPARK_SUBMIT_ARGS (JupyterLab's kernels): no
    // event log, and no driver log kept beside it (the log4j2 configuration writing it goes: Spark's
    // default one holds).
    const off = (text: string) => text.replace(/(^|\s)spark\.eventLog\.enabled=true(?=\s|$)/g, '$1spark.eventLog.enabled=false').replace(/(^|\s)--conf\s+spark\.driver\.defaultJavaOptions=\S*/g, '')
    const driverLogConf = (arg: string | undefined) => arg?.startsWith('spark.driver.defaultJavaOptions=')
    container.args = container.args?.filter((arg, i, args) => !driverLogConf(arg) && !(arg === '--conf' && driverLogConf(args[i + 1]))).map(off)
    // A folder in the volume (the workers' SPARK_WORKER_DIR) goes with it: Spark's default then holds.
    const inVolume = (value: string) => value === eventsMount.mountPath || value.startsWith(`${eventsMount.mountPath}/`)
    container.env = container.env
      ?.filter((variable) => variable.value === undefined || !inVolume(variable.value))
      .map((variable) => (variable.value === undefined ? variable : { ...variable, value: off(variable.value) }))
  }
  for (const { volume: name, dir } of data ? movedVolumes : []) {
    const volume = spec.volumes?.find((v) => v.name === name)
    const mount = container.volumeMounts?.find((m) => m.name === name)
    if (!volume || !mount) continue
    delete volume.persistentVolumeClaim
    if (data!.source.hostPath) volume.hostPath = { ...data!.source.hostPath, path: joinFolder(data!.source.hostPath.path, dir) }
    else {
      // A pod may name a claim in one volume only (the kubelet never mounts a second one): the data
      // volume is mounted again, at its folder.
      spec.volumes = spec.volumes!.filter((v) => v !== volume)
      Object.assign(mount, { name: dataVolume, subPath: dir })
    }
  }
  if (storage.groups?.length) spec.securityContext = { ...spec.securityContext, supplementalGroups: storage.groups }
  template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [storageAnnotation]: JSON.stringify(storage) } }
  return template
}

/** A host folder's child: a Windows folder (Docker Desktop) by Windows' rules, a node's by POSIX's. */
const joinFolder = (folder: string, child: string) => (/^[A-Za-z]:\\/.test(folder) ? win32.join(folder, child) : posix.join(folder, child))

/**
 * What `withStorage` recorded on a running master (its annotations, or its labels on Docker). A
 * master from before the tool recorded it (or an unreadable record) has no spark-events claim made
 * for it: its drivers write no event log until the next `cluster:up`.
 */
export function storageOf(annotations: Record<string, string> | undefined): ClusterStorage {
  try {
    const recorded: unknown = JSON.parse(annotations?.[storageAnnotation] ?? '')
    if (recorded && typeof recorded === 'object' && !Array.isArray(recorded)) return recorded as ClusterStorage
  } catch {
    // below
  }
  return { eventsOff: true }
}

/** The storage step's outcome, in words. */
export function describeStorage(storage: ClusterStorage, note?: string): StepOutcome {
  if (note) return { done: note }
  if (!storage.data) return { skipped: "no --data or --data-claim: event logs and the applications' logs (npm run logs) go to the spark-events volume of the cluster (cluster:down deletes it)" }
  return { done: `${storage.data.what} at ${storage.data.mountPath} in every pod; event logs and the applications' logs (npm run logs) in its ${eventsDir}/, JupyterLab's notebooks in its ${notebooksDir}/` }
}

/** For status and cluster:down: where the user's data is, which the tool never deletes. */
export function describeData(storage: ClusterStorage): string | undefined {
  return storage.data ? `${storage.data.what} at ${storage.data.mountPath}` : undefined
}

/** cluster:down's outcome, saying where the data the deleted master mounted stays (annotations: the master's). */
export function withDataKept(outcome: StepOutcome, annotations: Record<string, string> | undefined): StepOutcome {
  const data = describeData(storageOf(annotations))
  return data ? withNote(outcome, `your data stays: ${data}`) : outcome
}

/** cluster:down's outcome, naming the notebooks volume or claim it kept ("volume spark-notebooks"; undefined: none kept). */
export function withNotebooksKept(outcome: StepOutcome, kept: string | undefined): StepOutcome {
  return kept ? withNote(outcome, `your notebooks stay in ${kept} (npm run cluster:down -- --delete-notebooks deletes them)`) : outcome
}
