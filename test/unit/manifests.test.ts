import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KubernetesObject, V1Container, V1Deployment, V1Job, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node'
import { Deployment } from 'kubernetes-models/apps/v1'
import { Job } from 'kubernetes-models/batch/v1'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { PersistentVolumeClaim, Service } from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import {
  ourLabels,
  envValue,
  loadManifests,
  mainContainer,
  masterUrl,
  parseManifestFile,
  podsOf,
  podTemplate,
  publishedPorts,
  renderCluster,
  renderPiJob,
  selectorOf,
  uiNodePort,
  workerDefaults,
  type ClusterShape,
} from '../../scripts/lib/manifests.ts'
import { dockerDir, manifestsDir, repoRoot } from '../../scripts/lib/paths.ts'
import { kubeCpuToCores, kubeQuantityToMebibytes, sparkMemoryToMebibytes } from '../../scripts/lib/units.ts'
import { jvmOverheadMiB } from '../../scripts/lib/worker-memory.ts'

const topLevelFiles = readdirSync(manifestsDir)
  .filter((name) => /\.ya?ml$/.test(name))
  .map((name) => join(manifestsDir, name))
const jobFile = join(manifestsDir, 'jobs', 'spark-pi.yml')
const logsJobFile = join(manifestsDir, 'jobs', 'spark-logs.yml')
const allFiles = [...topLevelFiles, jobFile, logsJobFile]
const allObjects = allFiles.flatMap((file) => parseManifestFile(file).map((object) => ({ file, object })))

const manifests = loadManifests()
const workloads: Array<[string, V1Deployment | V1Job]> = [
  ['master', manifests.master],
  ['worker', manifests.worker],
  ['pi job', manifests.piJob],
  ['logs job', manifests.logsJob],
]

/** The kubernetes-models class that checks each kind our manifests hold. */
const schemas: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'batch/v1/Job': Job,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
}

function validate(object: KubernetesObject): void {
  const Schema = schemas[`${object.apiVersion}/${object.kind}`]
  if (!Schema) throw new Error(`no schema check for ${object.apiVersion} ${object.kind}`)
  new Schema(object as never).validate()
}

function filesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesIn(path) : [path]
  })
}

describe('the static manifests', () => {
  it('hold the master Deployment, its Service, recovery claim and network policy, the worker Deployment and its disruption budget, the event-log claim, the Pi Job and the logs reader', () => {
    expect(allObjects.map(({ object }) => `${object.kind}/${object.metadata?.name ?? object.metadata?.generateName}`).sort()).toEqual(
      ['Deployment/spark-master', 'Deployment/spark-worker', 'Job/spark-logs-', 'Job/spark-pi-', 'NetworkPolicy/spark-master', 'PersistentVolumeClaim/spark-events', 'PersistentVolumeClaim/spark-master-recovery', 'PodDisruptionBudget/spark-worker', 'Service/spark-master-service'].sort(),
    )
  })

  for (const { file, object } of allObjects) {
    it(`${file.slice(repoRoot.length + 1)}: ${object.kind} ${object.metadata?.name ?? object.metadata?.generateName} validates against the Kubernetes schema`, () => {
      expect(() => validate(object)).not.toThrow()
    })
  }

  it('the schema check is real: a broken object fails it', () => {
    const broken = structuredClone(manifests.master) as unknown as { spec: { replicas: unknown } }
    broken.spec.replicas = 'two'
    expect(() => validate(broken as unknown as KubernetesObject)).toThrow()
    const noName = structuredClone(manifests.worker)
    delete (noName.spec!.template.spec!.containers[0] as Partial<V1Container>).name
    expect(() => validate(noName)).toThrow()
  })

  it('manifests/ top level holds no Job, so `kubectl apply -f manifests/` starts none', () => {
    const kinds = topLevelFiles.flatMap((file) => parseManifestFile(file).map((object) => object.kind))
    expect(kinds).not.toContain('Job')
    expect(kinds).not.toContain('CronJob')
    expect(kinds).not.toContain('Pod')
    expect(parseManifestFile(jobFile).map((object) => object.kind)).toEqual(['Job'])
  })

  it('every object and pod template carries app=spark and a role', () => {
    for (const { object } of allObjects) {
      expect(object.metadata?.labels?.app, `${object.kind} ${object.metadata?.name}`).toBe('spark')
      expect(object.metadata?.labels?.role, `${object.kind} ${object.metadata?.name}`).toMatch(/^(master|worker|driver|events|logs)$/)
    }
    for (const [what, workload] of workloads) {
      expect(podTemplate(workload).metadata?.labels, what).toMatchObject({ app: 'spark', role: workload.metadata!.labels!.role })
    }
  })

  it('each Deployment selects its own pod template, by app and role', () => {
    for (const deployment of [manifests.master, manifests.worker]) {
      const matchLabels = deployment.spec!.selector.matchLabels!
      expect(matchLabels).toMatchObject({ app: 'spark', role: deployment.metadata!.labels!.role })
      expect(deployment.spec!.template.metadata!.labels).toMatchObject(matchLabels)
    }
  })

  describe('spark-master-service', () => {
    const service = manifests.service as V1Service
    it('is a NodePort Service named spark-master-service', () => {
      expect(service.metadata?.name).toBe('spark-master-service')
      expect(service.spec?.type).toBe('NodePort')
    })

    it('selects our master only: app=spark AND role=master AND our managed-by label', () => {
      expect(service.spec?.selector).toEqual({ app: 'spark', role: 'master', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
      const masterLabels = manifests.master.spec!.template.metadata!.labels!
      const workerLabels = manifests.worker.spec!.template.metadata!.labels!
      const selects = (labels: Record<string, string>) => Object.entries(service.spec!.selector!).every(([k, v]) => labels[k] === v)
      expect(selects(masterLabels)).toBe(true)
      expect(selects(workerLabels)).toBe(false)
      // Someone else's pod labelled like the classic README's master gets no traffic.
      expect(selects({ app: 'spark', role: 'master' })).toBe(false)
    })

    it('publishes 7077 on nodePort 30000 and 8080 on nodePort 30001', () => {
      const ports = (service.spec?.ports ?? []).map((p) => ({ port: p.port, nodePort: p.nodePort }))
      expect(ports).toEqual([
        { port: 7077, nodePort: 30000 },
        { port: 8080, nodePort: 30001 },
      ])
    })

    it('targets resolve to the master container ports', () => {
      const containerPorts = mainContainer(manifests.master).ports ?? []
      for (const port of service.spec!.ports!) {
        const target = port.targetPort!
        const resolved = typeof target === 'number' ? target : containerPorts.find((p) => p.name === target)?.containerPort
        expect(resolved, `targetPort ${target}`).toBe(port.port)
      }
    })
  })

  describe('the spark-master NetworkPolicy', () => {
    // As parsed from the YAML (client-node's type names `from` `_from`, for its own serializer).
    type Peer = { podSelector?: { matchLabels?: Record<string, string> } }
    const policy = manifests.masterPolicy as unknown as {
      metadata: { name: string; labels: Record<string, string> }
      spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Array<{ from?: Peer[]; ports?: Array<{ port?: string | number }> }> }
    }
    const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v)

    it("applies to our master's pods, for ingress only", () => {
      expect(policy.metadata.name).toBe('spark-master')
      expect(policy.metadata.labels).toEqual({ app: 'spark', role: 'master', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
      expect(policy.spec.podSelector.matchLabels).toEqual({ app: 'spark', role: 'master', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
      expect(matches(policy.spec.podSelector.matchLabels, podTemplate(manifests.master).metadata!.labels!)).toBe(true)
      expect(matches(policy.spec.podSelector.matchLabels, podTemplate(manifests.worker).metadata!.labels!)).toBe(false)
      expect(policy.spec.policyTypes).toEqual(['Ingress'])
    })

    it("lets only this cluster's own pods (workers, drivers, the Connect server) open the master's RPC port; its UI port stays open for the API server's proxy", () => {
      expect(policy.spec.ingress).toHaveLength(2)
      const [rpc, ui] = policy.spec.ingress!
      expect(rpc.from).toEqual([{ podSelector: { matchLabels: ourLabels(manifests) } }])
      for (const workload of [manifests.worker, manifests.piJob, manifests.connect.deployment]) {
        expect(matches(rpc.from![0].podSelector!.matchLabels!, podTemplate(workload).metadata!.labels!), workload.metadata!.name).toBe(true)
      }
      expect(matches(rpc.from![0].podSelector!.matchLabels!, { app: 'spark', role: 'worker' })).toBe(false)
      // Named ports, which are the master container's RPC and UI ports.
      const ports = mainContainer(manifests.master).ports!
      const named = (rule: typeof rpc) => rule.ports!.map((port) => ports.find((p) => p.name === port.port)?.containerPort)
      expect(named(rpc)).toEqual([7077])
      expect(named(ui)).toEqual([8080])
      expect(ui.from).toBeUndefined()
    })
  })

  it("the workers' disruption budget and the Connect Service select our pods only, by our managed-by label too", () => {
    const ours = { 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' }
    expect(manifests.workerBudget.spec!.selector!.matchLabels).toEqual({ app: 'spark', role: 'worker', ...ours })
    expect(podTemplate(manifests.worker).metadata!.labels).toMatchObject(manifests.workerBudget.spec!.selector!.matchLabels!)
    expect(manifests.connect.service.spec!.selector).toEqual({ app: 'spark', role: 'connect', ...ours })
    expect(podTemplate(manifests.connect.deployment).metadata!.labels).toMatchObject(manifests.connect.service.spec!.selector!)
  })

  describe('pod templates', () => {
    for (const [what, workload] of workloads) {
      describe(what, () => {
        const template = podTemplate(workload)
        const pod = template.spec!

        it('has enableServiceLinks false', () => {
          expect(pod.enableServiceLinks).toBe(false)
        })

        it('mounts no service account token (Spark never calls the Kubernetes API)', () => {
          expect(pod.automountServiceAccountToken).toBe(false)
        })

        it('runs as non-root with a non-zero runAsUser', () => {
          const security = { ...pod.securityContext, ...pod.containers[0].securityContext }
          expect(security.runAsNonRoot).toBe(true)
          expect(typeof security.runAsUser).toBe('number')
          expect(security.runAsUser).not.toBe(0)
        })

        it('forbids privilege escalation and drops ALL capabilities in every container', () => {
          for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
            expect(container.securityContext?.allowPrivilegeEscalation, container.name).toBe(false)
            expect(container.securityContext?.capabilities?.drop, container.name).toContain('ALL')
            expect(container.securityContext?.privileged ?? false, container.name).toBe(false)
          }
        })

        it('sets cpu and memory requests and limits on every container, requests ≤ limits', () => {
          for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
            const { requests, limits } = container.resources ?? {}
            for (const resource of ['cpu', 'memory'] as const) {
              expect(requests?.[resource], `${container.name} requests.${resource}`).toBeDefined()
              expect(limits?.[resource], `${container.name} limits.${resource}`).toBeDefined()
            }
            expect(kubeCpuToCores(requests!.cpu)).toBeLessThanOrEqual(kubeCpuToCores(limits!.cpu))
            expect(kubeQuantityToMebibytes(String(requests!.memory))).toBeLessThanOrEqual(kubeQuantityToMebibytes(String(limits!.memory)))
          }
        })

        it('bounds its disk: ephemeral-storage requested and limited at its emptyDirs\' size limits plus 64Mi of logs', () => {
          const emptyDirs = (pod.volumes ?? []).filter((volume) => volume.emptyDir)
          expect(emptyDirs.length).toBeGreaterThan(0)
          const scratchMiB = emptyDirs.reduce((sum, volume) => sum + kubeQuantityToMebibytes(String(volume.emptyDir!.sizeLimit)), 0)
          const { requests, limits } = pod.containers[0].resources ?? {}
          expect(kubeQuantityToMebibytes(String(limits?.['ephemeral-storage']))).toBe(scratchMiB + 64)
          expect(requests?.['ephemeral-storage']).toBe(limits?.['ephemeral-storage'])
        })

        it('names no command: the image entrypoint (tini) stays in front', () => {
          expect(pod.containers[0].command).toBeUndefined()
        })
      })
    }

    for (const [what, deployment] of [['master', manifests.master], ['worker', manifests.worker]] as const) {
      it(`${what} has readiness and liveness probes on ports it declares`, () => {
        const container = mainContainer(deployment)
        const names = new Set((container.ports ?? []).map((p) => p.name))
        const numbers = new Set((container.ports ?? []).map((p) => p.containerPort))
        for (const probe of [container.readinessProbe, container.livenessProbe]) {
          expect(probe).toBeDefined()
          const port = probe!.httpGet?.port ?? probe!.tcpSocket?.port
          expect(port).toBeDefined()
          expect(typeof port === 'number' ? numbers.has(port) : names.has(port!)).toBe(true)
        }
      })
    }

    it('the Pi job never restarts its driver', () => {
      expect(manifests.piJob.spec?.backoffLimit).toBe(0)
      expect(podTemplate(manifests.piJob).spec?.restartPolicy).toBe('Never')
    })
  })

  describe('commands', () => {
    it('the master runs spark-class ...Master in the foreground, through require-auth', () => {
      const container = mainContainer(manifests.master)
      expect([...(container.command ?? []), ...(container.args ?? [])]).toEqual(['/usr/local/bin/require-auth', '/opt/spark/bin/spark-class', 'org.apache.spark.deploy.master.Master'])
    })

    it('the worker runs spark-class ...Worker spark://spark-master-service:7077, through require-auth and then await-master', () => {
      const container = mainContainer(manifests.worker)
      expect([...(container.command ?? []), ...(container.args ?? [])]).toEqual([
        '/usr/local/bin/require-auth',
        '/usr/local/bin/await-master',
        '/opt/spark/bin/spark-class',
        'org.apache.spark.deploy.worker.Worker',
        'spark://spark-master-service:7077',
      ])
      expect(readFileSync(join(dockerDir, 'Dockerfile'), 'utf8')).toMatch(/^COPY await-master require-auth spark-autoscaler \/usr\/local\/bin\/$/m)
    })

    it('every Spark container (master, worker, Pi driver, Connect server) starts through require-auth, which the image holds', () => {
      for (const workload of [manifests.master, manifests.worker, manifests.piJob, manifests.connect.deployment]) {
        const container = mainContainer(workload)
        expect(container.command, workload.metadata!.name ?? workload.metadata!.generateName).toBeUndefined()
        expect(container.args![0], workload.metadata!.name ?? workload.metadata!.generateName).toBe('/usr/local/bin/require-auth')
      }
      expect(statSync(join(dockerDir, 'require-auth')).mode & 0o111).toBe(0o111)
      expect(readFileSync(join(dockerDir, '.dockerignore'), 'utf8').split('\n')).toContain('!require-auth')
    })

    it('the Pi driver submits docker/pi.py to the same master URL', () => {
      const args = mainContainer(manifests.piJob).args ?? []
      expect(args.slice(0, 2)).toEqual(['/usr/local/bin/require-auth', '/opt/spark/bin/spark-submit'])
      expect(args[args.indexOf('--master') + 1]).toBe(masterUrl(manifests))
      expect(args.at(-1)).toBe('/opt/spark/apps/pi.py')
      expect(readFileSync(join(dockerDir, 'Dockerfile'), 'utf8')).toMatch(/COPY pi\.py \/opt\/spark\/apps\/pi\.py/)
    })

    it('no start-slave.sh, daemonizing start scripts or tail -F anywhere in manifests/ or docker/', () => {
      const files = [...filesIn(manifestsDir), ...filesIn(dockerDir).filter((f) => !f.includes('__pycache__'))]
      expect(files.length).toBeGreaterThanOrEqual(6)
      for (const file of files) {
        const text = readFileSync(file, 'utf8')
        expect(text, file).not.toMatch(/start-slave\.sh/)
        expect(text, file).not.toMatch(/tail\s+-F/)
        expect(text, file).not.toMatch(/start-(master|worker)\.sh/)
      }
    })

    it('SPARK_MASTER_OPTS turns the REST submission server off', () => {
      const options = envValue(mainContainer(manifests.master), 'SPARK_MASTER_OPTS') ?? ''
      expect(options.split(/\s+/)).toContain('-Dspark.master.rest.enabled=false')
    })
  })

  it('the worker cpu limit equals SPARK_WORKER_CORES, its request half of it, and its memory limit ≥ SPARK_WORKER_MEMORY', () => {
    const container = mainContainer(manifests.worker)
    const cores = Number(envValue(container, 'SPARK_WORKER_CORES'))
    const memoryMiB = sparkMemoryToMebibytes(envValue(container, 'SPARK_WORKER_MEMORY')!)
    expect(kubeCpuToCores(container.resources!.requests!.cpu)).toBe(cores / 2)
    expect(kubeCpuToCores(container.resources!.limits!.cpu)).toBe(cores)
    expect(kubeQuantityToMebibytes(String(container.resources!.limits!.memory))).toBeGreaterThanOrEqual(memoryMiB)
  })
})

it('the Pi driver\'s heap, its JVM overhead and 640Mi for the Python driver fit its memory limit', () => {
  const container = mainContainer(manifests.piJob)
  const heap = container.args?.find((arg) => arg.startsWith('spark.driver.memory='))?.split('=')[1]
  expect(heap).toBeDefined()
  const heapMiB = sparkMemoryToMebibytes(heap!)
  expect(heapMiB + jvmOverheadMiB(heapMiB) + 640).toBeLessThanOrEqual(kubeQuantityToMebibytes(String(container.resources?.limits?.memory)))
})

describe('loadManifests', () => {
  it('finds each piece by kind and role', () => {
    expect(manifests.master.metadata?.name).toBe('spark-master')
    expect(manifests.worker.metadata?.name).toBe('spark-worker')
    expect(manifests.service.metadata?.name).toBe('spark-master-service')
    expect(manifests.piJob.kind).toBe('Job')
    expect(manifests.connect.deployment.metadata?.name).toBe('spark-connect')
    expect(manifests.connect.service.spec?.type).toBe('ClusterIP')
    const { serviceAccount, role, roleBinding, deployment } = manifests.autoscaler
    expect([serviceAccount, role, roleBinding, deployment].map((object) => `${object.kind}/${object.metadata?.name}`)).toEqual([
      'ServiceAccount/spark-autoscaler',
      'Role/spark-autoscaler',
      'RoleBinding/spark-autoscaler',
      'Deployment/spark-autoscaler',
    ])
  })

  it('refuses a directory with two worker Deployments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spark-manifests-'))
    try {
      for (const name of ['spark-master.yml', 'spark-worker.yml']) copyFileSync(join(manifestsDir, name), join(dir, name))
      copyFileSync(join(manifestsDir, 'spark-worker.yml'), join(dir, 'spark-worker-copy.yml'))
      mkdirSync(join(dir, 'jobs'))
      copyFileSync(jobFile, join(dir, 'jobs', 'spark-pi.yml'))
      copyFileSync(logsJobFile, join(dir, 'jobs', 'spark-logs.yml'))
      mkdirSync(join(dir, 'connect'))
      copyFileSync(join(manifestsDir, 'connect', 'spark-connect.yml'), join(dir, 'connect', 'spark-connect.yml'))
      mkdirSync(join(dir, 'history'))
      copyFileSync(join(manifestsDir, 'history', 'spark-history.yml'), join(dir, 'history', 'spark-history.yml'))
      mkdirSync(join(dir, 'notebook'))
      copyFileSync(join(manifestsDir, 'notebook', 'spark-notebook.yml'), join(dir, 'notebook', 'spark-notebook.yml'))
      mkdirSync(join(dir, 'monitoring'))
      copyFileSync(join(manifestsDir, 'monitoring', 'spark-podmonitor.yml'), join(dir, 'monitoring', 'spark-podmonitor.yml'))
      mkdirSync(join(dir, 'elastic'))
      copyFileSync(join(manifestsDir, 'elastic', 'spark-autoscaler.yml'), join(dir, 'elastic', 'spark-autoscaler.yml'))
      copyFileSync(join(manifestsDir, 'spark-events.yml'), join(dir, 'spark-events.yml'))
      expect(() => loadManifests(dir)).toThrow(/expected one Deployment labelled role=worker, found 2/)
      rmSync(join(dir, 'spark-worker-copy.yml'))
      expect(loadManifests(dir).worker.metadata?.name).toBe('spark-worker')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reports a YAML syntax error with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spark-manifests-'))
    try {
      writeFileSync(join(dir, 'broken.yml'), 'kind: Deployment\n  metadata: [\n')
      expect(() => parseManifestFile(join(dir, 'broken.yml'))).toThrow(/broken\.yml/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('renderCluster', () => {
  const shape: ClusterShape = { image: 'registry.test/spark:4.0.1-abcdef012345', namespace: 'spark-test', workers: 5, workerCores: 3, workerMemory: '4g' }

  it('sets the image on every container of master and worker', () => {
    const rendered = renderCluster(manifests, shape)
    for (const deployment of [rendered.master, rendered.worker]) {
      for (const container of deployment.spec!.template.spec!.containers) expect(container.image).toBe(shape.image)
    }
  })

  it('sets replicas, SPARK_WORKER_CORES and SPARK_WORKER_MEMORY', () => {
    const { worker, master } = renderCluster(manifests, shape)
    expect(worker.spec?.replicas).toBe(5)
    expect(master.spec?.replicas).toBe(1)
    expect(envValue(mainContainer(worker), 'SPARK_WORKER_CORES')).toBe('3')
    expect(envValue(mainContainer(worker), 'SPARK_WORKER_MEMORY')).toBe('4g')
    expect(envValue(mainContainer(worker), 'SPARK_DAEMON_MEMORY')).toBe('256m')
  })

  it('cores 3 / memory 4g → cpu limit "3" (1500m requested, the file\'s share) and memory 5914Mi: 4096 + 410 + 2 × 384 executor overhead + 256 + 384 for the daemon', () => {
    const { worker } = renderCluster(manifests, shape)
    const disk = mainContainer(manifests.worker).resources!.limits!['ephemeral-storage']
    expect(mainContainer(worker).resources).toEqual({
      requests: { cpu: '1500m', memory: '5914Mi', 'ephemeral-storage': disk },
      limits: { cpu: '3', memory: '5914Mi', 'ephemeral-storage': disk },
    })
  })

  it('memory 1536m on one core → 2560Mi: 1536 + 384 + 256 + 384', () => {
    const { worker } = renderCluster(manifests, { ...shape, workerCores: 1, workerMemory: '1536m' })
    expect(mainContainer(worker).resources?.limits?.memory).toBe('2560Mi')
    expect(mainContainer(worker).resources?.requests?.memory).toBe('2560Mi')
  })

  it('the defaults render to the file\'s own resources', () => {
    const { worker } = renderCluster(manifests, { ...workerDefaults(manifests), image: 'x', namespace: 'default' })
    expect(mainContainer(worker).resources).toEqual(mainContainer(manifests.worker).resources)
  })

  it('sets the namespace on every object', () => {
    const rendered = renderCluster(manifests, shape)
    for (const object of [rendered.master, rendered.service, rendered.worker, rendered.recoveryClaim, rendered.workerBudget, rendered.networkPolicy]) expect(object.metadata?.namespace).toBe('spark-test')
    // The file's policy, in client-node's model (which sends a rule's `from` only as `_from`).
    const { ingress, ...rest } = manifests.masterPolicy.spec!
    const fileRules = ingress as Array<Record<string, unknown>>
    expect(rendered.networkPolicy.spec).toEqual({ ...rest, ingress: fileRules.map(({ from, ...rule }) => ({ ...rule, _from: from })) })
    expect(fileRules[0].from).toBeDefined()
    expect(rendered.service.metadata?.name).toBe('spark-master-service')
    expect(rendered.master.metadata?.labels).toEqual(manifests.master.metadata?.labels)
  })

  it('does not mutate the loaded manifests', () => {
    const before = structuredClone(manifests)
    const rendered = renderCluster(manifests, shape)
    expect(manifests).toEqual(before)
    expect(rendered.worker).not.toBe(manifests.worker)
    mainContainer(rendered.master).env!.push({ name: 'EXTRA', value: '1' })
    rendered.service.spec!.ports![0].nodePort = 31111
    expect(manifests).toEqual(before)
    expect(renderCluster(manifests, shape).service.spec!.ports![0].nodePort).toBe(30000)
  })

  it('changes nothing else in the worker', () => {
    const { worker } = renderCluster(manifests, shape)
    const strip = (d: V1Deployment) => {
      const copy = structuredClone(d)
      delete copy.metadata!.namespace
      delete copy.spec!.replicas
      const c = copy.spec!.template.spec!.containers[0]
      delete c.image
      delete c.resources
      c.env = c.env!.filter((v) => !/^SPARK_WORKER_(CORES|MEMORY)$/.test(v.name))
      return copy
    }
    expect(strip(worker)).toEqual(strip(manifests.worker))
  })
})

describe('renderPiJob', () => {
  it('gives the Job an activeDeadlineSeconds of --timeout, so the driver stops even if the tool is killed', () => {
    expect(renderPiJob(manifests, { image: 'spark:test', namespace: 'ns', timeoutSeconds: 120 }).spec!.activeDeadlineSeconds).toBe(120)
    expect(manifests.piJob.spec!.activeDeadlineSeconds).toBeUndefined()
  })

  it('sets PI_PARTITIONS, the image and the namespace', () => {
    const job = renderPiJob(manifests, { image: 'spark:test', namespace: 'ns', partitions: 7 })
    expect(envValue(mainContainer(job), 'PI_PARTITIONS')).toBe('7')
    expect(mainContainer(job).image).toBe('spark:test')
    expect(job.metadata?.namespace).toBe('ns')
    expect(job.metadata?.generateName).toBe('spark-pi-')
  })

  it('keeps the file\'s PI_PARTITIONS when none is given, and does not mutate the file', () => {
    const before = structuredClone(manifests.piJob)
    const job = renderPiJob(manifests, { image: 'spark:test', namespace: 'ns' })
    expect(envValue(mainContainer(job), 'PI_PARTITIONS')).toBe('2')
    renderPiJob(manifests, { image: 'spark:other', namespace: 'ns', partitions: 9 })
    expect(manifests.piJob).toEqual(before)
  })

  it('the rendered job still validates', () => {
    expect(() => validate(renderPiJob(manifests, { image: 'spark:test', namespace: 'ns', partitions: 3 }))).not.toThrow()
    const rendered = renderCluster(manifests, { image: 'spark:test', namespace: 'ns', workers: 3, workerCores: 2, workerMemory: '1536m' })
    for (const object of [rendered.master, rendered.service, rendered.worker, rendered.networkPolicy]) expect(() => validate(object)).not.toThrow()
  })
})

describe('derived values', () => {
  it('publishedPorts resolves named target ports', () => {
    expect(publishedPorts(manifests)).toEqual([
      { name: 'spark-master', nodePort: 30000, containerPort: 7077 },
      { name: 'spark-master-webui', nodePort: 30001, containerPort: 8080 },
    ])
  })

  it('publishedPorts throws when a target port cannot be resolved', () => {
    const edited = structuredClone(manifests)
    edited.service.spec!.ports![1].targetPort = 'nope'
    expect(() => publishedPorts(edited)).toThrow(/resolvable targetPort/)
  })

  it('uiNodePort is 30001', () => {
    expect(uiNodePort(manifests)).toBe(30001)
  })

  it('masterUrl is the worker\'s spark:// argument, and names the Service and its port', () => {
    expect(masterUrl(manifests)).toBe('spark://spark-master-service:7077')
    const url = new URL(masterUrl(manifests))
    expect(url.hostname).toBe(manifests.service.metadata?.name)
    expect(manifests.service.spec!.ports!.map((p) => p.port)).toContain(Number(url.port))
  })

  it('workerDefaults reads replicas, cores and memory from the worker Deployment', () => {
    expect(workerDefaults(manifests)).toEqual({ workers: 2, workerCores: 1, workerMemory: '1g' })
  })

  it('ourLabels is app=spark plus our managed-by label, which every object and pod template carries', () => {
    expect(ourLabels(manifests)).toEqual({ app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
    for (const object of [manifests.master, manifests.service, manifests.worker, manifests.piJob]) {
      expect(object.metadata!.labels, object.metadata!.name).toMatchObject(ourLabels(manifests))
      const template = (object as { spec?: { template?: { metadata?: { labels?: object } } } }).spec?.template
      if (template) expect(template.metadata!.labels).toMatchObject(ourLabels(manifests))
    }
  })

  it("podsOf selects a workload's own pods by its pod template's labels, our managed-by label included", () => {
    expect(podsOf(manifests.master)).toBe('app=spark,role=master,app.kubernetes.io/managed-by=spark-standalone-k8s')
    expect(podsOf(manifests.connect.deployment)).toBe('app=spark,role=connect,app.kubernetes.io/managed-by=spark-standalone-k8s')
  })

  it('selectorOf joins labels as a selector', () => {
    expect(selectorOf({ app: 'spark' })).toBe('app=spark')
    expect(selectorOf({ app: 'spark', role: 'worker' })).toBe('app=spark,role=worker')
    expect(selectorOf({})).toBe('')
  })

  it('podTemplate refuses an object without containers', () => {
    const empty = { kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [] } } } } as unknown as V1Deployment
    expect(() => podTemplate(empty)).toThrow(/no containers/)
    const template: V1PodTemplateSpec = podTemplate(manifests.worker)
    expect(template.spec?.containers[0].name).toBe('spark-worker')
  })
})

describe('docker/require-auth', () => {
  const script = join(dockerDir, 'require-auth')

  /** Runs the script (as the image's sh would) on a conf dir holding `conf` (none: no file), in front of `echo started`. */
  function requireAuth(conf: string | undefined): { status: number | null; stdout: string; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), 'require-auth-'))
    try {
      if (conf !== undefined) writeFileSync(join(dir, 'spark-defaults.conf'), conf)
      const result = spawnSync('sh', [script, 'echo', 'started'], { env: { PATH: process.env.PATH, SPARK_CONF_DIR: dir }, encoding: 'utf8' })
      return { status: result.status, stdout: result.stdout, stderr: result.stderr }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it('runs the command when the conf turns authentication on with a secret', () => {
    expect(requireAuth('spark.authenticate true\nspark.authenticate.secret abc\n')).toEqual({ status: 0, stdout: 'started\n', stderr: '' })
    expect(requireAuth('spark.authenticate=true\n  spark.authenticate.secret = abc  \n').stdout).toBe('started\n')
  })

  it.each([
    ['no conf file', undefined],
    ['an empty conf', ''],
    ['authentication off', 'spark.authenticate false\nspark.authenticate.secret abc\n'],
    ['no secret', 'spark.authenticate true\n'],
    ['an empty secret', 'spark.authenticate true\nspark.authenticate.secret\n'],
  ])('refuses to start on %s, exit 78, saying how to repair it', (_what, conf) => {
    const result = requireAuth(conf)
    expect(result.status).toBe(78)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^require-auth: refusing to start: .*spark-defaults\.conf does not turn on spark\.authenticate .*npm run cluster:up/)
  })
})
