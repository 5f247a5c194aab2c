// The cluster's shared secret: made once, kept, and never put where people or logs can see it.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { authVolume, connectTokenOf, secretOf, sparkAuthConf, withConnectToken } from '../../scripts/lib/cluster-secret.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { envValue, loadManifests, mainContainer, podTemplate } from '../../scripts/lib/manifests.ts'
import { kubeQuantityToBytes } from '../../scripts/lib/units.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { ensureAuthVolume, volumeAuthConf } = await import('../../scripts/lib/docker-secret.ts')
const { declaredAuthSecret } = await import('../../scripts/lib/kube-secret.ts')
const { planContainer } = await import('../../scripts/lib/docker.ts')

const manifests = loadManifests()

beforeEach(() => fake.reset())

describe('sparkAuthConf', () => {
  it('turns on authentication and AES RPC encryption without SASL fallback, with 256 random bits', () => {
    const conf = sparkAuthConf()
    expect(conf).toMatch(/^spark\.authenticate true$/m)
    expect(conf).toMatch(/^spark\.network\.crypto\.enabled true$/m)
    expect(conf).toMatch(/^spark\.network\.crypto\.saslFallback false$/m)
    expect(secretOf(conf)).toMatch(/^[0-9a-f]{64}$/)
    expect(secretOf(sparkAuthConf())).not.toBe(secretOf(conf))
  })

  it('holds a Spark Connect token of its own, apart from the RPC secret', () => {
    const conf = sparkAuthConf()
    expect(connectTokenOf(conf)).toMatch(/^[0-9a-f]{64}$/)
    expect(connectTokenOf(conf)).not.toBe(secretOf(conf))
  })

  it('gives a conf made before Spark Connect a token, keeps the RPC secret, and leaves a conf with one as it is', () => {
    const old = 'spark.authenticate true\nspark.authenticate.secret abc\n'
    const upgraded = withConnectToken(old)
    expect(secretOf(upgraded)).toBe('abc')
    expect(connectTokenOf(upgraded)).toMatch(/^[0-9a-f]{64}$/)
    expect(withConnectToken(upgraded)).toBe(upgraded)
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

  it('makes a new random secret, labelled ours, when there is none', async () => {
    const secret = await declaredAuthSecret(kubeWith(), manifests, 'dev')
    expect(secret.metadata).toMatchObject({ name: 'spark-auth', namespace: 'dev', labels: { app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s', role: 'auth' } })
    expect(secretOf(Buffer.from(secret.data!['spark-defaults.conf'], 'base64').toString())).toMatch(/^[0-9a-f]{64}$/)
  })

  it('keeps the live secret, so a second cluster:up changes nothing', async () => {
    const kept = Buffer.from(sparkAuthConf('ab'.repeat(32))).toString('base64')
    const secret = await declaredAuthSecret(kubeWith({ 'spark-defaults.conf': kept }), manifests, 'dev')
    expect(secret.data).toEqual({ 'spark-defaults.conf': kept })
  })

  it('adds a Connect token to a live secret made before Spark Connect, keeping its RPC secret', async () => {
    const old = Buffer.from('spark.authenticate true\nspark.authenticate.secret abc\n').toString('base64')
    const secret = await declaredAuthSecret(kubeWith({ 'spark-defaults.conf': old }), manifests, 'dev')
    const conf = Buffer.from(secret.data!['spark-defaults.conf'], 'base64').toString()
    expect(secretOf(conf)).toBe('abc')
    expect(connectTokenOf(conf)).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('volumeAuthConf (Docker)', () => {
  it('reads the conf through a read-only mount, as the Spark user, without a network', async () => {
    fake.reset(() => ({ stdout: sparkAuthConf() }))
    expect(connectTokenOf(await volumeAuthConf(manifests, 'spark:1'))).toMatch(/^[0-9a-f]{64}$/)
    expect(fake.lines()[1]).toBe('docker run --rm --network none --user 185:0 --mount type=volume,source=spark-auth,target=/auth,readonly --entrypoint cat spark:1 /auth/spark-defaults.conf')
  })

  it('never makes a missing volume (docker run would, unlabelled): it says to run cluster:up', async () => {
    fake.reset(() => ({ exitCode: 1, stderr: 'no such volume' }))
    await expect(volumeAuthConf(manifests, 'spark:1')).rejects.toThrow(/no Docker volume spark-auth .*npm run cluster:up/)
    expect(fake.lines()).toEqual(['docker volume inspect spark-auth'])
  })
})

describe('ensureAuthVolume (Docker)', () => {
  const ours = JSON.stringify({ app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s', role: 'auth' })

  it('creates the volume and writes the conf through stdin: the secret is on no command line', async () => {
    fake.reset((command) => (command.line.startsWith('docker volume inspect') ? { exitCode: 1, stderr: 'no such volume' } : {}))
    expect(await ensureAuthVolume(manifests, 'spark:1')).toBe(true)
    const write = fake.calls.find((call) => call.line.startsWith('docker run'))!
    const secret = secretOf(String(write.options.input))
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    for (const call of fake.calls) expect(call.line).not.toContain(secret)
    expect(write.line).toContain('--network none')
    expect(fake.lines()[1]).toBe('docker volume create --label app=spark --label app.kubernetes.io/managed-by=spark-standalone-k8s --label role=auth spark-auth')
  })

  it('keeps a volume that is ours', async () => {
    fake.reset(() => ({ stdout: ours }))
    expect(await ensureAuthVolume(manifests, 'spark:1')).toBe(false)
    expect(fake.lines()).toEqual(["docker volume inspect --format {{json .Labels}} spark-auth"])
  })

  it('refuses a same-named volume that is not ours', async () => {
    fake.reset(() => ({ stdout: JSON.stringify({ app: 'spark' }) }))
    await expect(ensureAuthVolume(manifests, 'spark:1')).rejects.toThrow(StepError)
  })
})
