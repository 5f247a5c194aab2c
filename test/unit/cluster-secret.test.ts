// The cluster's shared secret: made once, kept, and never put where people or logs can see it.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import {
  authConfAnnotation,
  authConfProblem,
  authVolume,
  connectTokenOf,
  notebookTokenOf,
  describeAuthChange,
  plannedAuthConf,
  secretOf,
  sparkAuthConf,
  withAuthConf,
} from '../../scripts/lib/cluster-secret.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { parseProperties } from '../../scripts/lib/properties.ts'
import { envValue, loadManifests, mainContainer, podTemplate, renderCluster } from '../../scripts/lib/manifests.ts'
import { kubeQuantityToBytes } from '../../scripts/lib/units.ts'
import { tarOf, useFakeEngine, type FakeEngine } from './fake-engine.ts'
import { fake, type RecordedCommand } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { ensureAuthVolume, readVolumeFile, regularFileOf, volumeAuthConf } = await import('../../scripts/lib/docker/secret.ts')
const { declaredAuthSecret } = await import('../../scripts/lib/kube/secret.ts')
const { planContainer } = await import('../../scripts/lib/docker/containers.ts')

const manifests = loadManifests()

beforeEach(() => fake.reset())

const off = { uiKill: false, workerCores: 1 }
const a64 = 'a'.repeat(64)
const b64 = 'b'.repeat(64)
const c64 = 'c'.repeat(64)

describe('sparkAuthConf', () => {
  it('turns on authentication and AES-GCM RPC encryption without SASL fallback, with 256 random bits', () => {
    const conf = sparkAuthConf()
    expect(conf).toMatch(/^spark\.authenticate true$/m)
    expect(conf).toMatch(/^spark\.network\.crypto\.enabled true$/m)
    expect(conf).toMatch(/^spark\.network\.crypto\.cipher AES\/GCM\/NoPadding$/m)
    expect(conf).toMatch(/^spark\.network\.crypto\.saslFallback false$/m)
    expect(secretOf(conf)).toMatch(/^[0-9a-f]{64}$/)
    expect(secretOf(sparkAuthConf())).not.toBe(secretOf(conf))
  })

  it('holds a Spark Connect token of its own, apart from the RPC secret', () => {
    const conf = sparkAuthConf()
    expect(connectTokenOf(conf)).toMatch(/^[0-9a-f]{64}$/)
    expect(connectTokenOf(conf)).not.toBe(secretOf(conf))
  })

  it("holds JupyterLab's token of its own, apart from the RPC secret and the Connect token", () => {
    const conf = sparkAuthConf()
    expect(notebookTokenOf(conf)).toMatch(/^[0-9a-f]{64}$/)
    expect([secretOf(conf), connectTokenOf(conf)]).not.toContain(notebookTokenOf(conf))
    expect(notebookTokenOf(sparkAuthConf())).not.toBe(notebookTokenOf(conf))
  })

  it("turns the UIs' kill links off unless --ui-kill asks for them", () => {
    expect(sparkAuthConf()).toMatch(/^spark\.ui\.killEnabled false$/m)
    expect(sparkAuthConf(off, a64, b64, c64)).toMatch(/^spark\.ui\.killEnabled false$/m)
    expect(sparkAuthConf({ uiKill: true, workerCores: 1 }, a64, b64, c64)).toMatch(/^spark\.ui\.killEnabled true$/m)
  })

  it('is the given secret and token with the settings, line by line', () => {
    expect(sparkAuthConf(off, a64, b64, c64)).toBe(
      [
        'spark.authenticate true',
        `spark.authenticate.secret ${a64}`,
        'spark.network.crypto.enabled true',
        'spark.network.crypto.cipher AES/GCM/NoPadding',
        'spark.network.crypto.saslFallback false',
        'spark.ui.killEnabled false',
        `spark.connect.authenticate.token ${b64}`,
        `spark.notebook.token ${c64}`,
        'spark.metrics.conf.*.sink.prometheusServlet.class org.apache.spark.metrics.sink.PrometheusServlet',
        'spark.metrics.conf.*.sink.prometheusServlet.path /metrics/prometheus',
        'spark.metrics.conf.master.sink.prometheusServlet.path /metrics/master/prometheus',
        'spark.metrics.conf.applications.sink.prometheusServlet.path /metrics/applications/prometheus',
        'spark.ui.prometheus.enabled true',
        'spark.dynamicAllocation.enabled true',
        'spark.dynamicAllocation.shuffleTracking.enabled true',
        'spark.dynamicAllocation.shuffleTracking.timeout 60s',
        'spark.dynamicAllocation.initialExecutors 1',
        'spark.dynamicAllocation.executorIdleTimeout 30s',
        'spark.dynamicAllocation.cachedExecutorIdleTimeout 12h',
        'spark.executor.cores 1',
        '',
      ].join('\n'),
    )
  })

  it('reads values as Spark does: "key value" or "key=value", blanks around either', () => {
    expect(secretOf('spark.authenticate.secret=abc\n')).toBe('abc')
    expect(secretOf('  spark.authenticate.secret \t abc  \n')).toBe('abc')
    expect(connectTokenOf('spark.connect.authenticate.token = tok\n')).toBe('tok')
    expect(secretOf('spark.authenticate.secretX abc\n')).toBeUndefined()
  })
})

describe('authConfProblem', () => {
  it.each([
    [undefined, 'it holds no spark-defaults.conf'],
    ['', 'its spark-defaults.conf is empty'],
    [' \n\n', 'its spark-defaults.conf is empty'],
    ['spark.authenticate.secret abc\n', 'its spark-defaults.conf does not set spark.authenticate true'],
    ['spark.authenticate false\nspark.authenticate.secret abc\n', 'its spark-defaults.conf does not set spark.authenticate true'],
    ['spark.authenticate true\n', 'its spark-defaults.conf holds no spark.authenticate.secret'],
  ])('%j cannot run the cluster: %s', (conf, problem) => {
    expect(authConfProblem(conf)).toBe(problem)
  })

  // Java's Properties reads escapes and continuations in keys: each of these turns authentication off.
  it.each([
    'spark\\.authenticate false',
    'spark.authent\\u0069cate=false',
    'spark.authen\\\n    ticate false',
    'spark\\.authenticate:false',
    '  spark.authenticate\tfalse',
  ])('sees %j after the tool\'s lines as Java does: authentication off', (line) => {
    expect(authConfProblem(`${sparkAuthConf(off, a64, b64, c64)}${line}\n`)).toBe('its spark-defaults.conf does not set spark.authenticate true')
  })

  it('reads a comment as a comment, and refuses a conf Java cannot read at all', () => {
    expect(authConfProblem(`${sparkAuthConf(off, a64, b64, c64)}# spark\\.authenticate false\n! spark.authenticate false\n`)).toBeUndefined()
    expect(authConfProblem(`${sparkAuthConf(off, a64, b64, c64)}spark.driver.extraJavaOptions -Dx=\\u00zz\n`)).toBe('its spark-defaults.conf has a \\u escape Java cannot read, so Spark would not start')
    expect(secretOf('spark.authenticate.secret \\\n  abc\\u0064  \n')).toBe('abcd')
  })

  it('finds nothing wrong with a conf sparkAuthConf made, or one written as key=value', () => {
    expect(authConfProblem(sparkAuthConf())).toBeUndefined()
    expect(authConfProblem('spark.authenticate=true\nspark.authenticate.secret=abc\n')).toBeUndefined()
  })
})

describe('plannedAuthConf', () => {
  it('makes a new conf where there is none', () => {
    const planned = plannedAuthConf(undefined, off)
    expect(planned.change).toEqual({ kind: 'created' })
    expect(authConfProblem(planned.conf)).toBeUndefined()
  })

  it('changes nothing in a live conf made with the same settings: a second cluster:up keeps it', () => {
    const live = sparkAuthConf(off, a64, b64, c64)
    expect(plannedAuthConf({ conf: live }, off)).toEqual({ conf: live })
  })

  it('keeps the secret and the token when the settings change', () => {
    const planned = plannedAuthConf({ conf: sparkAuthConf(off, a64, b64, c64) }, { uiKill: true, workerCores: 1 })
    expect(planned).toEqual({ conf: sparkAuthConf({ uiKill: true, workerCores: 1 }, a64, b64, c64), change: { kind: 'updated' } })
  })

  it('gives a conf made before Spark Connect a token and the settings lines, keeping its RPC secret', () => {
    const planned = plannedAuthConf({ conf: 'spark.authenticate true\nspark.authenticate.secret abc\n' }, off)
    expect(planned.change).toEqual({ kind: 'updated' })
    expect(secretOf(planned.conf)).toBe('abc')
    expect(connectTokenOf(planned.conf)).toMatch(/^[0-9a-f]{64}$/)
    expect(planned.conf).toMatch(/^spark\.network\.crypto\.cipher AES\/GCM\/NoPadding$/m)
  })

  it('gives a conf made before the notebook a JupyterLab token, keeping its RPC secret and Connect token', () => {
    const before = sparkAuthConf(off, a64, b64, c64).replace(/^spark\.notebook\.token .*\n/m, '')
    expect(notebookTokenOf(before)).toBeUndefined()
    const planned = plannedAuthConf({ conf: before }, off)
    expect(planned.change).toEqual({ kind: 'updated' })
    expect([secretOf(planned.conf), connectTokenOf(planned.conf)]).toEqual([a64, b64])
    expect(notebookTokenOf(planned.conf)).toMatch(/^[0-9a-f]{64}$/)
    // A second cluster:up keeps the token it was given.
    expect(plannedAuthConf({ conf: planned.conf }, off)).toEqual({ conf: planned.conf })
  })

  it('turns the Prometheus servlets on in a conf made before them, keeping its secret and tokens', () => {
    const before = sparkAuthConf(off, a64, b64, c64).replace(/^spark\.(metrics|ui\.prometheus)\..*\n/gm, '')
    expect(before).not.toMatch(/prometheus/i)
    const planned = plannedAuthConf({ conf: before }, off)
    expect(planned).toEqual({ conf: sparkAuthConf(off, a64, b64, c64), change: { kind: 'updated' } })
    const javaReads = Object.fromEntries(parseProperties(planned.conf).filter((line) => line.key).map((line) => [line.key, line.value]))
    expect(javaReads).toMatchObject({
      'spark.metrics.conf.*.sink.prometheusServlet.class': 'org.apache.spark.metrics.sink.PrometheusServlet',
      'spark.metrics.conf.master.sink.prometheusServlet.path': '/metrics/master/prometheus',
      'spark.ui.prometheus.enabled': 'true',
    })
    // A user's `false` is not theirs to set: the tool's settings win.
    expect(plannedAuthConf({ conf: `${planned.conf}spark.ui.prometheus.enabled false\n` }, off).conf).toBe(planned.conf)
  })

  it("has a conf made before dynamic allocation ask for executors by it, one executor a worker's cores, keeping its secret and tokens", () => {
    const before = sparkAuthConf(off, a64, b64, c64).replace(/^spark\.(dynamicAllocation|executor\.cores)\b.*\n/gm, '')
    expect(before).not.toMatch(/dynamicAllocation|executor\.cores/)
    const planned = plannedAuthConf({ conf: before }, { uiKill: false, workerCores: 4 })
    expect(planned).toEqual({ conf: sparkAuthConf({ uiKill: false, workerCores: 4 }, a64, b64, c64), change: { kind: 'updated' } })
    const javaReads = Object.fromEntries(parseProperties(planned.conf).filter((line) => line.key).map((line) => [line.key, line.value]))
    expect(javaReads).toMatchObject({
      'spark.dynamicAllocation.enabled': 'true',
      'spark.dynamicAllocation.shuffleTracking.enabled': 'true',
      'spark.dynamicAllocation.shuffleTracking.timeout': '60s',
      'spark.dynamicAllocation.initialExecutors': '1',
      'spark.dynamicAllocation.executorIdleTimeout': '30s',
      'spark.executor.cores': '4',
    })
    // Workers of other cores: executors follow, the secret stays; a second cluster:up changes nothing.
    expect(plannedAuthConf({ conf: planned.conf }, { uiKill: false, workerCores: 2 })).toEqual({ conf: sparkAuthConf({ uiKill: false, workerCores: 2 }, a64, b64, c64), change: { kind: 'updated' } })
    expect(plannedAuthConf({ conf: planned.conf }, { uiKill: false, workerCores: 4 })).toEqual({ conf: planned.conf })
  })

  it("drops a user's line for a setting of ours, however Java spells it, and keeps their own lines", () => {
    const ours = sparkAuthConf(off, a64, b64, c64)
    const theirs = '# tuning\nspark.sql.shuffle.partitions 4\nspark.executor.extra\\\n   JavaOptions -Dx=1\n'
    const overrides = 'spark\\.network\\.crypto\\.enabled false\nspark.network.crypto.saslFallback=true\nspark.ui.kill\\u0045nabled true\nspark.network.crypto.c\\ipher:AES/CTR/NoPadding\n'
    const planned = plannedAuthConf({ conf: `${ours}${overrides}${theirs}` }, off)
    expect(planned).toEqual({ conf: `${ours}${theirs}`, change: { kind: 'updated' } })
    const javaReads = Object.fromEntries(parseProperties(planned.conf).filter((line) => line.key).map((line) => [line.key, line.value]))
    expect(javaReads).toMatchObject({ 'spark.network.crypto.enabled': 'true', 'spark.network.crypto.saslFallback': 'false', 'spark.ui.killEnabled': 'false', 'spark.network.crypto.cipher': 'AES/GCM/NoPadding' })
    expect(javaReads['spark.executor.extraJavaOptions']).toBe('-Dx=1')
  })

  it('repairs a conf Java cannot read, keeping the user lines it can', () => {
    const planned = plannedAuthConf({ conf: `${sparkAuthConf(off, a64, b64, c64)}spark.sql.shuffle.partitions 4\nspark.bad \\u12\n` }, off)
    expect(planned.change).toEqual({ kind: 'repaired', why: 'its spark-defaults.conf has a \\u escape Java cannot read, so Spark would not start' })
    expect(authConfProblem(planned.conf)).toBeUndefined()
    expect(planned.conf).toMatch(/\nspark\.sql\.shuffle\.partitions 4\n$/)
  })

  it('repairs an unusable live conf with a new secret, saying why', () => {
    for (const conf of [undefined, '', 'spark.authenticate false\nspark.authenticate.secret abc\n']) {
      const planned = plannedAuthConf({ conf }, off)
      expect(planned.change).toEqual({ kind: 'repaired', why: authConfProblem(conf) })
      expect(authConfProblem(planned.conf)).toBeUndefined()
      expect(secretOf(planned.conf)).not.toBe('abc')
    }
  })
})

describe('describeAuthChange', () => {
  it('says what became of the conf, and nothing when nothing changed', () => {
    expect(describeAuthChange('secret volume spark-auth', { kind: 'created' })).toBe('secret volume spark-auth created')
    expect(describeAuthChange('secret/spark-auth', { kind: 'updated' })).toBe('secret/spark-auth updated (settings changed, the secret kept)')
    expect(describeAuthChange('secret/spark-auth', { kind: 'repaired', why: 'its spark-defaults.conf is empty' })).toBe('secret/spark-auth repaired (its spark-defaults.conf is empty): a new secret')
    expect(describeAuthChange('secret/spark-auth', undefined)).toBe('')
  })
})

describe('withAuthConf', () => {
  const rendered = () => renderCluster(manifests, { image: 'spark:1', namespace: 'default', workers: 2, workerCores: 1, workerMemory: '1g' })

  it("annotates the pod template with the conf's digest, never the secret, so a new conf rolls the pods", () => {
    const conf = sparkAuthConf(off, a64, b64, c64)
    const master = rendered().master
    expect(withAuthConf(master, conf)).toBe(master)
    const annotations = master.spec!.template.metadata!.annotations!
    expect(annotations[authConfAnnotation]).toBe(createHash('sha256').update(conf).digest('hex').slice(0, 16))
    expect(authConfAnnotation).toBe('spark-standalone-k8s/auth-conf')
    expect(JSON.stringify(master)).not.toContain(a64)
    expect(JSON.stringify(master)).not.toContain(b64)
    const other = withAuthConf(rendered().master, sparkAuthConf({ uiKill: true, workerCores: 1 }, a64, b64, c64))
    expect(other.spec!.template.metadata!.annotations![authConfAnnotation]).not.toBe(annotations[authConfAnnotation])
  })

  it("keeps the template's labels and other annotations", () => {
    const worker = rendered().worker
    const labels = structuredClone(worker.spec!.template.metadata!.labels)
    worker.spec!.template.metadata!.annotations = { 'example.com/kept': 'yes' }
    withAuthConf(worker, sparkAuthConf())
    expect(worker.spec!.template.metadata!.labels).toEqual(labels)
    expect(Object.keys(worker.spec!.template.metadata!.annotations!)).toEqual(['example.com/kept', authConfAnnotation])
  })
})

describe('the pod templates', () => {
  it('all mount the one Secret read-only where SPARK_CONF_DIR points', () => {
    const { name, mountPath } = authVolume(manifests)
    expect(name).toBe('spark-auth')
    for (const workload of [manifests.master, manifests.worker, manifests.piJob, manifests.connect.deployment]) {
      const template = podTemplate(workload)
      const container = mainContainer(workload)
      const volume = template.spec!.volumes!.find((v) => v.secret?.secretName === name)!
      expect(volume, workload.metadata!.name ?? workload.metadata!.generateName).toBeDefined()
      expect(volume.secret!.defaultMode).toBe(0o440)
      expect(container.volumeMounts).toContainEqual({ name: volume.name, mountPath, readOnly: true })
      expect(envValue(container, 'SPARK_CONF_DIR')).toBe(mountPath)
      // Nothing secret in the files themselves.
      expect(JSON.stringify(workload)).not.toMatch(/spark\.authenticate/)
    }
  })

  it('become a read-only mount of the same-named volume on Docker', () => {
    const plan = planContainer(podTemplate(manifests.master), { name: 'spark-master', network: 'spark', restart: true })
    const at = plan.runArgs.indexOf('--mount')
    expect(plan.runArgs[at + 1]).toBe('type=volume,source=spark-auth,target=/etc/spark/auth,readonly')
  })
})

describe('a read-only root filesystem with bounded scratch space', () => {
  it('every pod template writes only to emptyDirs with a size limit, which Docker runs as exec tmpfs of that size', () => {
    for (const workload of [manifests.master, manifests.worker, manifests.piJob, manifests.connect.deployment]) {
      const template = podTemplate(workload)
      const container = mainContainer(workload)
      expect(container.securityContext?.readOnlyRootFilesystem).toBe(true)
      const scratch = (template.spec!.volumes ?? []).filter((volume) => volume.emptyDir)
      expect(scratch.map((volume) => volume.name)).toContain('tmp')
      for (const volume of scratch) expect(volume.emptyDir!.sizeLimit, volume.name).toBeDefined()
      const plan = planContainer(template, { name: 'x', network: 'spark', restart: false })
      expect(plan.runArgs).toContain('--read-only')
      expect(plan.runArgs.filter((_, i) => plan.runArgs[i - 1] === '--tmpfs')).toContain(`/tmp:size=${kubeQuantityToBytes(String(scratch.find((v) => v.name === 'tmp')!.emptyDir!.sizeLimit))},exec`)
    }
    expect(mainContainer(manifests.worker).volumeMounts).toContainEqual({ name: 'work', mountPath: '/opt/spark/work' })
  })
})

describe('declaredAuthSecret (Kubernetes)', () => {
  const kubeWith = (live?: Record<string, string>) =>
    ({
      core: {
        readNamespacedSecret: async () => {
          if (!live) throw Object.assign(new Error('HTTP-Code: 404'), { code: 404 })
          return { data: live }
        },
      },
    }) as never
  const base64 = (text: string) => Buffer.from(text).toString('base64')
  const confIn = (secret: { data?: Record<string, string> }) => Buffer.from(secret.data!['spark-defaults.conf'], 'base64').toString()

  it('makes a new random secret, labelled ours, when there is none', async () => {
    const { secret, conf, change } = await declaredAuthSecret(kubeWith(), manifests, 'dev', off)
    expect(secret.metadata).toMatchObject({ name: 'spark-auth', namespace: 'dev', labels: { app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s', role: 'auth' } })
    expect(secretOf(confIn(secret))).toMatch(/^[0-9a-f]{64}$/)
    expect(confIn(secret)).toBe(conf)
    expect(change).toEqual({ kind: 'created' })
  })

  it('keeps the live secret, so a second cluster:up changes nothing', async () => {
    const kept = base64(sparkAuthConf(off, 'ab'.repeat(32)))
    const { secret, change } = await declaredAuthSecret(kubeWith({ 'spark-defaults.conf': kept }), manifests, 'dev', off)
    expect(secret.data).toEqual({ 'spark-defaults.conf': kept })
    expect(change).toBeUndefined()
  })

  it('adds a Connect token and the settings to a live secret made before Spark Connect, keeping its RPC secret', async () => {
    const old = base64('spark.authenticate true\nspark.authenticate.secret abc\n')
    const { secret, change } = await declaredAuthSecret(kubeWith({ 'spark-defaults.conf': old }), manifests, 'dev', off)
    const conf = confIn(secret)
    expect(secretOf(conf)).toBe('abc')
    expect(connectTokenOf(conf)).toMatch(/^[0-9a-f]{64}$/)
    expect(conf).toMatch(/^spark\.ui\.killEnabled false$/m)
    expect(change).toEqual({ kind: 'updated' })
  })

  it('turns the kill links on for --ui-kill, keeping the secret and the token', async () => {
    const live = sparkAuthConf(off, a64, b64, c64)
    const { secret, change } = await declaredAuthSecret(kubeWith({ 'spark-defaults.conf': base64(live) }), manifests, 'dev', { uiKill: true, workerCores: 1 })
    expect(confIn(secret)).toBe(sparkAuthConf({ uiKill: true, workerCores: 1 }, a64, b64, c64))
    expect(change).toEqual({ kind: 'updated' })
  })

  it('repairs a live Secret that holds no usable conf (pods would start without authentication)', async () => {
    for (const [data, why] of [
      [{}, 'it holds no spark-defaults.conf'],
      [{ 'spark-defaults.conf': '' }, 'its spark-defaults.conf is empty'],
      [{ 'spark-defaults.conf': base64('spark.authenticate false\n') }, 'its spark-defaults.conf does not set spark.authenticate true'],
    ] as const) {
      const { secret, change } = await declaredAuthSecret(kubeWith(data), manifests, 'dev', off)
      expect(change).toEqual({ kind: 'repaired', why })
      expect(authConfProblem(confIn(secret))).toBeUndefined()
    }
  })
})

/**
 * The Docker side of the secret volume: `docker volume` and the write (`docker run`, with the conf on
 * stdin) through the faked CLI; the read through the faked Engine API (a container created with the
 * volume, its archive read, the container deleted). `file` is what the volume holds.
 */
function dockerVolume(engine: FakeEngine, initial: { exists: boolean; file?: string; writeFails?: boolean; archiveFails?: string }) {
  const volume = { ...initial, writes: [] as RecordedCommand[] }
  fake.reset((command) => {
    if (command.line === 'docker volume inspect --format {{json .Labels}} spark-auth') return volume.exists ? { stdout: ours } : { exitCode: 1, stderr: 'no such volume' }
    if (command.line.startsWith('docker volume create ')) return void (volume.exists = true)
    if (command.line.startsWith('docker run ')) {
      volume.writes.push(command)
      if (volume.writeFails) return { exitCode: 1, stderr: 'sh: cannot create /auth/.spark-defaults.conf.7: Read-only file system' }
      // create: another run's file stays (exit 3); replace: moved over it.
      if (command.argv.at(-1) === 'create' && volume.file !== undefined) return { exitCode: 3 }
      volume.file = String(command.options.input)
      return {}
    }
    return undefined
  })
  engine.reset((request) => {
    if (request.method === 'GET' && request.url === '/volumes/spark-auth') return volume.exists ? { json: { Name: 'spark-auth', Labels: JSON.parse(ours) } } : { status: 404, json: { message: 'get spark-auth: no such volume' } }
    if (request.method === 'POST' && request.url === '/containers/create') return { status: 201, json: { Id: 'reader1' } }
    if (request.method === 'GET' && request.url === '/containers/reader1/archive?path=%2Fvolume%2Fspark-defaults.conf') {
      if (volume.archiveFails) return { status: 500, json: { message: volume.archiveFails } }
      return volume.file === undefined ? { status: 404, json: { message: 'Could not find the file /volume/spark-defaults.conf in container reader1' } } : { raw: tarOf('spark-defaults.conf', volume.file) }
    }
    if (request.method === 'DELETE' && request.url === '/containers/reader1?force=1') return { status: 204 }
    return undefined
  })
  return volume
}

const ours = JSON.stringify({ app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s', role: 'auth' })

describe('regularFileOf', () => {
  it("is the content of a one-file tar archive, as the engine's archive API sends it", () => {
    const conf = sparkAuthConf()
    expect(regularFileOf(tarOf('spark-defaults.conf', conf))).toBe(conf)
    expect(regularFileOf(tarOf('empty.conf', ''))).toBe('')
  })

  it('is undefined for a directory, a symlink or a short archive', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssk8s-tar-'))
    try {
      symlinkSync('/etc/passwd', join(dir, 'link'))
      expect(regularFileOf(execFileSync('tar', ['--create', '--format=ustar', '--file=-', '--directory', tmpdir(), dir.slice(tmpdir().length + 1)]))).toBeUndefined()
      expect(regularFileOf(execFileSync('tar', ['--create', '--format=ustar', '--file=-', '--directory', dir, 'link']))).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    expect(regularFileOf(Buffer.alloc(100))).toBeUndefined()
  })
})

describe('readVolumeFile (Docker Engine API)', () => {
  const engine = useFakeEngine()
  const labels = { app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' }

  it('reads the file from a never-started container, labelled ours, that mounts the volume read-only, without a network or a log, and deletes it', async () => {
    dockerVolume(engine, { exists: true, file: 'spark.authenticate true\n' })
    expect(await readVolumeFile('spark-auth', 'spark-defaults.conf', 'spark:1', labels)).toBe('spark.authenticate true\n')
    expect(engine.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /containers/create',
      'GET /containers/reader1/archive?path=%2Fvolume%2Fspark-defaults.conf',
      'DELETE /containers/reader1?force=1',
    ])
    expect(JSON.parse(engine.requests[0].body)).toEqual({
      Image: 'spark:1',
      Entrypoint: ['true'],
      Cmd: [],
      Labels: labels,
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'none' }, Mounts: [{ Type: 'volume', Source: 'spark-auth', Target: '/volume', ReadOnly: true }] },
    })
    expect(fake.calls).toEqual([])
  })

  it('is undefined when the file is not there, and still deletes the container', async () => {
    dockerVolume(engine, { exists: true })
    expect(await readVolumeFile('spark-auth', 'spark-defaults.conf', 'spark:1', labels)).toBeUndefined()
    expect(engine.requests.at(-1)).toMatchObject({ method: 'DELETE', url: '/containers/reader1?force=1' })
  })

  it("throws the engine's message when the archive cannot be read, and still deletes the container", async () => {
    dockerVolume(engine, { exists: true, archiveFails: 'archive failed' })
    await expect(readVolumeFile('spark-auth', 'spark-defaults.conf', 'spark:1', labels)).rejects.toThrow('Docker: archive failed')
    expect(engine.requests.at(-1)).toMatchObject({ method: 'DELETE', url: '/containers/reader1?force=1' })
  })
})

describe('volumeAuthConf (Docker)', () => {
  const engine = useFakeEngine()

  it("reads the conf through the engine's archive API, from the volume mounted read-only", async () => {
    dockerVolume(engine, { exists: true, file: sparkAuthConf(off, a64, b64, c64) })
    expect(connectTokenOf((await volumeAuthConf(manifests, 'spark:1'))!)).toBe(b64)
    expect(engine.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /volumes/spark-auth',
      'POST /containers/create',
      'GET /containers/reader1/archive?path=%2Fvolume%2Fspark-defaults.conf',
      'DELETE /containers/reader1?force=1',
    ])
    expect(JSON.parse(engine.requests[1].body).HostConfig.Mounts).toEqual([{ Type: 'volume', Source: 'spark-auth', Target: '/volume', ReadOnly: true }])
    // A reader a killed run leaves behind goes with cluster:down.
    expect(JSON.parse(engine.requests[1].body).Labels).toEqual({ app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
  })

  it('never makes a missing volume (a container that mounts it would, unlabelled): it says to run cluster:up', async () => {
    dockerVolume(engine, { exists: false })
    await expect(volumeAuthConf(manifests, 'spark:1')).rejects.toThrow(/no Docker volume spark-auth .*npm run cluster:up/)
    expect(engine.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /volumes/spark-auth'])
  })

  it('is undefined when the volume holds no conf (connect then refuses it as such)', async () => {
    dockerVolume(engine, { exists: true })
    expect(await volumeAuthConf(manifests, 'spark:1')).toBeUndefined()
  })
})

describe('ensureAuthVolume (Docker)', () => {
  const engine = useFakeEngine()
  const writeLine = 'docker run --rm --interactive --network none --log-driver none --user 0:0 --volume spark-auth:/auth --entrypoint sh spark:1 -c'
  const modeOf = (write: RecordedCommand) => write.argv.slice(-3)

  it('creates the volume and writes a new conf in create mode through stdin: neither secret nor token is on any command line or request', async () => {
    const volume = dockerVolume(engine, { exists: false })
    const { conf, change } = await ensureAuthVolume(manifests, 'spark:1', off)
    expect(change).toEqual({ kind: 'created' })
    expect(fake.lines()[1]).toBe('docker volume create --label app=spark --label app.kubernetes.io/managed-by=spark-standalone-k8s --label role=auth spark-auth')
    expect(volume.writes).toHaveLength(1)
    const [write] = volume.writes
    expect(write.line.startsWith(`${writeLine} `)).toBe(true)
    expect(modeOf(write)).toEqual(['sh', 'spark-defaults.conf', 'create'])
    expect(write.options.input).toBe(conf)
    expect(volume.file).toBe(conf)
    const [secret, token] = [secretOf(conf)!, connectTokenOf(conf)!]
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    for (const value of [secret, token]) {
      for (const call of fake.calls) expect(call.argv.join('\n')).not.toContain(value)
      for (const request of engine.requests) expect(`${request.url} ${request.body}`).not.toContain(value)
    }
  })

  it('keeps a volume of ours whose conf is usable and matches the settings: no write', async () => {
    const live = sparkAuthConf(off, a64, b64, c64)
    const volume = dockerVolume(engine, { exists: true, file: live })
    expect(await ensureAuthVolume(manifests, 'spark:1', off)).toEqual({ conf: live })
    expect(volume.writes).toEqual([])
    expect(fake.lines()).toEqual(['docker volume inspect --format {{json .Labels}} spark-auth'])
  })

  it('repairs an empty volume (what an interrupted first run leaves) with a new conf, in replace mode', async () => {
    const volume = dockerVolume(engine, { exists: true, file: '' })
    const { conf, change } = await ensureAuthVolume(manifests, 'spark:1', off)
    expect(change).toEqual({ kind: 'repaired', why: 'its spark-defaults.conf is empty' })
    expect(volume.writes.map(modeOf)).toEqual([['sh', 'spark-defaults.conf', 'replace']])
    expect(authConfProblem(conf)).toBeUndefined()
    expect(volume.file).toBe(conf)
  })

  it('repairs a volume of ours that holds no conf file, in replace mode', async () => {
    const volume = dockerVolume(engine, { exists: true })
    expect((await ensureAuthVolume(manifests, 'spark:1', off)).change).toEqual({ kind: 'repaired', why: 'it holds no spark-defaults.conf' })
    expect(volume.writes.map(modeOf)).toEqual([['sh', 'spark-defaults.conf', 'replace']])
  })

  it('rewrites the settings for --ui-kill, keeping the secret and the token', async () => {
    const volume = dockerVolume(engine, { exists: true, file: sparkAuthConf(off, a64, b64, c64) })
    expect(await ensureAuthVolume(manifests, 'spark:1', { uiKill: true, workerCores: 1 })).toEqual({ conf: sparkAuthConf({ uiKill: true, workerCores: 1 }, a64, b64, c64), change: { kind: 'updated' } })
    expect(volume.writes.map(modeOf)).toEqual([['sh', 'spark-defaults.conf', 'replace']])
  })

  it('keeps the conf another run linked into a new volume first, and returns that one', async () => {
    const theirs = sparkAuthConf(off, a64, b64, c64)
    const volume = dockerVolume(engine, { exists: false })
    // The other run's file lands between this run's volume create and its write.
    const create = fake.respond
    fake.respond = (command) => {
      if (command.line.startsWith('docker volume create ')) volume.file = theirs
      return create(command)
    }
    expect(await ensureAuthVolume(manifests, 'spark:1', off)).toEqual({ conf: theirs, change: { kind: 'created' } })
    expect(volume.writes.map(modeOf)).toEqual([['sh', 'spark-defaults.conf', 'create']])
    expect(volume.file).toBe(theirs)
  })

  it('says so when the write fails', async () => {
    dockerVolume(engine, { exists: true, file: '', writeFails: true })
    await expect(ensureAuthVolume(manifests, 'spark:1', off)).rejects.toThrow("could not write the cluster's secret into Docker volume spark-auth: sh: cannot create /auth/.spark-defaults.conf.7: Read-only file system")
  })

  it('refuses a same-named volume that is not ours', async () => {
    fake.reset(() => ({ stdout: JSON.stringify({ app: 'spark' }) }))
    await expect(ensureAuthVolume(manifests, 'spark:1', off)).rejects.toThrow(StepError)
    expect(fake.lines()).toEqual(['docker volume inspect --format {{json .Labels}} spark-auth'])
  })
})

describe('the write script (run by sh against a directory standing in for the volume)', () => {
  const engine = useFakeEngine()

  /** The script ensureAuthVolume hands `sh -c`, with /auth/ pointed at a scratch dir and chown recorded instead of done. */
  async function writeScript(): Promise<string> {
    const volume = dockerVolume(engine, { exists: false })
    await ensureAuthVolume(manifests, 'spark:1', off)
    const argv = volume.writes[0].argv
    return argv[argv.indexOf('-c') + 1]
  }

  function runScript(script: string, dir: string, mode: string, input: string): { status: number; chowned: string } {
    const bin = join(dir, '..', 'bin')
    try {
      execFileSync('sh', ['-c', script.replaceAll('/auth/', `${dir}/`), 'sh', 'spark-defaults.conf', mode], { input, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: ['pipe', 'ignore', 'ignore'] })
      return { status: 0, chowned: readFileSync(join(bin, 'chowned'), 'utf8') }
    } catch (error) {
      return { status: (error as { status: number }).status, chowned: readFileSync(join(bin, 'chowned'), 'utf8') }
    }
  }

  function scratch(): string {
    const root = mkdtempSync(join(tmpdir(), 'ssk8s-auth-'))
    mkdirSync(join(root, 'auth'))
    mkdirSync(join(root, 'bin'))
    writeFileSync(join(root, 'bin', 'chown'), `#!/bin/sh\necho "$@" >> "${join(root, 'bin', 'chowned')}"\n`, { mode: 0o755 })
    writeFileSync(join(root, 'bin', 'chowned'), '')
    return join(root, 'auth')
  }

  it('create: writes the conf readable by its owner alone, handed to 185:0, leaving no temporary file', async () => {
    const script = await writeScript()
    const dir = scratch()
    try {
      const { status, chowned } = runScript(script, dir, 'create', 'conf one\n')
      expect(status).toBe(0)
      expect(readdirSync(dir)).toEqual(['spark-defaults.conf'])
      expect(readFileSync(join(dir, 'spark-defaults.conf'), 'utf8')).toBe('conf one\n')
      expect(statSync(join(dir, 'spark-defaults.conf')).mode & 0o777).toBe(0o400)
      expect(chowned).toMatch(new RegExp(`^185:0 ${dir}/\\.spark-defaults\\.conf\\.\\d+\\n$`))
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true })
    }
  })

  it("create: exits 3 and keeps another run's file; replace: moves the new one over it", async () => {
    const script = await writeScript()
    const dir = scratch()
    try {
      expect(runScript(script, dir, 'create', 'first\n').status).toBe(0)
      expect(runScript(script, dir, 'create', 'second\n').status).toBe(3)
      expect(readFileSync(join(dir, 'spark-defaults.conf'), 'utf8')).toBe('first\n')
      expect(runScript(script, dir, 'replace', 'third\n').status).toBe(0)
      expect(readFileSync(join(dir, 'spark-defaults.conf'), 'utf8')).toBe('third\n')
      expect(readdirSync(dir)).toEqual(['spark-defaults.conf'])
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true })
    }
  })
})

describe('plannedAuthConf keeps what a user added to the conf', () => {
  it("keeps their own settings after ours, and rewrites only the tool's keys", () => {
    const live = `${sparkAuthConf({ uiKill: false, workerCores: 1 }, 'ab'.repeat(32), 'cd'.repeat(32), 'ef'.repeat(32))}spark.eventLog.enabled true\nspark.ui.killEnabled true\n`
    const planned = plannedAuthConf({ conf: live }, { uiKill: false, workerCores: 1 })
    expect(planned.conf).toBe(`${sparkAuthConf({ uiKill: false, workerCores: 1 }, 'ab'.repeat(32), 'cd'.repeat(32), 'ef'.repeat(32))}spark.eventLog.enabled true\n`)
    expect(planned.change).toEqual({ kind: 'updated' })
    expect(plannedAuthConf({ conf: planned.conf }, { uiKill: false, workerCores: 1 })).toEqual({ conf: planned.conf })
  })
})
