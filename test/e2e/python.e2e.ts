// A cluster built for another Python than this machine's: `cluster:up --python 3.13` on Debian 13
// (Debian's own Python 3.13, and Java 21, as trixie has no 17), driven by a real Python 3.13 client
// through Connect; this machine's own python3 (3.11) is refused against it. CI cannot pull
// debian:trixie-slim, so the Docker ground debootstraps a stand-in, as it does for bookworm.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { hostInterpreter } from '../../scripts/ci/python-client.ts'
import { ensureTrixieBase } from '../../scripts/ci/docker-ground.ts'
import { hostPythonVersion } from '../../scripts/lib/host-python.ts'
import { cli } from './cli.ts'
import { expectOtherPythonRefused, expectUdfsThroughConnect } from './connect-client.ts'

const ground = inject('ground')
const spark35 = /^3\./.test(process.env.SPARK_K8S_SPARK_VERSION ?? '')
const docker = ['--platform', 'docker']

describe.skipIf(ground.skipReason || spark35 || hostPythonVersion() === '3.13')('a cluster whose executors run Python 3.13, from a Python 3.13 client (Docker)', () => {
  let env: Record<string, string>

  beforeAll(async () => {
    env = { ...ground.env, SPARK_K8S_BASE_IMAGE: await ensureTrixieBase((line) => console.error(line)) }
    expect((await cli(env, 'down', ...docker)).exitCode).toBe(0)
  })

  afterAll(async () => {
    await cli(env, 'down', ...docker)
  })

  it('cluster:up --python 3.13 builds on Debian 13 and tags the image py3.13; a 3.13 client runs a UDF, a pandas_udf, mapInPandas and toPandas; this machine\'s python3 is refused', async () => {
    const up = await cli(env, 'up', ...docker, '--workers', '1', '--python', '3.13', '--json')
    expect(up.exitCode, up.stderr.slice(-3000)).toBe(0)
    expect(up.json!.image).toMatch(/^spark-standalone:\d+\.\d+\.\d+-py3\.13-[0-9a-f]{12}@sha256:[0-9a-f]{64}$/)
    const connect = await cli(env, 'connect', ...docker, '--python', '3.13', '--json')
    expect(connect.exitCode, connect.stderr).toBe(0)
    expect(connect.json).toMatchObject({ ok: true, python: '3.13' })
    await expectUdfsThroughConnect(connect.json!.sparkVersion, connect.json!.connectionString, await hostInterpreter('3.13'))
    await expectOtherPythonRefused(env, docker, hostPythonVersion()!, '3.13')
  })
})
