import { authConfProblem, authVolume, plannedAuthConf, type AuthSettings, type PlannedAuthConf } from '../cluster-secret.ts'
import { ensureLabelledVolume, runnable } from './containers.ts'
import { engineCall, engineEndpoint, engineExpect } from './engine.ts'
import { StepError } from '../errors.ts'
import { ourLabels, type ClusterManifests } from '../manifests.ts'
import { run } from '../proc.ts'

/**
 * Docker's home for the cluster's secret: a volume named like the Secret, labelled ours, holding
 * spark-defaults.conf readable by the Spark user only. Kept while it exists and holds a usable conf
 * (a second `cluster:up` keeps the secret); repaired when it does not (an interrupted first run
 * leaves the volume empty, and Spark would start on it without authentication); `cluster:down`
 * removes it with the other labelled volumes. Returns the conf the cluster runs with.
 */
export async function ensureAuthVolume(manifests: ClusterManifests, image: string, settings: AuthSettings): Promise<PlannedAuthConf> {
  const { name, file } = authVolume(manifests)
  const labels = ourLabels(manifests)
  const created = await ensureLabelledVolume(name, { role: 'auth' }, labels)
  const planned = plannedAuthConf(created ? undefined : { conf: await readVolumeFile(name, file, image, labels) }, settings)
  if (!planned.change) return planned
  await writeAuthConf(name, file, image, planned.conf, planned.change.kind === 'created' ? 'create' : 'replace')
  // What the volume holds now: a first conf another run linked in before ours is the one kept (and
  // from one machine the cluster lock keeps runs from overlapping at all).
  const conf = await readVolumeFile(name, file, image, labels)
  const problem = authConfProblem(conf)
  if (problem) throw new StepError(`the Docker volume ${name} (the cluster's secret) could not be written: ${problem}`)
  return { conf: conf!, change: planned.change }
}

/**
 * Writes the conf through stdin (never a command line, env var or log: no log driver), as root,
 * handed to the image's Spark user (uid 185, group 0) and readable by it alone. Written to a new
 * file, then moved into place (replace) or linked there only if no file is there yet (create), so
 * an interrupted write never leaves half a file, and a second run never overwrites the first's.
 */
async function writeAuthConf(volume: string, file: string, image: string, conf: string, mode: 'create' | 'replace'): Promise<void> {
  const script = [
    'umask 077; new="/auth/.$1.$$"',
    'cat > "$new" && chown 185:0 "$new" && chmod 0400 "$new" || { rm -f "$new"; exit 1; }',
    'if [ "$2" = replace ]; then exec mv -f "$new" "/auth/$1"; fi',
    'ln "$new" "/auth/$1" 2>/dev/null; made=$?; rm -f "$new"; [ "$made" = 0 ] || exit 3',
  ].join('\n')
  const written = await run({ input: conf, nothrow: true })`docker run --rm --interactive --network none --log-driver none --user 0:0 --volume ${`${volume}:/auth`} --entrypoint sh ${runnable(image)} -c ${script} sh ${file} ${mode}`
  // 3: another run linked its conf first; it is kept.
  if (written.exitCode !== 0 && written.exitCode !== 3) throw new StepError(`could not write the cluster's secret into Docker volume ${volume}: ${written.stderr.trim().split('\n').pop()}`)
}

/**
 * A file in a volume, or undefined when it is not there. The engine reads it from a container that
 * is created and never started (the archive API, as `docker cp`): no process runs, and the file
 * passes through no container output, which a log driver (journald, fluentd…) would keep.
 */
export async function readVolumeFile(volume: string, file: string, image: string, labels: Record<string, string>): Promise<string | undefined> {
  const engine = engineEndpoint()
  const at = '/volume'
  const mount = { Type: 'volume', Source: volume, Target: at, ReadOnly: true }
  // Labelled ours, so a reader left behind by a killed run goes with `cluster:down`.
  const { Id: id } = (await engineExpect<{ Id: string }>(engine, 'POST', '/containers/create', {
    body: { Image: runnable(image), Entrypoint: ['true'], Cmd: [], Labels: labels, NetworkDisabled: true, HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'none' }, Mounts: [mount] } },
  }))!
  try {
    const reply = await engineCall<Buffer | { message?: string }>(engine, 'GET', `/containers/${id}/archive?path=${encodeURIComponent(`${at}/${file}`)}`, { raw: true })
    if (reply.status === 404) return undefined
    if (!Buffer.isBuffer(reply.body)) throw new StepError(`Docker: ${reply.body.message ?? `reading ${file} from volume ${volume} answered HTTP ${reply.status}`}`)
    return regularFileOf(reply.body)
  } finally {
    await engineExpect(engine, 'DELETE', `/containers/${id}?force=1`, { missingOk: true })
  }
}

/**
 * The content of a one-file tar archive (what the archive API sends), or undefined when it holds no
 * regular file. Extended headers (PAX, GNU long names) before the entry are stepped over.
 */
export function regularFileOf(archive: Buffer): string | undefined {
  for (let at = 0; at + 512 <= archive.length; ) {
    const type = String.fromCharCode(archive[at + 156])
    const size = parseInt(archive.subarray(at + 124, at + 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8)
    if (type === '0' || type === '\0') return archive[at] === 0 ? undefined : archive.subarray(at + 512, at + 512 + size).toString('utf8')
    if (!'xgLK'.includes(type)) return undefined
    at += 512 + Math.ceil(size / 512) * 512
  }
  return undefined
}

/** The cluster's spark-defaults.conf as the volume holds it (undefined: the volume holds none). */
export async function volumeAuthConf(manifests: ClusterManifests, image: string): Promise<string | undefined> {
  const { name, file } = authVolume(manifests)
  // Checked first: a container that mounts a missing volume would quietly create it, unlabelled.
  const volume = await engineExpect(engineEndpoint(), 'GET', `/volumes/${encodeURIComponent(name)}`, { missingOk: true })
  if (!volume) throw new StepError(`no Docker volume ${name} (the cluster's secret): run \`npm run cluster:up\` first`)
  return readVolumeFile(name, file, image, ourLabels(manifests))
}
