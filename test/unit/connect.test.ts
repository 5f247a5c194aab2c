// npm run connect: what it prints, which client it names, and the server's container on Docker.
import { describe, expect, it } from 'vitest'
import { connectInfo, formatConnect, requireSamePython } from '../../scripts/connect.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { clientRequirement } from '../../scripts/lib/python-client.ts'
import { sparkVersionOf } from '../../scripts/lib/cluster-image.ts'
import { planContainer } from '../../scripts/lib/docker/containers.ts'
import { formatStatus } from '../../scripts/status.ts'
import { loadManifests, podTemplate, renderServer, serverPort } from '../../scripts/lib/manifests.ts'

const manifests = loadManifests()
const forwarding = { url: 'sc://localhost:15002', how: 'port-forward to pod spark-connect-1 port 15002 through the API server', keepsRunning: true, close: async () => {} }

describe('sparkVersionOf', () => {
  it('reads the Spark release from the tags this tool builds, with or without a registry', () => {
    expect(sparkVersionOf('spark-standalone:4.0.1-b3ce6d592a77')).toBe('4.0.1')
    expect(sparkVersionOf('localhost:5000/team/spark:3.5.7-0123456789ab')).toBe('3.5.7')
    expect(sparkVersionOf('localhost:5000/spark')).toBeUndefined()
    expect(sparkVersionOf('spark:latest')).toBeUndefined()
  })
})

describe('clientRequirement', () => {
  const published = async () => ['4.0.1', '4.2.0']
  it('names the thin client where PyPI has that version, else the full package with its connect extra (3.5 never had one)', async () => {
    expect(await clientRequirement('4.0.1', published)).toBe('pyspark-client==4.0.1')
    expect(await clientRequirement('4.3.0', published)).toBe('pyspark[connect]==4.3.0')
    expect(await clientRequirement('4.0.1', async () => undefined)).toBe('pyspark[connect]==4.0.1')
    expect(await clientRequirement('3.5.9', published)).toBe('pyspark[connect]==3.5.9')
    expect(await clientRequirement(undefined, published)).toBe('pyspark-client')
  })
})

describe('connectInfo', () => {
  it('puts the token in a localhost connection string (the client sends tokens without TLS only to localhost)', () => {
    const info = connectInfo(forwarding, 'f'.repeat(64), 'localhost:5000/spark-standalone:4.0.1-py3.12-0123456789ab', 'pyspark-client==4.0.1')
    expect(info.connectionString).toBe(`sc://localhost:15002/;token=${'f'.repeat(64)}`)
    expect(info.sparkVersion).toBe('4.0.1')
    expect(info.python).toBe('3.12')
    expect(info.snippet).toHaveLength(3)
    expect(info.snippet[1]).toBe(`spark = SparkSession.builder.remote("${info.connectionString}").getOrCreate()`)
    const text = formatConnect(info, true)
    expect(text.split('\n')[0]).toBe(`Spark Connect: ${info.connectionString}`)
    expect(text).toContain('pip install "pyspark-client==4.0.1"')
    expect(text).toContain('Ctrl-C stops it')
    expect(text).toContain("From Python 3.12, the executors' version, on this machine")
  })
})

describe('requireSamePython', () => {
  it('refuses a client on another minor version in one line with both remedies, before anything starts', () => {
    let error: unknown
    try {
      requireSamePython('3.11', '3.12')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(StepError)
    expect((error as StepError).message).toBe("your client's Python is 3.12 but the cluster's executors run Python 3.11, so its Python UDFs would fail (PYTHON_VERSION_MISMATCH)")
    expect((error as StepError).message).not.toContain('\n')
    expect((error as StepError).details).toContain('npm run cluster:up -- --python 3.12')
    expect((error as StepError).details).toContain('npm run connect -- --python 3.11')
  })

  it('says which versions images offer when the client runs another', () => {
    expect(() => requireSamePython('3.11', '3.14', '4.3.0')).toThrow(StepError)
    try {
      requireSamePython('3.11', '3.14', '4.3.0')
    } catch (error) {
      expect((error as StepError).details).toContain('images offer Python 3.10, 3.11, 3.12, 3.13')
      expect((error as StepError).details).not.toContain('--python 3.14')
    }
  })

  it('lets the same version through, and either side unknown', () => {
    expect(() => requireSamePython('3.13', '3.13')).not.toThrow()
    expect(() => requireSamePython(undefined, '3.12')).not.toThrow()
    expect(() => requireSamePython('3.11', undefined)).not.toThrow()
  })
})

describe('the Connect server manifest', () => {
  it('runs the cluster image against the master Service, with the shared conf and no token on its command line', () => {
    const { deployment, service } = renderServer(manifests.connect, { image: 'spark:1', namespace: 'dev' })
    expect(deployment.metadata).toMatchObject({ name: 'spark-connect', namespace: 'dev', labels: { app: 'spark', role: 'connect' } })
    const container = podTemplate(deployment).spec!.containers[0]
    expect(container.image).toBe('spark:1')
    expect(container.args).toContain('org.apache.spark.sql.connect.service.SparkConnectServer')
    expect(container.args).toContain('spark://spark-master-service:7077')
    expect(JSON.stringify(deployment)).not.toMatch(/token/)
    expect(service.spec?.type).toBe('ClusterIP')
    expect(serverPort(manifests.connect)).toBe(15002)
  })

  it('becomes a container published on loopback whose health check is the readiness probe', () => {
    const plan = planContainer(podTemplate(manifests.connect.deployment), { name: 'spark-connect', network: 'spark', publish: [{ name: 'grpc', nodePort: 15002, containerPort: 15002 }], restart: true })
    const after = (flag: string) => plan.runArgs[plan.runArgs.indexOf(flag) + 1]
    expect(after('--publish')).toBe('127.0.0.1:15002:15002')
    expect(after('--health-cmd')).toBe("bash -c ':</dev/tcp/127.0.0.1/15002'")
    expect(after('--health-interval')).toBe('3s')
    // The master's probe is an HTTP one: no health check, so its spec (and running containers) stay as they were.
    expect(planContainer(podTemplate(manifests.master), { name: 'spark-master', network: 'spark', restart: true }).runArgs).not.toContain('--health-cmd')
  })
})

describe('formatStatus', () => {
  it('names the Spark Connect server when one runs, and not otherwise', () => {
    const report = { platform: 'docker', memberNoun: 'containers', ui: { url: 'http://127.0.0.1:30001' }, members: [{ name: 'spark-master', role: 'master', state: 'running', detail: 'Up' }], masterError: 'down' }
    expect(formatStatus(report)).not.toMatch(/Spark Connect/)
    const withConnect = { ...report, members: [...report.members, { name: 'spark-connect', role: 'connect', state: 'running', detail: 'Up' }] }
    expect(formatStatus(withConnect)).toMatch(/^Spark Connect server: spark-connect running \(`npm run connect` prints how to connect\)$/m)
  })
})
