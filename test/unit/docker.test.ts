import { beforeEach, describe, expect, it, vi } from 'vitest'
import {
  decodeShape,
  describeChanges,
  dockerLayout,
  encodeShape,
  ensureContainer,
  ensureNetwork,
  imageLabel,
  listContainers,
  pinnedLocally,
  planContainer,
  reconcileWorkers,
  stopPlan,
  shapeLabel,
  specHashLabel,
  workerPlans,
  type ContainerPlan,
  type ContainerSummary,
} from '../../scripts/lib/docker/containers.ts'
import { authConfAnnotation, sparkAuthConf, withAuthConf } from '../../scripts/lib/cluster-secret.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { envValue, loadManifests, mainContainer, podTemplate, publishedPorts, renderCluster, renderPiJob, type ClusterShape } from '../../scripts/lib/manifests.ts'
import { fake } from './fake-proc.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { dockerRuntime } from '../../scripts/lib/docker/runtime.ts'
import { makeTarget } from '../../scripts/lib/target.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))

const manifests = loadManifests()
const layout = dockerLayout(manifests)
const shape: ClusterShape = { image: 'spark-standalone:4.0.1-0123456789ab', namespace: 'default', workers: 2, workerCores: 1, workerMemory: '1g' }

function masterPlan(s: ClusterShape = shape): ContainerPlan {
  const rendered = renderCluster(manifests, s)
  return planContainer(podTemplate(rendered.master), {
    name: layout.masterName,
    network: layout.network,
    aliases: layout.masterAliases,
    publish: publishedPorts(manifests),
    restart: true,
    labels: { [shapeLabel]: encodeShape(s) },
  })
}

function workerPlan(s: ClusterShape = shape, index = 1): ContainerPlan {
  return workerPlans(renderCluster(manifests, s).worker, layout, index, encodeShape(s))[index - 1]
}

function piPlan(): ContainerPlan {
  const job = renderPiJob(manifests, { image: shape.image, namespace: 'default', partitions: 4 })
  return planContainer(podTemplate(job), { name: 'spark-pi-test', network: layout.network, restart: false })
}

/** Values following each occurrence of `flag` in argv. */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1]] : []))
}

describe('dockerLayout', () => {
  it('names the network after the app label and the containers after the Deployments', () => {
    expect(layout.network).toBe('spark')
    expect(layout.ourLabels).toEqual({ app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
    expect(layout.masterName).toBe('spark-master')
    expect(layout.masterAliases).toEqual(['spark-master-service'])
    expect(layout.workerName(1)).toBe('spark-worker-1')
    expect(layout.workerName(12)).toBe('spark-worker-12')
  })
})

describe('planContainer', () => {
  it('publishes the master NodePorts on 127.0.0.1 only', () => {
    const publish = valuesOf(masterPlan().runArgs, '--publish')
    expect(publish).toEqual(['127.0.0.1:30000:7077', '127.0.0.1:30001:8080'])
    expect(masterPlan().runArgs.join(' ')).not.toMatch(/0\.0\.0\.0/)
    expect(valuesOf(workerPlan().runArgs, '--publish')).toEqual([])
    expect(valuesOf(piPlan().runArgs, '--publish')).toEqual([])
  })

  it('gives the master the Service name as network alias, on the spark network', () => {
    const args = masterPlan().runArgs
    expect(valuesOf(args, '--network-alias')).toEqual(['spark-master-service'])
    expect(valuesOf(args, '--network')).toEqual(['spark'])
    expect(valuesOf(args, '--name')).toEqual(['spark-master'])
    expect(args[0]).toBe('--detach')
  })

  it('labels containers app=spark and their role, plus the spec hash', () => {
    const plans = { master: masterPlan(), worker: workerPlan(), driver: piPlan() }
    for (const [role, plan] of Object.entries(plans)) {
      const labels = valuesOf(plan.runArgs, '--label')
      expect(labels).toContain('app=spark')
      expect(labels).toContain(`role=${role}`)
      expect(labels).toContain(`${specHashLabel}=${plan.specHash}`)
    }
    expect(valuesOf(masterPlan().runArgs, '--label')).toContain(`${shapeLabel}=${encodeShape(shape)}`)
  })

  it("turns the template's annotations (the conf digest) into labels, so a new conf changes the spec hash", () => {
    const rendered = renderCluster(manifests, shape)
    const plain = planContainer(podTemplate(rendered.master), { name: 'spark-master', network: 'spark', restart: true })
    const annotated = planContainer(podTemplate(withAuthConf(rendered.master, sparkAuthConf())), { name: 'spark-master', network: 'spark', restart: true })
    const digest = rendered.master.spec!.template.metadata!.annotations![authConfAnnotation]
    expect(digest).toMatch(/^[0-9a-f]{16}$/)
    expect(valuesOf(annotated.runArgs, '--label')).toContain(`${authConfAnnotation}=${digest}`)
    expect(valuesOf(plain.runArgs, '--label').some((label) => label.startsWith(`${authConfAnnotation}=`))).toBe(false)
    expect(annotated.specHash).not.toBe(plain.specHash)
    const again = planContainer(podTemplate(withAuthConf(renderCluster(manifests, shape).master, sparkAuthConf())), { name: 'spark-master', network: 'spark', restart: true })
    expect(again.specHash).not.toBe(annotated.specHash)
  })

  it('passes every literal env var of the manifest with --env (the pod IP from the downward API is not needed: container names resolve)', () => {
    const cases: Array<[ContainerPlan, ReturnType<typeof mainContainer>]> = [
      [masterPlan(), mainContainer(renderCluster(manifests, shape).master)],
      [workerPlan(), mainContainer(renderCluster(manifests, shape).worker)],
      [piPlan(), mainContainer(renderPiJob(manifests, { image: shape.image, namespace: 'default', partitions: 4 }))],
    ]
    for (const [plan, container] of cases) {
      const env = valuesOf(plan.runArgs, '--env')
      expect(env).toEqual(container.env!.filter((v) => v.value !== undefined).map((v) => `${v.name}=${v.value}`))
    }
    expect(valuesOf(workerPlan({ ...shape, workerCores: 3, workerMemory: '2g' }).runArgs, '--env')).toEqual(
      expect.arrayContaining(['SPARK_WORKER_CORES=3', 'SPARK_WORKER_MEMORY=2g']),
    )
    expect(valuesOf(piPlan().runArgs, '--env')).toContain('PI_PARTITIONS=4')
    expect(valuesOf(masterPlan().runArgs, '--env')).toContain(
      'SPARK_MASTER_OPTS=-Dspark.master.rest.enabled=false -Dspark.ui.reverseProxy=true -Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=/opt/spark/recovery -Dspark.deploy.recoveryTimeout=15s',
    )
  })

  it('runs as 185:0 with all capabilities dropped and no new privileges', () => {
    for (const plan of [masterPlan(), workerPlan(), piPlan()]) {
      expect(valuesOf(plan.runArgs, '--user')).toEqual(['185:0'])
      expect(valuesOf(plan.runArgs, '--cap-drop')).toEqual(['ALL'])
      expect(valuesOf(plan.runArgs, '--security-opt')).toEqual(['no-new-privileges'])
      expect(plan.runArgs).not.toContain('--privileged')
    }
  })

  it('limits memory to the resource limit plus the tmpfs sizes (tmpfs pages count as the container\'s memory), and cpus to the cpu limit', () => {
    const MiB = 1024 ** 2
    expect(valuesOf(masterPlan().runArgs, '--memory')).toEqual([`${(1024 + 512) * MiB}b`])
    // The master may burst to two cores while its JVM starts (a restart is when the cluster is down).
    expect(valuesOf(masterPlan().runArgs, '--cpus')).toEqual(['2'])
    expect(valuesOf(workerPlan().runArgs, '--memory')).toEqual([`${(2048 + 3072) * MiB}b`])
    expect(valuesOf(workerPlan({ ...shape, workerCores: 3, workerMemory: '4g' }).runArgs, '--memory')).toEqual([`${(5914 + 3072) * MiB}b`])
    expect(valuesOf(workerPlan({ ...shape, workerCores: 3, workerMemory: '4g' }).runArgs, '--cpus')).toEqual(['3'])
    expect(valuesOf(piPlan().runArgs, '--memory')).toEqual([`${(1536 + 1024) * MiB}b`])
    expect(valuesOf(piPlan().runArgs, '--cpus')).toEqual(['1'])
  })

  it("cuts a cpu limit to the engine's CPUs, which Docker would refuse to exceed", () => {
    const rendered = renderCluster(manifests, shape)
    const master = (engineCpus?: number) => planContainer(podTemplate(rendered.master), { name: layout.masterName, network: layout.network, restart: true, engineCpus })
    expect(valuesOf(master(1).runArgs, '--cpus')).toEqual(['1'])
    expect(valuesOf(master(8).runArgs, '--cpus')).toEqual(['2'])
    expect(master(1).specHash).not.toBe(master(8).specHash)
  })

  it('restarts master and workers unless stopped, but not the Pi driver', () => {
    expect(valuesOf(masterPlan().runArgs, '--restart')).toEqual(['unless-stopped'])
    expect(valuesOf(workerPlan().runArgs, '--restart')).toEqual(['unless-stopped'])
    expect(piPlan().runArgs).not.toContain('--restart')
  })

  it('ends with the image and then the container args, in order', () => {
    const master = masterPlan().runArgs
    expect(master.slice(-4)).toEqual([shape.image, '/usr/local/bin/require-auth', '/opt/spark/bin/spark-class', 'org.apache.spark.deploy.master.Master'])
    const worker = workerPlan().runArgs
    expect(worker.slice(-6)).toEqual([shape.image, '/usr/local/bin/require-auth', '/usr/local/bin/await-master', '/opt/spark/bin/spark-class', 'org.apache.spark.deploy.worker.Worker', 'spark://spark-master-service:7077'])
    const pi = piPlan().runArgs
    const piArgs = mainContainer(manifests.piJob).args!
    expect(pi.slice(-(piArgs.length + 1))).toEqual([shape.image, ...piArgs])
    // The image is the only positional before the args: every other word belongs to a flag.
    expect(master.indexOf(shape.image)).toBe(master.length - 4)
    expect(master).not.toContain('--entrypoint')
  })

  it('keeps an explicit command as --entrypoint plus its arguments', () => {
    const job = renderPiJob(manifests, { image: 'img', namespace: 'default' })
    mainContainer(job).command = ['/bin/sh', '-c']
    mainContainer(job).args = ['echo hi']
    const args = planContainer(podTemplate(job), { name: 'x', network: 'spark', restart: false }).runArgs
    expect(valuesOf(args, '--entrypoint')).toEqual(['/bin/sh'])
    expect(args.slice(-3)).toEqual(['img', '-c', 'echo hi'])
  })

  it('refuses env vars that are not literal values', () => {
    const job = renderPiJob(manifests, { image: 'img', namespace: 'default' })
    mainContainer(job).env!.push({ name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } })
    expect(() => planContainer(podTemplate(job), { name: 'x', network: 'spark', restart: false })).toThrow(/FROM_SECRET/)
  })

  it('gives a stable spec hash for equal input', () => {
    expect(masterPlan().specHash).toBe(masterPlan().specHash)
    expect(workerPlan().specHash).toBe(workerPlan().specHash)
    expect(masterPlan().specHash).toMatch(/^[0-9a-f]{12}$/)
    expect(masterPlan().runArgs).toEqual(masterPlan().runArgs)
  })

  it('gives a different spec hash when the worker memory, cores or image change', () => {
    const base = workerPlan().specHash
    expect(workerPlan({ ...shape, workerMemory: '2g' }).specHash).not.toBe(base)
    expect(workerPlan({ ...shape, workerCores: 2 }).specHash).not.toBe(base)
    expect(workerPlan({ ...shape, image: 'spark-standalone:4.0.1-ba9876543210' }).specHash).not.toBe(base)
    expect(workerPlan(shape, 2).specHash).not.toBe(base)
  })

  it('the worker spec hash changes with the memory even when the shape label is left out', () => {
    const plan = (memory: string) =>
      planContainer(podTemplate(renderCluster(manifests, { ...shape, workerMemory: memory }).worker), { name: 'spark-worker-1', network: 'spark', restart: true })
    expect(plan('2g').specHash).not.toBe(plan('1g').specHash)
  })
})

describe('an image pinned by its ID (name:tag@sha256:…)', () => {
  const id = `sha256:${'ab'.repeat(32)}`
  const pinned = `${shape.image}@${id}`
  beforeEach(() => fake.reset())

  it('is the local image ID under that name, asked of the engine', async () => {
    fake.reset((command) => (command.line.startsWith('docker image inspect') ? { stdout: `${id}\n` } : undefined))
    expect(await pinnedLocally(shape.image)).toBe(pinned)
    expect(fake.lines()).toEqual([`docker image inspect --format {{.Id}} ${shape.image}`])
  })

  it('is what the pods run on Docker: the publish step pins the built tag to its ID', async () => {
    fake.reset((command) => (command.line.startsWith('docker image inspect') ? { stdout: `${id}\n` } : undefined))
    const runtime = dockerRuntime(makeTarget(parseConfig('up', ['--platform', 'docker'], {}), 'docker', manifests))
    expect(await runtime.publishImage(shape.image)).toEqual({ skipped: `the Docker engine that built the image runs it, by its ID ${id}`, image: pinned })
  })

  it('runs by the ID alone (a re-tag of the name cannot change what a new container runs), its name kept in a label', () => {
    const plans = [masterPlan({ ...shape, image: pinned }), workerPlan({ ...shape, image: pinned })]
    for (const { runArgs } of plans) {
      expect(runArgs).toContain(id)
      expect(runArgs).not.toContain(shape.image)
      expect(runArgs).not.toContain(pinned)
      expect(valuesOf(runArgs, '--label')).toContain(`${imageLabel}=${pinned}`)
    }
    expect(masterPlan({ ...shape, image: pinned }).runArgs.slice(-4)[0]).toBe(id)
  })

  it('is read back from that label: listContainers asks for it before the engine\'s image field', async () => {
    fake.reset(() => ({ stdout: '' }))
    await listContainers({ app: 'spark' })
    expect(valuesOf(fake.calls[0].argv, '--format')[0]).toContain(`{{or (.Label "${imageLabel}") .Image}}`)
  })
})

describe('encodeShape / decodeShape', () => {
  it('round-trips cores, memory and image', () => {
    const worker = { workerCores: 3, workerMemory: '1536m', image: 'localhost:5000/team/spark:4.0.1-0123456789ab' }
    expect(encodeShape(worker)).toBe('3;1536m;localhost:5000/team/spark:4.0.1-0123456789ab')
    expect(decodeShape(encodeShape(worker))).toEqual(worker)
  })

  it('decodes nothing from a missing or empty label', () => {
    expect(decodeShape(undefined)).toBeUndefined()
    expect(decodeShape('')).toBeUndefined()
  })
})

describe('describeChanges', () => {
  it('lists only what changed', () => {
    expect(
      describeChanges([
        ['spark-master', 'unchanged'],
        ['spark-worker-1', 'started'],
        ['spark-worker-2', 'replaced'],
        ['spark-worker-3', 'created'],
        ['spark-worker-4', 'removed'],
      ]),
    ).toBe('spark-worker-1 started, spark-worker-2 replaced, spark-worker-3 created, spark-worker-4 removed')
  })

  it('is empty when nothing changed', () => {
    expect(describeChanges([['spark-master', 'unchanged']])).toBe('')
    expect(describeChanges([])).toBe('')
  })
})

function summary(name: string, state: string, specHash: string, role = 'worker'): ContainerSummary {
  return { id: `id-${name}`, name, state, status: state === 'running' ? 'Up 3 minutes' : 'Exited (1) 1 minute ago', image: shape.image, specHash, labels: { app: 'spark', role, [specHashLabel]: specHash } }
}

describe('listContainers (faked docker)', () => {
  beforeEach(() => fake.reset())

  it('filters by every label and parses the listing (one field per label), sorted by name numerically', async () => {
    // Fields: id, name, state, status, image, spec hash, then the labels app, role, shape, auth conf digest.
    const line = (id: string, name: string, state: string, hash: string, app: string, role: string, shape: string, conf = '') =>
      [id, name, state, state === 'running' ? 'Up 2 minutes' : 'Exited (0)', 'spark:x', hash, app, role, shape, conf].join('\t')
    fake.reset(() => ({
      stdout: [
        line('c10', 'spark-worker-10', 'running', 'aaa', 'spark', 'worker', ''),
        line('c2', 'spark-worker-2', 'exited', 'bbb', 'spark', 'worker', '1;1g;spark:x', '0123456789abcdef'),
        line('cm', 'spark-master', 'running', '', 'spark', 'master', ''),
        '',
      ].join('\n'),
    }))
    const containers = await listContainers({ app: 'spark', role: 'worker' })
    expect(fake.calls).toHaveLength(1)
    const argv = fake.calls[0].argv
    expect(argv.slice(0, 4)).toEqual(['docker', 'ps', '--all', '--no-trunc'])
    expect(valuesOf(argv, '--filter')).toEqual(['label=app=spark', 'label=role=worker'])
    const format = valuesOf(argv, '--format')[0]
    expect(format).toContain(`{{.Label "${specHashLabel}"}}`)
    expect(format).toContain(`{{.Label "${shapeLabel}"}}`)
    expect(format).toContain(`{{.Label "${authConfAnnotation}"}}`)
    expect(format).not.toContain('{{.Labels}}')
    expect(containers.map((c) => c.name)).toEqual(['spark-master', 'spark-worker-2', 'spark-worker-10'])
    const two = containers[1]
    expect(two).toMatchObject({ id: 'c2', state: 'exited', image: 'spark:x', specHash: 'bbb' })
    expect(two.labels).toEqual({ role: 'worker', app: 'spark', [shapeLabel]: '1;1g;spark:x', [authConfAnnotation]: '0123456789abcdef' })
    expect(containers[2].labels).toEqual({ role: 'worker', app: 'spark' })
    expect(decodeShape(two.labels[shapeLabel])).toEqual({ workerCores: 1, workerMemory: '1g', image: 'spark:x' })
    expect(containers[0].specHash).toBe('')
  })

  it('returns an empty list when docker lists nothing', async () => {
    fake.reset(() => ({ stdout: '' }))
    expect(await listContainers({ app: 'spark' })).toEqual([])
  })
})

describe('ensureContainer (faked docker)', () => {
  beforeEach(() => fake.reset())

  it('leaves a running container with the same spec hash alone', async () => {
    const plan = workerPlan()
    expect(await ensureContainer(plan, summary(plan.name, 'running', plan.specHash))).toBe('unchanged')
    expect(fake.calls).toEqual([])
  })

  it('starts a stopped container with the same spec hash', async () => {
    const plan = workerPlan()
    expect(await ensureContainer(plan, summary(plan.name, 'exited', plan.specHash))).toBe('started')
    expect(fake.lines()).toEqual(['docker start spark-worker-1'])
  })

  it('replaces a drifted container: rm --force, then run', async () => {
    const plan = workerPlan()
    expect(await ensureContainer(plan, summary(plan.name, 'running', '0000deadbeef'))).toBe('replaced')
    expect(fake.calls.map((c) => c.argv.slice(0, 2).join(' '))).toEqual(['docker rm', 'docker run'])
    expect(fake.calls[0].argv).toEqual(['docker', 'rm', '--force', 'spark-worker-1'])
    expect(fake.calls[1].argv).toEqual(['docker', 'run', ...plan.runArgs])
  })

  it('creates a missing container', async () => {
    const plan = masterPlan()
    expect(await ensureContainer(plan, undefined)).toBe('created')
    expect(fake.calls).toHaveLength(1)
    expect(fake.calls[0].argv).toEqual(['docker', 'run', ...plan.runArgs])
  })

  it('propagates a failing docker run', async () => {
    fake.reset((command) => (command.argv[1] === 'run' ? { exitCode: 125, stderr: 'no such image' } : undefined))
    await expect(ensureContainer(workerPlan(), undefined)).rejects.toThrow()
  })
})

describe('reconcileWorkers (faked docker)', () => {
  beforeEach(() => fake.reset())

  it('removes extra workers and leaves matching ones alone', async () => {
    const plans = workerPlans(renderCluster(manifests, shape).worker, layout, 2, encodeShape(shape))
    const existing = [
      summary('spark-worker-1', 'running', plans[0].specHash),
      summary('spark-worker-2', 'running', plans[1].specHash),
      summary('spark-worker-3', 'running', 'whatever'),
      summary('spark-worker-4', 'exited', 'whatever'),
    ]
    const changes = await reconcileWorkers(plans, existing, { graceSeconds: 30 })
    expect(fake.lines()).toEqual(['docker rm --force spark-worker-3 spark-worker-4'])
    expect(changes).toEqual([
      ['spark-worker-1', 'unchanged'],
      ['spark-worker-2', 'unchanged'],
      ['spark-worker-3', 'removed'],
      ['spark-worker-4', 'removed'],
    ])
    expect(describeChanges(changes)).toBe('spark-worker-3 removed, spark-worker-4 removed')
  })

  it('decommissions the workers it removes: the manifest\'s preStop runs inside each, then they go', async () => {
    const rendered = renderCluster(manifests, shape)
    const plans = workerPlans(rendered.worker, layout, 1, encodeShape(shape))
    const stop = stopPlan(podTemplate(rendered.worker))
    expect(stop.graceSeconds).toBe(120)
    expect(stop.preStop?.join(' ')).toMatch(/kill -PWR 1.*pgrep -f 'CoarseGrainedExecutor\[B\]ackend'.*-ge 110/)
    await reconcileWorkers(plans, [summary('spark-worker-1', 'running', plans[0].specHash), summary('spark-worker-2', 'running', plans[0].specHash)], stop)
    const lines = fake.lines()
    expect(lines[0]).toBe(`docker exec spark-worker-2 ${stop.preStop!.join(' ')}`)
    expect(lines[1]).toBe('docker rm --force spark-worker-2')
  })

  it('creates missing workers and replaces drifted ones', async () => {
    const bigger = { ...shape, workers: 3, workerMemory: '2g' }
    const plans = workerPlans(renderCluster(manifests, bigger).worker, layout, 3, encodeShape(bigger))
    const existing = [summary('spark-worker-1', 'running', workerPlan().specHash)]
    const changes = await reconcileWorkers(plans, existing, { graceSeconds: 30 })
    expect(changes).toEqual([
      ['spark-worker-1', 'replaced'],
      ['spark-worker-2', 'created'],
      ['spark-worker-3', 'created'],
    ])
    const lines = fake.lines()
    expect(lines.filter((l) => l.startsWith('docker rm'))).toEqual(['docker rm --force spark-worker-1'])
    expect(lines.filter((l) => l.startsWith('docker run')).map((l) => valuesOf(l.split(' '), '--name')[0]).sort()).toEqual([
      'spark-worker-1',
      'spark-worker-2',
      'spark-worker-3',
    ])
    expect(lines.indexOf('docker rm --force spark-worker-1')).toBeLessThan(lines.findIndex((l) => l.includes('--name spark-worker-1 ')))
  })

  it('runs no docker command when everything matches', async () => {
    const plans = workerPlans(renderCluster(manifests, shape).worker, layout, 2, encodeShape(shape))
    const changes = await reconcileWorkers(plans, plans.map((p) => summary(p.name, 'running', p.specHash)), { graceSeconds: 30 })
    expect(fake.calls).toEqual([])
    expect(describeChanges(changes)).toBe('')
  })
})

describe('ensureNetwork (faked docker)', () => {
  const ours = { app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' }

  it('creates the network with our labels only when inspect fails', async () => {
    fake.reset((command) => (command.argv[2] === 'inspect' ? { exitCode: 1 } : undefined))
    expect(await ensureNetwork('spark', ours)).toBe(true)
    expect(fake.lines()).toEqual(['docker network inspect --format {{json .Labels}} spark', 'docker network create --label app=spark --label app.kubernetes.io/managed-by=spark-standalone-k8s spark'])
  })

  it('keeps a network that carries our labels', async () => {
    fake.reset(() => ({ stdout: JSON.stringify({ ...ours, extra: 'x' }) }))
    expect(await ensureNetwork('spark', ours)).toBe(false)
    expect(fake.lines()).toEqual(['docker network inspect --format {{json .Labels}} spark'])
  })

  it("refuses a same-named network without them (someone else's containers would share the master's network)", async () => {
    for (const labels of ['{"app":"spark"}', 'null', '{}']) {
      fake.reset(() => ({ stdout: labels }))
      const error = await ensureNetwork('spark', ours).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StepError)
      expect((error as StepError).message).toBe('a Docker network spark exists without our labels: refusing to use it')
      expect(fake.lines()).toEqual(['docker network inspect --format {{json .Labels}} spark'])
    }
  })
})

describe('planContainer keeps the manifest values', () => {
  it('the worker env carries the rendered cores and memory', () => {
    const rendered = renderCluster(manifests, { ...shape, workerCores: 2, workerMemory: '3g' })
    expect(envValue(mainContainer(rendered.worker), 'SPARK_WORKER_MEMORY')).toBe('3g')
    const plan = workerPlans(rendered.worker, layout, 1, 'x')[0]
    expect(valuesOf(plan.runArgs, '--env')).toContain('SPARK_WORKER_MEMORY=3g')
    expect(valuesOf(plan.runArgs, '--memory')).toEqual([`${(3072 + 384 + 384 + 256 + 384 + 3072) * 1024 ** 2}b`])
  })
})
