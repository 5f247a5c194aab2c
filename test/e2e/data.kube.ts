// Your data on a real Kubernetes: a ReadWriteMany claim an admin made (`cluster:up --data-claim`),
// mounted in the master, the workers and every driver; a CSV the host puts on its volume read by a
// submitted app and by a Connect client through a port-forward, their Parquet read back by the
// host; event logs on the claim and the History Server through the API server; bad data flags
// refused in one line with nothing applied; cluster:down keeping the claim and what is on it. And
// s3a:// against a real S3 server on this machine (versitygw), its keys only in the Secret.
import { chmodSync, existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startS3Server, type S3Server } from '../../scripts/ci/s3-ground.ts'
import { connectTokenOf, secretOf } from '../../scripts/lib/cluster-secret.ts'
import { connectKube, type Kube } from '../../scripts/lib/kube/kube.ts'
import { groundReady } from '../background-ground.ts'
import { cli, startCli } from './cli.ts'
import { expectRefused } from './connect-client.ts'
import { chromiumExecutable, runCellInLab } from './browser.ts'
import { dataAppArgs, eventLogs, expectDataApp, expectNotebookRun, expectDataThroughConnect, expectHistoryLists, expectParquetOnHost, makeBucket, makeDataFolder, s3Keys } from './data-apps.ts'
import { userPackages } from './submit-apps.ts'

const ground = inject('kubeGround')
const platform = ['--platform', 'kubernetes']
const namespace = 'default'
const claim = 'lake'
const volume = 'ssk8s-lake'
// The image spark.kube.ts builds and pushes, so no second build.
const run = (command: string, ...args: string[]) => cli({ ...ground.env, ...userPackages }, command, ...platform, ...args)
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error:'))

describe.skipIf(ground.skipReason)('your data and your finished applications on a real Kubernetes (--data-claim)', () => {
  let kube: Kube
  // The volume's directory on the node (this machine), open to every pod as an NFS export would be.
  const data = makeDataFolder()
  chmodSync(data, 0o777)
  let sparkVersion = ''
  let s3: S3Server

  beforeAll(async () => {
    await groundReady(ground.statusFile!, 'the Kubernetes ground')
    process.env.KUBECONFIG = ground.env.KUBECONFIG
    kube = await connectKube(ground.env.SPARK_K8S_CONTEXT)
    expect((await run('down')).exitCode).toBe(0)
    await removeClaim()
    s3 = await startS3Server((line) => console.error(`[s3-ground] ${line}`))
    await makeBucket(s3, 'lake', data)
  })

  afterAll(async () => {
    await run('down')
    await removeClaim()
    s3?.stop()
  })

  async function removeClaim() {
    await kube.core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace }).catch(() => undefined)
    await kube.core.deletePersistentVolume({ name: volume }).catch(() => undefined)
  }

  it('refuses a missing claim and a folder of this machine in one line each (exit 1), applying nothing', async () => {
    const missing = await run('up', '--workers', '1', '--data-claim', claim)
    expect(missing.exitCode).toBe(1)
    expect(errorLines(missing.stderr)).toEqual([`error: --data-claim ${claim}: there is no PersistentVolumeClaim ${claim} in namespace ${namespace}`])
    const folder = await run('up', '--workers', '1', '--data', data)
    expect(folder.exitCode).toBe(1)
    expect(errorLines(folder.stderr)).toEqual([`error: --data ${data} is a folder of this machine, which a cluster's nodes cannot see`])
    expect(folder.stderr).toContain('--data-claim NAME')
    expect((await kube.apps.listNamespacedDeployment({ namespace, labelSelector: 'app=spark' })).items).toEqual([])
  })

  it('cluster:up --data-claim mounts the claim at /data in the master and the workers', async () => {
    await kube.core.createPersistentVolume({
      body: { metadata: { name: volume }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'], storageClassName: '', hostPath: { path: data, type: 'Directory' }, claimRef: { namespace, name: claim } } },
    })
    await kube.core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: { metadata: { name: claim }, spec: { accessModes: ['ReadWriteMany'], storageClassName: '', volumeName: volume, resources: { requests: { storage: '1Gi' } } } },
    })
    const up = await cli({ ...ground.env, ...userPackages, ...s3Keys(s3) }, 'up', ...platform, '--workers', '2', '--data-claim', claim, '--s3-endpoint', s3.endpoint, '--json')
    expect(up.exitCode, up.stderr.slice(-3000)).toBe(0)
    expect(up.stderr).toContain(`claim ${claim} at /data in every pod; event logs and the applications' logs (npm run logs) in its spark-events/`)
    expect(up.stderr).toContain(`s3a:// paths go to ${s3.endpoint}`)
    expect(up.stdout + up.stderr).not.toContain(s3.secretKey)
    sparkVersion = /spark-standalone:(\d+\.\d+\.\d+)-/.exec(up.json!.image)![1]
    const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark' })
    expect(items).toHaveLength(3)
    for (const pod of items) {
      expect(pod.spec!.volumes!.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe(claim)
      // The claim's own mount (workers also mount its spark-events/, by subPath, for the applications' logs).
      expect(pod.spec!.containers[0].volumeMounts!.find((m) => m.name === 'data' && !m.subPath)?.mountPath).toBe('/data')
    }
  })

  it('a submitted app (a Job) reads the CSV on the claim and writes Parquet the host reads', async () => {
    expectDataApp(await run('submit', ...dataAppArgs('/data', 'by_city_submit.parquet')))
    await expectParquetOnHost(sparkVersion, join(data, 'by_city_submit.parquet'))
  })

  it('a Connect client through the port-forward reads the same CSV and writes Parquet the host reads', async () => {
    const connect = startCli({ ...ground.env }, 'connect', ...platform, '--port', '0', '--json')
    try {
      const info = JSON.parse(await connect.firstLine) as { connectionString: string }
      await expectDataThroughConnect(sparkVersion, info.connectionString, '/data', 'by_city_connect.parquet')
      await expectParquetOnHost(sparkVersion, join(data, 'by_city_connect.parquet'))
      await expectDataThroughConnect(sparkVersion, info.connectionString, 's3a://lake', 'by_city_connect.parquet')
      await expectParquetOnHost(sparkVersion, join(s3.root, 'lake', 'by_city_connect.parquet'))
    } finally {
      expect(await connect.stop('SIGINT'), connect.output().stderr).toBe(0)
    }
  })

  it('through s3a://, a submitted Job reads the CSV put into the S3 server and writes Parquet the host reads; the keys are in no pod spec', async () => {
    expectDataApp(await run('submit', ...dataAppArgs('s3a://lake', 'by_city_submit.parquet')))
    await expectParquetOnHost(sparkVersion, join(s3.root, 'lake', 'by_city_submit.parquet'))
    const specs = JSON.stringify([
      (await kube.apps.listNamespacedDeployment({ namespace, labelSelector: 'app=spark' })).items,
      (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark' })).items,
      (await kube.core.listNamespacedConfigMap({ namespace })).items,
    ])
    expect(specs.includes(s3.secretKey)).toBe(false)
    expect(specs.includes(s3.accessKey)).toBe(false)
  })

  it('notebook forwards JupyterLab to localhost: a notebook computes Pi, runs a Python UDF and a pandas_udf, reads the CSV on the claim and writes Parquet the host reads, and is kept on the claim; a real browser runs a cell on the cluster', async () => {
    const notebook = startCli({ ...ground.env }, 'notebook', ...platform, '--port', '0', '--json')
    try {
      const info = JSON.parse(await notebook.firstLine) as { url: string; via: string }
      expect(info.url).toMatch(/^http:\/\/localhost:\d+\/lab\?token=[0-9a-f]{64}$/)
      expect(info.via).toMatch(/^port-forward to pod spark-notebook-/)
      await expectNotebookRun(info.url, '/data', 'by_city_notebook.parquet', 'e2e.ipynb')
      await expectParquetOnHost(sparkVersion, join(data, 'by_city_notebook.parquet'))
      expect(readdirSync(join(data, 'notebooks'))).toContain('e2e.ipynb')
      const shown = await runCellInLab(info.url, 'spark.range(1234).count()', { executablePath: await chromiumExecutable() })
      expect(shown).toMatch(/^1234$/m)
    } finally {
      expect(await notebook.stop('SIGINT'), notebook.output().stderr).toBe(0)
    }
    const [pod] = (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=spark,role=notebook' })).items
    const container = pod.spec!.containers[0]
    expect([container.securityContext?.readOnlyRootFilesystem, container.securityContext?.allowPrivilegeEscalation, pod.spec!.securityContext?.runAsNonRoot]).toEqual([true, false, true])
    // JupyterLab alone goes (this 2-CPU node has no room for it beside the servers while cluster:up rolls them below).
    const removed = await run('down', '--role', 'notebook')
    expect(removed.exitCode, removed.stderr).toBe(0)
    expect(removed.stderr).toMatch(/deployment\/spark-notebook.*deleted|deleted.*deployment\/spark-notebook/)
    expect((await kube.apps.listNamespacedDeployment({ namespace, labelSelector: 'app=spark' })).items.map((d) => d.metadata!.name).sort()).toEqual(['spark-connect', 'spark-master', 'spark-worker'])
    expect(readdirSync(join(data, 'notebooks'))).toContain('e2e.ipynb')
  })

  it('after pi and submit, npm run history forwards the History Server to localhost, listing both with their jobs', async () => {
    expect((await run('pi')).exitCode).toBe(0)
    const history = startCli({ ...ground.env }, 'history', ...platform, '--port', '0', '--json')
    try {
      const said = JSON.parse(await history.firstLine) as { url: string; via: string }
      expect(said.url).toMatch(/^http:\/\/localhost:\d+$/)
      expect(said.via).toMatch(/^port-forward to pod spark-history-/)
      const conf = Buffer.from((await kube.core.readNamespacedSecret({ name: 'spark-auth', namespace })).data!['spark-defaults.conf'], 'base64').toString()
      expect(conf).toContain(`spark.hadoop.fs.s3a.secret.key ${s3.secretKey}`)
      await expectHistoryLists(said.url, { PythonPi: 1, 'data-app': 3, 'spark-notebook': 1 }, [secretOf(conf)!, s3.secretKey, s3.accessKey])
    } finally {
      expect(await history.stop('SIGINT'), history.output().stderr).toBe(0)
    }
    expect(eventLogs(data).length).toBeGreaterThanOrEqual(2)
  })

  it('a repaired Secret: cluster:up rolls the running Connect server onto it (the new token works, the old is refused) and leaves the History Server, which does not mount it, alone', async () => {
    const readConf = async () => Buffer.from((await kube.core.readNamespacedSecret({ name: 'spark-auth', namespace })).data!['spark-defaults.conf'] ?? '', 'base64').toString()
    const pods = async (role: string) => (await kube.core.listNamespacedPod({ namespace, labelSelector: `app=spark,role=${role}` })).items.filter((pod) => !pod.metadata?.deletionTimestamp).map((pod) => pod.metadata!.uid)
    const historyVersion = async () => (await kube.apps.readNamespacedDeployment({ name: 'spark-history', namespace })).metadata?.resourceVersion
    const [connectPods, historyPods, history] = [await pods('connect'), await pods('history'), await historyVersion()]
    expect([connectPods, historyPods].map((uids) => uids.length)).toEqual([1, 1])
    const oldToken = connectTokenOf(await readConf())!
    const live = await kube.core.readNamespacedSecret({ name: 'spark-auth', namespace })
    await kube.core.replaceNamespacedSecret({ name: 'spark-auth', namespace, body: { ...live, data: { 'spark-defaults.conf': '' } } })
    const up = await cli({ ...ground.env, ...userPackages, ...s3Keys(s3) }, 'up', ...platform, '--workers', '2', '--data-claim', claim, '--s3-endpoint', s3.endpoint)
    expect(up.exitCode, up.stderr.slice(-3000)).toBe(0)
    expect(up.stderr).toMatch(/secret\/spark-auth repaired \(its spark-defaults\.conf is empty\): a new secret; Spark Connect server rolled: conf changed/)
    expect(up.stderr).not.toContain('History Server rolled')
    const connectNow = await pods('connect')
    expect(connectNow).toHaveLength(1)
    expect(connectPods).not.toContain(connectNow[0])
    expect([await pods('history'), await historyVersion()]).toEqual([historyPods, history])
    const token = connectTokenOf(await readConf())
    expect(token).not.toBe(oldToken)
    // connect finds the server already as it would start it: cluster:up did it.
    const connect = startCli({ ...ground.env }, 'connect', ...platform, '--port', '0', '--json')
    try {
      const info = JSON.parse(await connect.firstLine) as { url: string; connectionString: string }
      expect(info.connectionString).toBe(`${info.url}/;token=${token}`)
      await expectDataThroughConnect(sparkVersion, info.connectionString, 's3a://lake', 'by_city_connect.parquet')
      await expectRefused(sparkVersion, `${info.url}/;token=${oldToken}`)
    } finally {
      expect(await connect.stop('SIGINT'), connect.output().stderr).toBe(0)
    }
    expect(connect.output().stderr).toMatch(/\[SKIPPED\].*Start the Spark Connect server/)
    expect(await pods('connect')).toEqual(connectNow)
  })

  it('cluster:down deletes the History Server and the cluster, and keeps the claim and what is on it', async () => {
    const down = await run('down')
    expect(down.exitCode, down.stderr).toBe(0)
    expect(down.stderr).toMatch(/deployment\/spark-history.*; your data stays: claim lake at \/data/)
    expect((await kube.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace })).status?.phase).toBe('Bound')
    expect(existsSync(join(data, 'by_city_connect.parquet'))).toBe(true)
    expect(eventLogs(data).length).toBeGreaterThanOrEqual(2)
  })
})
