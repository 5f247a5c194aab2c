// Your data in and out on a real Docker engine with real Spark: a folder of this machine mounted in
// every container (`cluster:up --data`), read and written by a submitted app and by a Connect
// client; the same through s3a:// against a real S3 server (versitygw) whose keys never show; the
// event logs of every driver in its spark-events/, and the History Server listing the finished
// applications; bad data flags refused before anything is made; cluster:down keeping it all.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { $ } from 'zx'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startS3Server, type S3Server } from '../../scripts/ci/s3-ground.ts'
import { secretOf } from '../../scripts/lib/cluster-secret.ts'
import { fetchWithin } from '../../scripts/lib/http.ts'
import { repoRoot } from '../../scripts/lib/paths.ts'
import { groundReady } from '../background-ground.ts'
import { cli, cliWithInput, labelled } from './cli.ts'
import { userPackages } from './submit-apps.ts'
import { chromiumExecutable, runCellInLab } from './browser.ts'
import { dataAppArgs, eventLogs, expectDataApp, expectNotebookRun, expectDataThroughConnect, expectHistoryLists, expectParquetOnHost, expectS3aReadFails, makeBucket, makeDataFolder, s3Keys } from './data-apps.ts'

const ground = inject('ground')
const spark35 = /^3\./.test(process.env.SPARK_K8S_SPARK_VERSION ?? '')
const docker = ['--platform', 'docker']
// The image docker.e2e.ts builds (with its pip package and JDBC driver), so no second build.
const env = { ...inject('ground').env, ...userPackages }

describe.skipIf(ground.skipReason)('your data and your finished applications on Docker (real CLI, real Spark)', () => {
  const data = makeDataFolder()
  let sparkVersion = ''
  let s3: S3Server
  let connectionString = ''
  let labUrl = ''
  /** What the CLI printed, to look for the S3 keys in. */
  const printed: string[] = []
  // Spark 3.5's image has no S3A (docker/s3a-lock/ pins none for it): the cluster gets no S3 there.
  const s3Flags = () => (spark35 ? [] : ['--s3-endpoint', s3.endpoint])

  beforeAll(async () => {
    expect((await cli(ground.env, 'down', ...docker)).exitCode).toBe(0)
    if (ground.s3StatusFile) await groundReady(ground.s3StatusFile, 'the S3 server (versitygw)')
    s3 = await startS3Server((line) => console.error(`[s3-ground] ${line}`))
    await makeBucket(s3, 'lake', data)
  })

  afterAll(async () => {
    await cli(ground.env, 'down', ...docker)
    s3?.stop()
  })

  it('refuses a missing folder and an empty --data (exit 2), a claim on Docker and a notebook with no cluster (exit 1) in one line each, and makes nothing', async () => {
    const missing = await cli(ground.env, 'up', ...docker, '--data', join(data, 'nope'))
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual([`error: --data must be an existing folder (got "${join(data, 'nope')}": there is no ${join(data, 'nope')})`])
    // An unset variable (--data "$DATA_DIR") is not the folder the command runs in.
    const modeBefore = statSync(repoRoot).mode
    const empty = await cli(ground.env, 'up', ...docker, '--data', '')
    expect(empty.exitCode).toBe(2)
    expect(empty.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual(['error: --data must be a folder of yours, like ~/lake (got an empty value: is the shell variable you passed set?)'])
    expect([statSync(repoRoot).mode, existsSync(join(repoRoot, 'spark-events'))]).toEqual([modeBefore, false])
    const claim = await cli(env, 'up', ...docker, '--workers', '1', '--data-claim', 'lake')
    expect(claim.exitCode).toBe(1)
    expect(claim.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual(['error: --data-claim lake names a Kubernetes PersistentVolumeClaim, which Docker has not: pass --data with a folder of this machine'])
    const endpoint = await cli({ ...env, ...s3Keys(s3) }, 'up', ...docker, '--s3-endpoint', 'minio:9000')
    expect(endpoint.exitCode).toBe(2)
    expect(endpoint.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual(['error: --s3-endpoint must be an http:// or https:// URL of host[:port], like http://localhost:9000 or https://s3.eu-west-1.amazonaws.com (got "minio:9000")'])
    const notebook = await cli(ground.env, 'notebook', ...docker)
    expect(notebook.exitCode).toBe(1)
    expect(notebook.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual(['error: no Spark master container here: run `npm run cluster:up` first'])
    expect(await labelled('container', 'app=spark')).toEqual([])
    expect(await labelled('volume', 'app=spark')).toEqual([])
  })

  it('cluster:up --data --s3-endpoint mounts the folder at /data in the master and every worker, writable by the Spark user, and says so', async () => {
    const up = await cli({ ...env, ...s3Keys(s3) }, 'up', ...docker, '--workers', '2', '--data', data, ...s3Flags(), '--json')
    printed.push(up.stdout, up.stderr)
    expect(up.exitCode, up.stderr.slice(-3000)).toBe(0)
    expect(up.stderr).toContain(`folder ${data} at /data in every pod; event logs and the applications' logs (npm run logs) in its spark-events/`)
    if (!spark35) expect(up.stderr).toContain(`s3a:// paths go to ${s3.endpoint} (us-east-1; keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, kept in the cluster's spark-auth secret)`)
    sparkVersion = /^spark-standalone:(\d+\.\d+\.\d+)-/.exec(up.json!.image)![1]
    for (const name of ['spark-master', 'spark-worker-1', 'spark-worker-2']) {
      const touched = await $`docker exec ${name} sh -c ${`touch /data/.by-${name} && id -u`}`.quiet()
      expect(touched.stdout.trim()).toBe('185')
      expect(statSync(join(data, `.by-${name}`)).uid).toBe(185)
    }
    // Only the group may write, as the folder's own: nobody else was let in.
    expect(statSync(data).mode & 0o7777).toBe(0o2775)
    const again = await cli({ ...env, ...s3Keys(s3) }, 'up', ...docker, '--workers', '2', '--data', data, ...s3Flags())
    printed.push(again.stdout, again.stderr)
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stderr).toMatch(/\[SKIPPED\].*Apply manifests\/.*\[SKIPPED: .+\]/)
  })

  it('a submitted app reads the CSV the host wrote and writes Parquet the host reads', async () => {
    const result = await cli(ground.env, 'submit', ...docker, ...dataAppArgs('/data', 'by_city_submit.parquet'))
    expectDataApp(result)
    await expectParquetOnHost(sparkVersion, join(data, 'by_city_submit.parquet'))
  })

  it.skipIf(spark35)('a Connect client on this machine reads the same CSV and writes Parquet the host reads', async () => {
    const connect = await cli(ground.env, 'connect', ...docker, '--json')
    printed.push(connect.stdout, connect.stderr)
    expect(connect.exitCode, connect.stderr).toBe(0)
    connectionString = connect.json!.connectionString
    await expectDataThroughConnect(sparkVersion, connectionString, '/data', 'by_city_connect.parquet')
    await expectParquetOnHost(sparkVersion, join(data, 'by_city_connect.parquet'))
  })

  it.skipIf(spark35)('through s3a://, a submitted app and a Connect client read the CSV put into the S3 server and write Parquet the host reads from its bucket, the shell reads it back; the keys are nowhere to see', async () => {
    const submitted = await cli(ground.env, 'submit', ...docker, ...dataAppArgs('s3a://lake', 'by_city_submit.parquet'))
    printed.push(submitted.stdout, submitted.stderr)
    expectDataApp(submitted)
    await expectParquetOnHost(sparkVersion, join(s3.root, 'lake', 'by_city_submit.parquet'))
    await expectDataThroughConnect(sparkVersion, connectionString, 's3a://lake', 'by_city_connect.parquet')
    await expectParquetOnHost(sparkVersion, join(s3.root, 'lake', 'by_city_connect.parquet'))
    const shell = await cliWithInput(ground.env, 'spark.read.parquet("s3a://lake/by_city_submit.parquet").count()\n', 'shell', ...docker)
    printed.push(shell.stdout, shell.stderr)
    expect(shell.exitCode, shell.stderr).toBe(0)
    expect(shell.stdout).toMatch(/^(>>> )*3$/m)
    const containers = await labelled('container', 'app=spark')
    const inspected = (await $`docker inspect ${containers}`.quiet()).stdout
    const processes = (await $`docker exec spark-master ps -eo args`.quiet()).stdout
    const logged = await Promise.all(containers.map((id) => $`docker logs ${id}`.quiet().nothrow()))
    const logs = logged.map((log) => log.stdout + log.stderr).join('\n')
    for (const [where, text] of Object.entries({ 'docker inspect': inspected, ps: processes, 'the logs': logs, 'the CLI': printed.join('\n') })) {
      expect(text.includes(s3.secretKey), `the S3 secret key in ${where}`).toBe(false)
      expect(text.includes(s3.accessKey), `the S3 access key in ${where}`).toBe(false)
    }
  })

  it('notebook serves JupyterLab on loopback behind its token: a notebook computes Pi, runs a Python UDF and a pandas_udf, reads the CSV and writes Parquet the host reads, and is kept in the folder; a real browser runs a cell on the cluster', async () => {
    const notebook = await cli(ground.env, 'notebook', ...docker, '--json')
    expect(notebook.exitCode, notebook.stderr.slice(-3000)).toBe(0)
    expect(notebook.json).toMatchObject({ ok: true, command: 'notebook', url: expect.stringMatching(/^http:\/\/localhost:8888\/lab\?token=[0-9a-f]{64}$/) })
    labUrl = notebook.json!.url
    expect((await $`docker port spark-notebook`.quiet()).stdout.trim()).toBe('8888/tcp -> 127.0.0.1:8888')
    expect((await fetchWithin('http://localhost:8888/api/status', 10_000)).status).toBe(403)
    await expectNotebookRun(labUrl, '/data', 'by_city_notebook.parquet', 'e2e.ipynb')
    await expectParquetOnHost(sparkVersion, join(data, 'by_city_notebook.parquet'))
    expect(readdirSync(join(data, 'notebooks'))).toContain('e2e.ipynb')
    const shown = await runCellInLab(labUrl, 'spark.range(1234).count()', { executablePath: await chromiumExecutable() })
    expect(shown).toMatch(/^1234$/m)
    const again = await cli(ground.env, 'notebook', ...docker, '--json')
    expect(again.exitCode, again.stderr.slice(-3000)).toBe(0)
    expect(again.json!.url).toBe(labUrl)
    expect(again.stderr).toMatch(/\[SKIPPED\].*JupyterLab/)
    const status = await cli(ground.env, 'status', ...docker)
    expect(status.stdout).toMatch(/^JupyterLab: spark-notebook running \(`npm run notebook` serves it/m)
  })

  it('after pi and submit, npm run history serves the History Server on loopback, listing both with their jobs; status links it', async () => {
    const pi = await cli(ground.env, 'pi', ...docker)
    expect(pi.exitCode, pi.stderr).toBe(0)
    const history = await cli(ground.env, 'history', ...docker, '--json')
    expect(history.exitCode, history.stderr.slice(-3000)).toBe(0)
    expect(history.json).toMatchObject({ ok: true, command: 'history', url: 'http://localhost:18080', via: expect.stringMatching(/published on loopback by Docker/) })
    const image = (await $`docker inspect --format {{.Config.Image}} spark-master`.quiet()).stdout.trim()
    const secret = secretOf((await $`docker run --rm --user 185:0 --volume spark-auth:/auth:ro --entrypoint cat ${image} /auth/spark-defaults.conf`.quiet()).stdout)!
    const listed = await expectHistoryLists('http://localhost:18080', { PythonPi: 1, 'data-app': 3, 'spark-notebook': 1 }, [secret, s3.secretKey, s3.accessKey])
    if (!spark35) {
      const environment = (await (await fetchWithin(`http://localhost:18080/api/v1/applications/${listed.find((app) => app.name === 'data-app')!.id}/environment`, 10_000)).json()) as { sparkProperties: Array<[string, string]> }
      expect(new Map(environment.sparkProperties).get('spark.hadoop.fs.s3a.secret.key')).toBe('*********(redacted)')
    }
    expect(eventLogs(data).length).toBeGreaterThanOrEqual(2)
    // The drivers' and executors' logs kept beside them hold neither the cluster's secret nor the S3 keys.
    const logs = join(data, 'spark-events', 'logs')
    const kept = readdirSync(logs, { recursive: true, encoding: 'utf8' }).filter((file) => statSync(join(logs, file)).isFile())
    // Each driver's own folder: its log and the applications it ran (a notebook kernel's named by the kernel).
    const driverLogs = kept.filter((file) => /^driver-[^/]+\/driver\.log$/.test(file))
    expect(driverLogs.length, kept.join('\n')).toBeGreaterThanOrEqual(2)
    expect(driverLogs.some((file) => /^driver-spark-notebook-kernel-/.test(file)), kept.join('\n')).toBe(true)
    for (const file of driverLogs) expect(readFileSync(join(logs, dirname(file), 'application'), 'utf8')).toMatch(/^(app-\d{14}-\d{4}\n)+$/)
    expect(kept.filter((file) => /\/stderr$/.test(file)).length).toBeGreaterThanOrEqual(2)
    for (const file of kept) for (const hidden of [secret, s3.secretKey, s3.accessKey]) expect(readFileSync(join(logs, file), 'utf8').includes(hidden), file).toBe(false)
    const ports = await $`docker port spark-history`.quiet()
    expect(ports.stdout.trim()).toBe('18080/tcp -> 127.0.0.1:18080')
    const status = await cli(ground.env, 'status', ...docker)
    expect(status.stdout).toMatch(/^History Server: spark-history running \(`npm run history` serves it on http:\/\/localhost:18080\)$/m)
    expect(status.stdout).toContain(`your data: folder ${data} at /data (cluster:down never deletes it)`)
    if (!spark35) expect(status.stdout).toContain(`S3: s3a:// paths go to ${s3.endpoint} (its keys are in the spark-auth secret)`)
    const again = await cli(ground.env, 'history', ...docker)
    expect(again.exitCode).toBe(0)
    expect(again.stderr).toMatch(/\[SKIPPED\].*Start the Spark History Server.*already runs/)
  })

  it.skipIf(spark35)('cluster:up without --s3-endpoint rolls the running Connect server, whose client then reads no s3a://; the History Server (not on that conf) stays; a second cluster:up leaves both', async () => {
    const ids = async () => (await $`docker inspect --format {{.Id}} spark-connect spark-history`.quiet()).stdout.trim().split('\n')
    const [connect, history] = await ids()
    const up = await cli(env, 'up', ...docker, '--workers', '2', '--data', data)
    expect(up.exitCode, up.stderr.slice(-3000)).toBe(0)
    expect(up.stderr).toMatch(/Apply manifests\/ \(master, service, workers\): .*; Spark Connect server rolled: conf changed/)
    expect(up.stderr).not.toContain('History Server rolled')
    const [rolled, kept] = await ids()
    expect(rolled).not.toBe(connect)
    expect(kept).toBe(history)
    // The secret and the token were kept: the same connection string gets a session, and no S3.
    const error = await expectS3aReadFails(sparkVersion, connectionString, 's3a://lake/people.csv')
    expect(error).toMatch(/s3a:\/\/lake\/people\.csv/)
    const again = await cli(env, 'up', ...docker, '--workers', '2', '--data', data)
    expect(again.exitCode, again.stderr.slice(-3000)).toBe(0)
    expect(again.stderr).toMatch(/\[SKIPPED\].*Apply manifests\/.*\[SKIPPED: .+\]/)
    expect(await ids()).toEqual([rolled, kept])
  })

  it('cluster:down removes the History Server and every container, and keeps the folder, its Parquet and its event logs', async () => {
    const down = await cli(ground.env, 'down', ...docker)
    expect(down.exitCode, down.stderr).toBe(0)
    expect(down.stderr).toMatch(/deleted .*spark-history/)
    expect(down.stderr).toContain(`your data stays: folder ${data} at /data`)
    expect(await labelled('container', 'app=spark')).toEqual([])
    expect(existsSync(join(data, 'people.csv'))).toBe(true)
    expect(existsSync(join(data, 'by_city_submit.parquet'))).toBe(true)
    expect(eventLogs(data).length).toBeGreaterThanOrEqual(2)
  })
})
