// The cluster's security promises on a real Docker engine, each against the way it was broken:
// an empty secret volume, a worker nobody has room for, someone else's network, two runs at once,
// a process on [::1] waiting for the Connect token, the UIs' kill links.
import { createServer } from 'node:net'
import { $ } from 'zx'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { authConfAnnotation, authConfProblem, connectTokenOf, secretOf, authConfDigest } from '../../scripts/lib/cluster-secret.ts'
import { readVolumeFile } from '../../scripts/lib/docker/secret.ts'
import { pollUntil } from '../../scripts/lib/poll.ts'
import { aliveWorkers, fetchMasterState } from '../../scripts/lib/spark-ui.ts'
import { cli, labelled } from './cli.ts'

const ground = inject('ground')
const spark35 = /^3\./.test(process.env.SPARK_K8S_SPARK_VERSION ?? '')
const docker = ['--platform', 'docker']
const uiUrl = 'http://127.0.0.1:30001'
const up = (...args: string[]) => cli(ground.env, 'up', ...docker, '--json', ...args)
const down = () => cli(ground.env, 'down', ...docker)
const ourLabels = ['--label', 'app=spark', '--label', 'app.kubernetes.io/managed-by=spark-standalone-k8s']

const imageOf = async (container: string) => (await $`docker inspect --format {{.Config.Image}} ${container}`.quiet()).stdout.trim()
const volumeConf = async (image: string) => readVolumeFile('spark-auth', 'spark-defaults.conf', image, { app: 'spark', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' })
/** Each of our containers' conf digest label, by name. */
async function confDigests(): Promise<Record<string, string>> {
  const names = await labelled('container', 'app.kubernetes.io/managed-by=spark-standalone-k8s')
  const listing = await $`docker inspect --format ${`{{.Name}} {{index .Config.Labels "${authConfAnnotation}"}}`} ${names}`.quiet()
  return Object.fromEntries(listing.stdout.trim().split('\n').map((line) => line.slice(1).split(' ')))
}

describe.skipIf(ground.skipReason)('security on a local Docker engine (real CLI, real Spark)', () => {
  beforeAll(async () => {
    expect((await down()).exitCode).toBe(0)
  })

  afterAll(async () => {
    await down()
    await $`docker network rm spark`.quiet().nothrow()
  })

  it('an empty secret volume of ours (a first cluster:up cut short) is repaired, not run without authentication', async () => {
    await $`docker volume create ${ourLabels} spark-auth`.quiet()
    const result = await up('--workers', '1')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/secret volume spark-auth repaired \(it holds no spark-defaults\.conf\): a new secret/)
    const conf = (await volumeConf(await imageOf('spark-master')))!
    expect(authConfProblem(conf)).toBeUndefined()
    expect(conf).toMatch(/^spark\.network\.crypto\.cipher AES\/GCM\/NoPadding$/m)
    expect(conf).toMatch(/^spark\.ui\.killEnabled false$/m)
    // Every container started on exactly this conf, and none carries the secret itself.
    const digests = await confDigests()
    expect(Object.keys(digests).sort()).toEqual(['spark-master', 'spark-worker-1'])
    for (const digest of Object.values(digests)) expect(digest).toBe(authConfDigest(conf))
    expect((await $`docker inspect spark-master spark-worker-1`.quiet()).stdout).not.toContain(secretOf(conf)!)
  })

  it('an emptied conf cannot reach a running cluster: the master refuses to start on it, and cluster:up repairs it with a new secret and new containers', async () => {
    const image = await imageOf('spark-master')
    const before = (await volumeConf(image))!
    await $`docker run --rm --network none --user 0:0 -v spark-auth:/auth --entrypoint sh ${image} -c ${': > /auth/spark-defaults.conf'}`.quiet()
    await $`docker restart spark-master`.quiet()
    const refused = await pollUntil<string>('the master to refuse the empty conf', 60_000, async () => {
      const logs = await $`docker logs spark-master`.quiet().nothrow()
      const line = `${logs.stdout}${logs.stderr}`.split('\n').find((l) => l.startsWith('require-auth: refusing to start'))
      return line ? { done: line } : { waiting: 'no refusal yet' }
    })
    expect(refused).toMatch(/does not turn on spark\.authenticate/)
    const state = (await $`docker inspect --format ${'{{.State.ExitCode}} {{.State.Running}}'} spark-master`.quiet()).stdout.trim()
    expect(['78 false', '78 true', '0 true']).toContain(state) // exited 78, or being restarted by its policy (and refusing again)
    const ids = (await $`docker ps --quiet --no-trunc --filter label=app=spark`.quiet()).stdout.trim().split('\n').sort()

    const result = await up('--workers', '1')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/secret volume spark-auth repaired \(its spark-defaults\.conf is empty\): a new secret/)
    const after = (await volumeConf(image))!
    expect(authConfProblem(after)).toBeUndefined()
    expect(secretOf(after)).not.toBe(secretOf(before))
    const newIds = (await $`docker ps --quiet --no-trunc --filter label=app=spark`.quiet()).stdout.trim().split('\n').sort()
    for (const id of newIds) expect(ids).not.toContain(id)
    expect(aliveWorkers(await fetchMasterState(uiUrl))).toHaveLength(1)
  })

  it("the UIs' kill links are off unless --ui-kill turns them on; the secret is kept and the containers replaced", async () => {
    // With kills off the UI has no kill handler at all: a POST there is 405; with them on the handler answers (403 or a redirect for an unknown app).
    const kill = async () => (await fetch(`${uiUrl}/app/kill/?id=app-none&terminate=true`, { method: 'POST', redirect: 'manual' })).status
    expect(await kill()).toBe(405)
    const image = await imageOf('spark-master')
    const before = (await volumeConf(image))!
    const result = await up('--workers', '1', '--ui-kill')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/secret volume spark-auth updated \(settings changed, the secret kept\)/)
    const after = (await volumeConf(image))!
    expect(after).toMatch(/^spark\.ui\.killEnabled true$/m)
    expect(secretOf(after)).toBe(secretOf(before))
    expect(connectTokenOf(after)).toBe(connectTokenOf(before))
    expect(await kill()).not.toBe(405)
    const back = await up('--workers', '1')
    expect(back.exitCode, back.stderr).toBe(0)
    expect(await kill()).toBe(405)
  })

  it('a worker the engine has no room for is refused with the numbers before any container changes; a size Spark cannot count is bad input', async () => {
    const before = await confDigests()
    const huge = await up('--workers', '64', '--worker-cores', '2', '--worker-memory', '64g')
    expect(huge.exitCode).toBe(1)
    expect(huge.stderr).toMatch(/the Docker engine has no room for this cluster: it requests [\d.]+ CPUs \/ \d+ MiB \(master [^)]*64 workers × 1\/\d+/)
    expect(huge.stderr).toMatch(/[\d.]+ CPUs \/ \d+ MiB is in all/)
    const cores = await up('--workers', '1', '--worker-cores', '64')
    expect(cores.exitCode).toBe(1)
    expect(cores.stderr).toMatch(/--worker-cores 64 is more than the Docker engine's \d+ CPUs/)
    expect(await confDigests()).toEqual(before)
    const wrapped = await up('--worker-memory', '100000t')
    expect(wrapped.exitCode).toBe(2)
    expect(wrapped.stderr).toMatch(/--worker-memory must be a Spark memory size from 512m to 2047t/)
  })

  it.skipIf(spark35)('connect reads the token through the engine (no container prints it) and refuses while another process holds [::1] at its port', async () => {
    const started = Math.floor(Date.now() / 1000)
    const first = await cli(ground.env, 'connect', ...docker, '--json')
    expect(first.exitCode, first.stderr).toBe(0)
    const events = await $`docker events --since ${started} --until ${Math.floor(Date.now() / 1000) + 1} --filter event=start --format {{.Actor.Attributes.name}}`.quiet()
    // Only the server itself started: the token was read by the engine from a container that never ran.
    expect(events.stdout.trim().split('\n').filter(Boolean)).toEqual(['spark-connect'])
    const squatter = createServer()
    await new Promise<void>((resolve) => squatter.listen(15002, '::1', resolve))
    try {
      const refused = await cli(ground.env, 'connect', ...docker)
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toMatch(/another process listens on \[::1\]:15002/)
      expect(refused.stdout).not.toMatch(/token=/)
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()))
    }
    expect((await cli(ground.env, 'down', ...docker, '--role', 'connect')).exitCode).toBe(0)
  })

  it('a network named spark that is not ours is refused, and nothing is made', async () => {
    expect((await down()).exitCode).toBe(0)
    await $`docker network create spark`.quiet()
    try {
      const result = await up('--workers', '1')
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toMatch(/a Docker network spark exists without our labels: refusing to use it/)
      expect(await labelled('container', 'app=spark')).toEqual([])
      expect(await labelled('volume', 'app=spark')).toEqual([])
    } finally {
      await $`docker network rm spark`.quiet()
    }
  })

  it('two cluster:ups at once from nothing: one waits for the other, leaving one network and one secret, which every container runs with', async () => {
    const [a, b] = await Promise.all([up('--workers', '1'), up('--workers', '1')])
    // One waits for the other (without the lock both made a network spark, and neither could use it).
    expect([a.exitCode, b.exitCode], `${a.stderr}\n${b.stderr}`).toEqual([0, 0])
    expect([a.stderr, b.stderr].filter((stderr) => /waiting for another command \(pid \d+\) changing the cluster on the Docker engine at /.test(stderr))).toHaveLength(1)
    expect((await $`docker network ls --filter name=^spark$ --quiet`.quiet()).stdout.trim().split('\n')).toHaveLength(1)
    const conf = (await volumeConf(await imageOf('spark-master')))!
    expect(authConfProblem(conf)).toBeUndefined()
    for (const digest of Object.values(await confDigests())) expect(digest).toBe(authConfDigest(conf))
    const again = await up('--workers', '1')
    expect(again.stderr).toMatch(/already as declared/)
  })

  it('submit refuses a file named like ..x.py with exit 2, before touching the cluster', async () => {
    const result = await cli(ground.env, 'submit', ...docker, '..x.py')
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/may not start with '\.\.'/)
  })
})
