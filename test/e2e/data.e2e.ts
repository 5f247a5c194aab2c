// Your data in and out on a real Docker engine with real Spark: a folder of this machine mounted in
// every container (`cluster:up --data`), read and written by a submitted app and by a Connect
// client; the event logs of every driver in its spark-events/, and the History Server listing the
// finished applications; bad data flags refused before anything is made; cluster:down keeping it all.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { $ } from 'zx'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { secretOf } from '../../scripts/lib/cluster-secret.ts'
import { cli, labelled } from './cli.ts'
import { userPackages } from './submit-apps.ts'
import { dataAppArgs, expectDataApp, expectDataThroughConnect, expectHistoryLists, expectParquetOnHost, makeDataFolder } from './data-apps.ts'

const ground = inject('ground')
const spark35 = /^3\./.test(process.env.SPARK_K8S_SPARK_VERSION ?? '')
const docker = ['--platform', 'docker']
// The image docker.e2e.ts builds (with its pip package and JDBC driver), so no second build.
const env = { ...inject('ground').env, ...userPackages }

describe.skipIf(ground.skipReason)('your data and your finished applications on Docker (real CLI, real Spark)', () => {
  const data = makeDataFolder()
  let sparkVersion = ''

  beforeAll(async () => {
    expect((await cli(ground.env, 'down', ...docker)).exitCode).toBe(0)
  })

  afterAll(async () => {
    await cli(ground.env, 'down', ...docker)
  })

  it('refuses a missing folder (exit 2) and a claim on Docker (exit 1) in one line each, and makes nothing', async () => {
    const missing = await cli(ground.env, 'up', ...docker, '--data', join(data, 'nope'))
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual([`error: --data must be an existing folder (got "${join(data, 'nope')}": there is no ${join(data, 'nope')})`])
    const claim = await cli(env, 'up', ...docker, '--workers', '1', '--data-claim', 'lake')
    expect(claim.exitCode).toBe(1)
    expect(claim.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual(['error: --data-claim lake names a Kubernetes PersistentVolumeClaim, which Docker has not: pass --data with a folder of this machine'])
    expect(await labelled('container', 'app=spark')).toEqual([])
    expect(await labelled('volume', 'app=spark')).toEqual([])
  })

  it('cluster:up --data mounts the folder at /data in the master and every worker, writable by the Spark user, and says so', async () => {
    const up = await cli(env, 'up', ...docker, '--workers', '2', '--data', data, '--json')
    expect(up.exitCode, up.stderr.slice(-3000)).toBe(0)
    expect(up.stderr).toContain(`folder ${data} at /data in every pod; event logs in its spark-events/`)
    sparkVersion = /^spark-standalone:(\d+\.\d+\.\d+)-/.exec(up.json!.image)![1]
    for (const name of ['spark-master', 'spark-worker-1', 'spark-worker-2']) {
      const touched = await $`docker exec ${name} sh -c ${`touch /data/.by-${name} && id -u`}`.quiet()
      expect(touched.stdout.trim()).toBe('185')
      expect(statSync(join(data, `.by-${name}`)).uid).toBe(185)
    }
    // Only the group may write, as the folder's own: nobody else was let in.
    expect(statSync(data).mode & 0o7777).toBe(0o2775)
    const again = await cli(env, 'up', ...docker, '--workers', '2', '--data', data)
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
    expect(connect.exitCode, connect.stderr).toBe(0)
    await expectDataThroughConnect(sparkVersion, connect.json!.connectionString, '/data', 'by_city_connect.parquet')
    await expectParquetOnHost(sparkVersion, join(data, 'by_city_connect.parquet'))
  })

  it('after pi and submit, npm run history serves the History Server on loopback, listing both with their jobs; status links it', async () => {
    const pi = await cli(ground.env, 'pi', ...docker)
    expect(pi.exitCode, pi.stderr).toBe(0)
    const history = await cli(ground.env, 'history', ...docker, '--json')
    expect(history.exitCode, history.stderr.slice(-3000)).toBe(0)
    expect(history.json).toMatchObject({ ok: true, command: 'history', url: 'http://localhost:18080', via: expect.stringMatching(/published on loopback by Docker/) })
    const image = (await $`docker inspect --format {{.Config.Image}} spark-master`.quiet()).stdout.trim()
    const secret = secretOf((await $`docker run --rm --user 185:0 --volume spark-auth:/auth:ro --entrypoint cat ${image} /auth/spark-defaults.conf`.quiet()).stdout)!
    await expectHistoryLists('http://localhost:18080', { PythonPi: 1, 'data-app': 3 }, secret)
    expect(readdirSync(join(data, 'spark-events')).length).toBeGreaterThanOrEqual(2)
    const ports = await $`docker port spark-history`.quiet()
    expect(ports.stdout.trim()).toBe('18080/tcp -> 127.0.0.1:18080')
    const status = await cli(ground.env, 'status', ...docker)
    expect(status.stdout).toMatch(/^History Server: spark-history running \(`npm run history` serves it on http:\/\/localhost:18080\)$/m)
    expect(status.stdout).toContain(`your data: folder ${data} at /data (cluster:down never deletes it)`)
    const again = await cli(ground.env, 'history', ...docker)
    expect(again.exitCode).toBe(0)
    expect(again.stderr).toMatch(/\[SKIPPED\].*Start the Spark History Server.*already runs/)
  })

  it('cluster:down removes the History Server and every container, and keeps the folder, its Parquet and its event logs', async () => {
    const down = await cli(ground.env, 'down', ...docker)
    expect(down.exitCode, down.stderr).toBe(0)
    expect(down.stderr).toMatch(/deleted .*spark-history/)
    expect(down.stderr).toContain(`your data stays: folder ${data} at /data`)
    expect(await labelled('container', 'app=spark')).toEqual([])
    expect(existsSync(join(data, 'people.csv'))).toBe(true)
    expect(existsSync(join(data, 'by_city_submit.parquet'))).toBe(true)
    expect(readdirSync(join(data, 'spark-events')).length).toBeGreaterThanOrEqual(2)
  })
})
