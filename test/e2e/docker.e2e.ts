// The whole user flow on a real Docker engine with real Spark: up, idempotent up, pi, a failing
// pi, scale, a crashed worker, bad input, down. Runs in file order; each step builds on the last.
import { $ } from 'zx'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { aliveWorkers, fetchMasterState, type MasterState, type WorkerState } from '../../scripts/lib/spark-ui.ts'
import { secretOf } from '../../scripts/lib/cluster-secret.ts'
import { engineCall, engineEndpoint, engineExpect, labelQuery, type EngineEndpoint } from '../../scripts/lib/docker/engine.ts'
import { pollUntil } from '../../scripts/lib/poll.ts'
import { cli, cliWithInput, labelled, startCli } from './cli.ts'
import { expectOtherPythonRefused, expectRefused, expectUdfsThroughConnect, piThroughConnect } from './connect-client.ts'
import { durableArgs, expectDecommissioned, expectDurableInStatus, expectDurableResult, expectStressed, stressArgs, waitForOutput } from './durability.ts'
import { expectDriverLogRolled, expectExecutorLogs, expectFailure, expectUserCode, expectWordcount, failedAppOf, failingArgs, loggingArgs, userCodeArgs, userPackages, wordcountArgs } from './submit-apps.ts'
import { hostPythonVersion } from '../../scripts/lib/host-python.ts'
import { listNotebooks, notebookOf, parseLabUrl, saveNotebook } from './jupyter.ts'
import { expectJobMetrics, scrapePaths } from './metrics.ts'
import { startPrometheus } from './prometheus.ts'

const ground = inject('ground')
const spark35 = /^3\./.test(process.env.SPARK_K8S_SPARK_VERSION ?? '')
const uiUrl = 'http://127.0.0.1:30001'
const docker = ['--platform', 'docker']
// Every cluster:up of this suite adds a pip package and a JDBC driver to the image, as --pip and --packages would.
const up = (...args: string[]) => cli({ ...ground.env, ...userPackages }, 'up', ...docker, '--json', ...args)

/** Each of our containers' restarts so far and whether the kernel OOM-killed it (the killed master and worker above restarted once). */
async function containerStates(): Promise<Record<string, { oomKilled: boolean; restarts: number }>> {
  const states = await $`docker inspect --format ${'{{.Name}} {{.State.OOMKilled}} {{.RestartCount}}'} ${await labelled('container', 'app=spark')}`.quiet()
  const lines = states.stdout.trim().split('\n').map((line) => line.split(' '))
  return Object.fromEntries(lines.map(([name, oomKilled, restarts]) => [name.slice(1), { oomKilled: oomKilled === 'true', restarts: Number(restarts) }]))
}

async function containerIds(): Promise<Record<string, string>> {
  const listing = await $`docker ps --all --filter label=app=spark --format ${'{{.Names}} {{.ID}}'}`.quiet()
  return Object.fromEntries(listing.stdout.split('\n').filter(Boolean).map((line) => line.split(' ')))
}

function expectWorkers(state: MasterState, count: number) {
  expect(state.status).toBe('ALIVE')
  const alive = aliveWorkers(state)
  expect(alive).toHaveLength(count)
  for (const worker of alive) {
    expect(worker.cores).toBe(1)
    expect(worker.memory).toBe(1024)
  }
}

describe.skipIf(ground.skipReason)('Spark standalone on a local Docker engine (real CLI, real Spark)', () => {
  let failedAppId: string | undefined
  beforeAll(async () => {
    // Start from nothing, whatever an earlier run left.
    expect((await cli(ground.env, 'down', ...docker)).exitCode).toBe(0)
  })

  afterAll(async () => {
    await cli(ground.env, 'down', ...docker)
  })

  it('rejects bad flags with exit 2, one line naming the flag, and creates nothing', async () => {
    for (const args of [['--workers', '0'], ['--worker-memory', 'lots'], ['--spark-version', '4'], ['--bogus']]) {
      const result = await cli(ground.env, 'up', ...docker, ...args)
      expect(result.exitCode, args.join(' ')).toBe(2)
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('error:'))
      expect(lines, result.stderr).toHaveLength(1)
      expect(lines[0]).toContain(args[0])
    }
    const pi = await cli(ground.env, 'pi', ...docker, '--partitions', '0')
    expect(pi.exitCode).toBe(2)
    expect(pi.stderr).toMatch(/--partitions must be a whole number/)
    expect(await labelled('container', 'app=spark')).toEqual([])
    expect(await labelled('network', 'app=spark')).toEqual([])
  })

  it('cluster:up --workers 2 brings up a master that reports 2 ALIVE workers with the configured cores and memory', async () => {
    const result = await up('--workers', '2')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json).toMatchObject({ ok: true, platform: 'docker', uiUrl, aliveWorkers: 2 })
    expectWorkers(await fetchMasterState(uiUrl), 2)
    // Published on loopback only: an unauthenticated master must not face the network.
    const ports = await $`docker port spark-master`.quiet()
    expect(ports.stdout).toMatch(/8080\/tcp -> 127\.0\.0\.1:30001/)
    expect(ports.stdout).toMatch(/7077\/tcp -> 127\.0\.0\.1:30000/)
    expect(ports.stdout).not.toMatch(/0\.0\.0\.0/)
    // The REST submission server (6066, unauthenticated, on by default since Spark 4.1) stays off.
    const rest = await $`docker exec spark-master bash -c ${'exec 3<>/dev/tcp/127.0.0.1/6066'}`.quiet().nothrow()
    expect(rest.exitCode).not.toBe(0)
    expect(rest.stderr).toMatch(/Connection refused/)
  })

  it('a second cluster:up skips every step with its reason and restarts nothing', async () => {
    const before = await containerIds()
    const result = await up('--workers', '2')
    expect(result.exitCode, result.stderr).toBe(0)
    for (const step of ['Build the Spark image', 'Publish the image to the cluster', 'Apply manifests/']) {
      expect(result.stderr).toMatch(new RegExp(`\\[SKIPPED\\].*${step.replace(/[/.]/g, '.')}.*\\[SKIPPED: .+\\]`))
    }
    expect(await containerIds()).toEqual(before)
    expectWorkers(await fetchMasterState(uiUrl), 2)
  })

  it("a re-tag of the image's name after cluster:up reaches no container: a new worker and a driver run the ID cluster:up pinned", async () => {
    const result = await up('--workers', '2')
    expect(result.exitCode, result.stderr).toBe(0)
    const name = result.json!.image.split('@')[0] as string
    const imageOf = async (container: string) => (await $`docker inspect --format {{.Image}} ${container}`.quiet()).stdout.trim()
    const id = await imageOf('spark-master')
    // Someone (or another checkout's build) moves the name to another image.
    await $`docker tag ${ground.env.SPARK_K8S_BASE_IMAGE} ${name}`.quiet()
    try {
      const scaled = await cli(ground.env, 'scale', '3', ...docker, '--json', '--timeout', '120')
      expect(scaled.exitCode, scaled.stderr).toBe(0)
      expect(await imageOf('spark-worker-3')).toBe(id)
      const pi = await cli(ground.env, 'pi', ...docker, '--json')
      expect(pi.exitCode, pi.stderr).toBe(0)
      expect(Math.abs(pi.json!.pi - Math.PI)).toBeLessThan(0.01)
    } finally {
      await $`docker tag ${id} ${name}`.quiet()
    }
    expect((await cli(ground.env, 'scale', '2', ...docker)).exitCode).toBe(0)
    // What cluster:up reports is that pin: the name for people, the ID for the engine.
    expect(result.json!.image).toBe(`${name}@${id}`)
  })

  it('RPC is authenticated and encrypted: the secret stays put, is seen nowhere, and a driver without it is refused', async () => {
    const image = (await $`docker inspect --format {{.Config.Image}} spark-master`.quiet()).stdout.trim()
    const readSecret = async () => secretOf((await $`docker run --rm --user 185:0 --volume spark-auth:/auth:ro --entrypoint cat ${image} /auth/spark-defaults.conf`.quiet()).stdout)
    const secret = await readSecret()
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    const again = await up('--workers', '2')
    expect(again.exitCode, again.stderr).toBe(0)
    expect(await readSecret()).toBe(secret)
    const names = await labelled('container', 'app=spark')
    const seen = [again.stdout, again.stderr, (await $`docker inspect ${names}`.quiet()).stdout]
    for (const name of names) seen.push((await $`docker logs ${name}`.quiet()).stdout, (await $`docker logs ${name}`.quiet()).stderr)
    for (const text of seen) expect(text.includes(secret!)).toBe(false)
    // A driver on the cluster's own network, without the secret: the master refuses it.
    const submit = `exec /opt/spark/bin/spark-submit --master spark://spark-master-service:7077 --conf spark.driver.host=$(hostname -i) /opt/spark/apps/pi.py`
    await $`docker run --detach --name intruder --network spark --entrypoint bash ${image} -c ${submit}`.quiet()
    try {
      const refused = await pollUntil<string>('the intruding driver to be refused', 90_000, async () => {
        const log = await $`docker logs intruder`.quiet().nothrow()
        const line = `${log.stdout}${log.stderr}`.split('\n').find((l) => /Failed to connect to master spark-master-service:7077/.test(l))
        return line ? { done: `${log.stdout}${log.stderr}` } : { waiting: 'no refusal yet' }
      })
      expect(refused).toMatch(/Unknown challenge message/)
      expect(refused).not.toMatch(/PI_RESULT|Registered app|Connected to Spark cluster with app ID/)
    } finally {
      await $`docker rm --force intruder`.quiet()
    }
  })

  it('npm run ui gives the loopback URL Docker publishes: /json/ answers and a worker page loads through the reverse proxy', async () => {
    const result = await cli(ground.env, 'ui', ...docker, '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json).toMatchObject({ ok: true, command: 'ui', url: uiUrl, via: expect.stringMatching(/published on loopback by Docker/) })
    const worker = aliveWorkers(await fetchMasterState(result.json!.url))[0]
    const page = await fetch(`${result.json!.url}/proxy/${worker.id}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain(`Spark Worker at ${worker.host}`)
  })

  it.skipIf(inject('prometheus').skipReason)("metrics: a real Prometheus scrapes the master on 127.0.0.1, and each worker and a job's driver through its /proxy/ or found by Docker discovery; nothing else is published", async () => {
    const app = startCli(ground.env, 'submit', ...docker, ...durableArgs(8))
    try {
      await waitForOutput(app, /Starting task 0\.0 in stage 0/, 180_000)
      const state = await fetchMasterState(uiUrl)
      const workers = aliveWorkers(state).map((worker) => worker.id)
      const [{ id: appId, name: appName }] = state.activeapps
      // The master's loopback port is the one way in: workers and drivers through its reverse proxy.
      const master = new URL(uiUrl).host
      // One target per path, each its own instance (they share one address).
      const at = (path: string) => ({ targets: [master], labels: { __metrics_path__: path, instance: path } })
      const prometheus = await startPrometheus([
        {
          job_name: 'spark',
          static_configs: [
            ...scrapePaths.master.map(at),
            ...workers.flatMap((id) => scrapePaths.worker.map((path) => at(`/proxy/${id}${path}`))),
            ...scrapePaths.driver.map((path) => at(`/proxy/${appId}${path}`)),
          ],
        },
      ])
      try {
        await prometheus.allUp(60_000, scrapePaths.master.length + workers.length + scrapePaths.driver.length)
        await expectJobMetrics(prometheus, { workers: workers.length, appId, appName })
      } finally {
        await prometheus.stop()
      }
      // Or found by Prometheus's Docker discovery: the containers carry the pod templates'
      // prometheus.io annotations as labels, and this host reaches their addresses on the network.
      const discovered = await startPrometheus([
        {
          job_name: 'spark-containers',
          docker_sd_configs: [{ host: engineEndpoint().host, filters: [{ name: 'label', values: ['app.kubernetes.io/managed-by=spark-standalone-k8s'] }] }],
          relabel_configs: [
            { source_labels: ['__meta_docker_container_label_prometheus_io_scrape'], regex: 'true', action: 'keep' },
            { source_labels: ['__meta_docker_network_ip', '__meta_docker_container_label_prometheus_io_port'], regex: '(.+);(.+)', replacement: '$1:$2', target_label: '__address__' },
            { source_labels: ['__meta_docker_container_label_prometheus_io_path'], target_label: '__metrics_path__' },
            { source_labels: ['__meta_docker_container_name'], target_label: 'container' },
          ],
        },
      ])
      try {
        const found = await discovered.allUp(60_000, 1 + workers.length + 1)
        expect(new Set(found.map((target) => new URL(target.scrapeUrl).pathname))).toEqual(new Set([scrapePaths.master[0], scrapePaths.worker[0], scrapePaths.driver[0]]))
        expect(await discovered.query('metrics_master_aliveWorkers_Value')).toEqual([expect.objectContaining({ value: workers.length })])
        expect(await discovered.query('metrics_worker_executors_Value')).toHaveLength(workers.length)
      } finally {
        await discovered.stop()
      }
      // No wider than the UIs: only the master publishes a port, on loopback.
      const published = await $`docker ps --filter label=app=spark --format ${'{{.Names}} {{.Ports}}'}`.quiet()
      const withPorts = published.stdout.trim().split('\n').map((line) => line.split(' ')).filter(([, ...ports]) => ports.join('').includes('->'))
      expect(withPorts.map(([name]) => name)).toEqual(['spark-master'])
      for (const mapping of withPorts[0].slice(1).join(' ').split(', ')) expect(mapping).toMatch(/^127\.0\.0\.1:\d+->\d+\/tcp$/)
    } finally {
      await app.stop()
    }
  })

  it('pi estimates π within 0.01 inside the cluster and leaves no driver behind', async () => {
    const result = await cli(ground.env, 'pi', ...docker, '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(Math.abs(result.json!.pi - Math.PI)).toBeLessThan(0.01)
    expect(result.json!.piSamples).toBe(4_000_000)
    expect(await labelled('container', 'role=driver')).toEqual([])
  })

  it('a Pi job that fails exits non-zero, prints the driver log and leaves no driver behind', async () => {
    // 1000 partitions cannot finish in the 10 s allowed: the driver is stopped mid-job.
    const result = await cli(ground.env, 'pi', ...docker, '--partitions', '1000', '--timeout', '10')
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(/Pi job spark-pi-\w+ failed/)
    expect(result.stderr).toMatch(/driver log \(last lines\):/)
    expect(result.stderr).toMatch(/SparkContext|spark-submit|INFO/)
    expect(await labelled('container', 'role=driver')).toEqual([])
  })

  it('a CI cancel (SIGTERM) during pi removes the driver and exits 143', async () => {
    const pi = startCli(ground.env, 'pi', ...docker, '--partitions', '200')
    try {
      await pollUntil('a running driver container', 60_000, async () => ((await labelled('container', 'role=driver')).length > 0 ? { done: true } : { waiting: 'no driver yet' }))
    } finally {
      expect(await pi.stop('SIGTERM'), pi.output().stderr).toBe(143)
    }
    expect(pi.output().stderr).toMatch(/stopped by SIGTERM: cleaning up/)
    expect(await labelled('container', 'role=driver')).toEqual([])
  })

  it('scale 3 then 1: the master reports exactly that many ALIVE workers', async () => {
    for (const count of [3, 1]) {
      const result = await cli(ground.env, 'scale', String(count), ...docker, '--json')
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.json).toMatchObject({ ok: true, aliveWorkers: count })
      expectWorkers(await fetchMasterState(uiUrl), count)
      expect((await labelled('container', 'role=worker')).length).toBe(count)
    }
  })

  it('a worker whose process is killed comes back and re-registers within 60 s', async () => {
    const [before] = aliveWorkers(await fetchMasterState(uiUrl))
    // A crash, not `docker stop`: Docker's restart policy (like a Deployment) brings it back.
    await $`docker exec spark-worker-1 pkill -KILL -f org.apache.spark.deploy.worker.Worker`.quiet()
    const after = await pollUntil<WorkerState>('a re-registered worker', 60_000, async () => {
      const alive = aliveWorkers(await fetchMasterState(uiUrl).catch(() => ({ workers: [] }) as unknown as MasterState))
      const fresh = alive.filter((worker) => worker.id !== before.id)
      return fresh.length === 1 && alive.length === 1 ? { done: fresh[0] } : { waiting: `${alive.length} alive` }
    })
    expect(after.cores).toBe(1)
    const restarts = await $`docker inspect --format {{.RestartCount}} spark-worker-1`.quiet()
    expect(Number(restarts.stdout.trim())).toBeGreaterThanOrEqual(1)
  })

  it('after down --role master, cluster:up brings a new master that the running workers rejoin', async () => {
    const workersBefore = await containerIds()
    const down = await cli(ground.env, 'down', ...docker, '--role', 'master')
    expect(down.exitCode, down.stderr).toBe(0)
    expect(await labelled('container', 'role=master')).toEqual([])
    // Workers reconnect through the master's service name, not its old address: well within 120 s.
    const result = await up('--workers', '1', '--timeout', '120')
    expect(result.exitCode, result.stderr).toBe(0)
    expectWorkers(await fetchMasterState(uiUrl), 1)
    const after = await containerIds()
    expect(after['spark-worker-1']).toBe(workersBefore['spark-worker-1'])
  })

  describe('durable under faults', () => {
    const submit = (...args: string[]) => startCli(ground.env, 'submit', ...docker, ...args)
    const scaleTo = async (count: number) => expect((await cli(ground.env, 'scale', String(count), ...docker)).exitCode).toBe(0)

    it('master recovery: the master JVM killed mid-job comes back with the same workers and the application, which finishes with the right result', async () => {
      await scaleTo(2)
      const workers = aliveWorkers(await fetchMasterState(uiUrl)).map((worker) => worker.id).sort()
      // 8 × 4 s on two workers: ≥ 32 s, and Docker's restart policy brings the master back within ~5 s.
      const app = submit(...durableArgs(8))
      await waitForOutput(app, /Starting task 2\.0 in stage 0/, 180_000)
      const [appId] = (await fetchMasterState(uiUrl)).activeapps.map((a) => a.id)
      expect(appId).toMatch(/^app-/)
      // A crash of the JVM, not `docker stop`: Docker's restart policy brings the master back.
      await $`docker exec spark-master pkill -KILL -f org.apache.spark.deploy.master.Master`.quiet()
      const recovered = await pollUntil<MasterState>('the recovered master', 120_000, async () => {
        const state = (await fetchMasterState(uiUrl).catch(() => undefined))
        if (state?.status !== 'ALIVE') return { waiting: `master ${state?.status ?? 'not answering'}` }
        return { done: state }
      })
      expect(aliveWorkers(recovered).map((worker) => worker.id).sort()).toEqual(workers)
      expect(recovered.activeapps.map((a) => a.id)).toContain(appId)
      expectDurableResult(await app.exit, app.output(), 8)
      expect(app.output().stderr).toMatch(/Master has changed, new master is at/)
      const log = await $`docker logs spark-master`.quiet()
      expect(`${log.stdout}${log.stderr}`).toMatch(/Recovery complete in \d+ ms/)
    })

    it('memory that adds up: executor heaps ≥ 80% full under Python UDFs, and no container is OOM-killed or restarted', async () => {
      await scaleTo(2)
      const before = await containerStates()
      const result = await cli(ground.env, 'submit', ...docker, ...stressArgs)
      expect(result.exitCode, result.stderr.slice(-3000)).toBe(0)
      expectStressed(result.stdout, result.stderr)
      for (const [name, state] of Object.entries(await containerStates())) {
        expect(state.oomKilled, name).toBe(false)
        expect(state.restarts, name).toBe(before[name]?.restarts ?? 0)
      }
    })

    it('scale 3 → 1 in the middle of a job that shuffles: the job finishes with the right result, its executors decommissioned, none lost', async () => {
      await scaleTo(3)
      // 6 × 4 s: at least 8 s of each stage on three executors, so the scale-down lands mid-job; less is left for the one after.
      const app = submit(...durableArgs(6))
      await waitForOutput(app, /Starting task 2\.0 in stage 0/, 180_000)
      expectDurableInStatus((await cli(ground.env, 'status', ...docker, '--json')).json)
      const scaled = await cli(ground.env, 'scale', '1', ...docker, '--json')
      expect(scaled.exitCode, scaled.stderr).toBe(0)
      expect(scaled.json).toMatchObject({ ok: true, aliveWorkers: 1 })
      expectDurableResult(await app.exit, app.output(), 6)
      expectDecommissioned(app.output())
    })
  })

  it.skipIf(spark35)("connect from a machine whose python3 is another minor version (3.12, 3.13 against this cluster's 3.11) is refused in one line, and starts nothing", async () => {
    const cluster = hostPythonVersion()!
    for (const minor of ['3.12', '3.13'].filter((m) => m !== cluster)) await expectOtherPythonRefused(ground.env, docker, minor, cluster)
    expect(await labelled('container', 'role=connect')).toEqual([])
  })

  it('connect runs a Spark Connect server that the classic test.py drives from this machine; wrong or missing tokens are refused (on Spark 3.5, refused itself)', async () => {
    // SPARK_K8S_SPARK_VERSION=3.5.x runs the suite on Spark 3.5, whose Connect server cannot require a token.
    if (spark35) {
      const refused = await cli(ground.env, 'connect', ...docker)
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toMatch(/^error: this cluster runs Spark 3\.5\.\d+, whose Spark Connect server cannot require a token$/m)
      expect(await labelled('container', 'role=connect')).toEqual([])
      return
    }
    const result = await cli(ground.env, 'connect', ...docker, '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    const info = result.json!
    expect(info).toMatchObject({ ok: true, command: 'connect', url: 'sc://localhost:15002', sparkVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/) })
    expect(info.connectionString).toMatch(/^sc:\/\/localhost:15002\/;token=[0-9a-f]{64}$/)
    expect(info.snippet.join('\n')).toContain(info.connectionString)
    expect(Math.abs((await piThroughConnect(info.sparkVersion, info.connectionString)) - Math.PI)).toBeLessThan(0.01)
    // Real user code from this machine's Python, which the image was built for.
    expect(info.python).toBe(hostPythonVersion())
    await expectUdfsThroughConnect(info.sparkVersion, info.connectionString)
    await expectRefused(info.sparkVersion, 'sc://localhost:15002/;token=wrong')
    await expectRefused(info.sparkVersion, 'sc://localhost:15002')
    // Published on loopback only; the token is on no command line, env or log.
    expect((await $`docker port spark-connect`.quiet()).stdout).toMatch(/^15002\/tcp -> 127\.0\.0\.1:15002$/m)
    const token = info.connectionString.split('token=')[1]
    const logs = await $`docker logs spark-connect`.quiet()
    const seen = { inspect: (await $`docker inspect spark-connect`.quiet()).stdout, stdout: logs.stdout, stderr: logs.stderr }
    for (const [where, text] of Object.entries(seen)) {
      const at = text.indexOf(token)
      // Where it leaked, with the token masked, so a failure says what to fix.
      expect(at, `${where}: …${text.slice(Math.max(0, at - 300), at + 80).replaceAll(token, '<TOKEN>')}…`).toBe(-1)
    }
    // A second run keeps the server (and its sessions) as it is.
    const again = await cli(ground.env, 'connect', ...docker)
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stderr).toMatch(/SKIPPED: container spark-connect already runs/)
    expect(again.stdout).toContain(info.connectionString)
    expect(again.stdout).toContain(`pip install "${info.clientPackage}"`)
  })

  it('submit runs your PySpark file in the cluster: verbatim arguments, --py-files, --files, a groupBy, live output, its exit code, nothing left; pandas, a --pip package and a --packages JDBC driver are there', async () => {
    const result = await cli(ground.env, 'submit', ...docker, ...wordcountArgs)
    expectWordcount(result)
    expect(await labelled('container', 'role=driver')).toEqual([])
    expect(await labelled('volume', 'role=driver')).toEqual([])
    const failed = await cli(ground.env, 'submit', ...docker, ...failingArgs)
    expectFailure(failed)
    failedAppId = failedAppOf(failed)
    expect(await labelled('container', 'role=driver')).toEqual([])
    expectUserCode(await cli(ground.env, 'submit', ...docker, ...userCodeArgs))
    const missing = await cli(ground.env, 'submit', ...docker, 'no-such-app.py')
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toMatch(/^error: the app: cannot read no-such-app\.py/m)
  })

  it("the failed submit's logs outlive its driver and workers: after the worker is replaced, logs prints its executor's traceback and its driver's log, and the kept files hold no secret", async () => {
    const appId = failedAppId!
    // A crash that takes the worker container (and its scratch space) with it, then a new one.
    const before = await containerIds()
    await $`docker rm --force spark-worker-1`.quiet()
    expect((await up('--workers', '1', '--timeout', '120')).exitCode).toBe(0)
    expect((await containerIds())['spark-worker-1']).not.toBe(before['spark-worker-1'])
    await expectExecutorLogs((...args) => cli(ground.env, 'logs', ...docker, ...args), appId)
    // No file kept holds the cluster's secret (grep exits 1: no match).
    const image = (await $`docker inspect --format {{.Config.Image}} spark-master`.quiet()).stdout.trim()
    const secret = secretOf((await $`docker run --rm --user 185:0 --volume spark-auth:/auth:ro --entrypoint cat ${image} /auth/spark-defaults.conf`.quiet()).stdout)
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    const grep = await $({ input: `${secret}\n`, nothrow: true })`docker run --rm --interactive --user 185:0 --volume spark-events:/events:ro --entrypoint grep ${image} -rlF -f - /events/logs`.quiet()
    expect([grep.exitCode, grep.stdout]).toEqual([1, ''])
  })

  it("a driver's kept log rolls at its bound: 4 old files and the current one, each within it, found by the application's id", async () => {
    const result = await cli(ground.env, 'submit', ...docker, ...loggingArgs)
    expect(result.exitCode, result.stderr.slice(-3000)).toBe(0)
    const appId = /^APP_ID (app-\S+)$/m.exec(result.stdout)![1]
    const image = (await $`docker inspect --format {{.Config.Image}} spark-master`.quiet()).stdout.trim()
    const list = async () => {
      const script = 'cd /events/logs && for dir in driver-*/; do grep -qxF "$1" "${dir}application" && stat -c "%s %n" "$dir"driver.log*; done'
      const listed = await $`docker run --rm --user 185:0 --volume spark-events:/events:ro --entrypoint bash ${image} -c ${script} list ${appId}`.quiet()
      console.log(`the driver log of ${appId}, ${loggingArgs.join(' ')}:\n${listed.stdout}`)
      return listed.stdout
    }
    await expectDriverLogRolled(list, (...args) => cli(ground.env, 'logs', ...docker, ...args), appId)
  })

  it('shell is a pyspark REPL whose driver runs in the cluster: piped input is evaluated, the container is removed', async () => {
    const result = await cliWithInput(ground.env, 'spark.range(10).count()\n', 'shell', ...docker)
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^(>>> )*10$/m)
    expect(await labelled('container', 'role=driver')).toEqual([])
  })

  it("a --pip or --packages that does not exist fails the build with pip's or Ivy's own reason in one line, and changes no container", async () => {
    const before = await containerIds()
    const cases: Array<[string, string, RegExp]> = [
      ['--pip', 'nosuchpkg-zzq==1.0', /: pip could not install your requirements: No matching distribution found for nosuchpkg-zzq==1\.0$/],
      ['--packages', 'com.nosuch.zzq:nothing:1.0', /: Ivy could not resolve com\.nosuch\.zzq:nothing:1\.0: unresolved dependency: com\.nosuch\.zzq#nothing;1\.0: not found$/],
    ]
    for (const [flag, value, reason] of cases) {
      const result = await cli(ground.env, 'up', ...docker, '--workers', '1', flag, value)
      expect(result.exitCode, result.stderr).toBe(1)
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'))
      expect(errors, result.stderr).toHaveLength(1)
      expect(errors[0]).toMatch(/^error: docker build of spark-standalone:\S+ failed \(exit 1\): add-packages: error: /)
      expect(errors[0]).toMatch(reason)
    }
    expect(await containerIds()).toEqual(before)
  })

  it('status lists the containers, the registered workers and the UI URL', async () => {
    const result = await cli(ground.env, 'status', ...docker, '--json')
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.json).toMatchObject({ platform: 'docker', ui: { url: uiUrl } })
    expect(result.json!.members.map((m: { name: string }) => m.name).sort()).toEqual([...(spark35 ? [] : ['spark-connect']), 'spark-master', 'spark-worker-1'])
    expect(result.json!.master.aliveworkers).toBe(1)
    expect(result.json!.workers).toEqual([expect.objectContaining({ state: 'ALIVE', cores: 1, memoryMiB: 1024 })])
    if (spark35) return
    // The Connect server's driver, its application found by its address; dynamic allocation's executors read from its metrics.
    const connect = result.json!.drivers.find((d: { role: string }) => d.role === 'connect')
    expect(connect.applications).toHaveLength(1)
    const app = result.json!.applications.find((a: { id: string }) => a.id === connect.applications[0])
    expect(app).toMatchObject({ name: 'spark-connect', executors: { current: expect.any(Number), target: expect.any(Number) }, coresWanted: expect.any(Number) })
  })

  it('status says why an application waits: it asks for more memory per executor than any worker has', async () => {
    const app = startCli(ground.env, 'submit', ...docker, '--conf', 'spark.executor.memory=2g', ...durableArgs(1))
    try {
      // Its driver says what it wants once its application has started, a moment after the master knows it.
      const { json, shown } = await pollUntil<{ json: Record<string, any>; shown: Record<string, any> }>('the waiting application in status', 120_000, async () => {
        const result = await cli(ground.env, 'status', ...docker, '--json')
        expect(result.exitCode, result.stderr).toBe(0)
        const found = result.json!.applications.find((a: { name: string }) => a.name === 'durable')
        // Under dynamic allocation it asks for its executor once its job has a pending task, a second after it starts.
        if (found && !found.driverError && found.coresWanted > 0) return { done: { json: result.json!, shown: found } }
        return { waiting: !found ? 'not registered yet' : (found.driverError ?? found.waiting) }
      })
      expect(shown).toMatchObject({ state: 'WAITING', coresGranted: 0, memoryPerExecutorMiB: 2048, coresPerExecutor: 1, coresWanted: 1, executors: { current: 0, target: 1 } })
      expect(shown.waiting).toMatch(/^wants 1 core × 2048 MiB per executor; no worker has them \(most free on a worker: [01] cores?, \d+ MiB\)$/)
      const driver = json.drivers.find((d: { applications: string[] }) => d.applications.includes(shown.id))
      expect(driver).toMatchObject({ role: 'driver', name: expect.stringMatching(/^spark-submit-/) })
      const text = await cli(ground.env, 'status', ...docker)
      expect(text.stdout).toContain(`  ${shown.id} durable WAITING by `)
      expect(text.stdout).toContain(`    waiting: ${shown.waiting}`)
    } finally {
      await app.stop()
    }
    expect(await labelled('container', 'role=driver')).toEqual([])
  })

  it('the engine answers the same through docker system dial-stdio (how a tcp or ssh DOCKER_HOST is reached) as on its socket', async () => {
    const socket = engineEndpoint()
    expect('socketPath' in socket).toBe(true)
    const viaCli = { host: socket.host, dialStdio: true as const }
    const names = async (endpoint: EngineEndpoint) => ((await engineExpect<{ Names: string[] }[]>(endpoint, 'GET', `/containers/json?${labelQuery({ app: 'spark' })}`)) ?? []).map((c) => c.Names[0]).sort()
    expect(await names(socket)).toContain('/spark-master')
    expect(await names(viaCli)).toEqual(await names(socket))
    expect((await engineCall(viaCli, 'GET', '/_ping')).body).toBe('OK')
  })

  it('notebook without a data folder keeps your notebooks in the volume spark-notebooks: down --role notebook and cluster:down keep and name it, and after cluster:up a new notebook server shows the same notebook', async () => {
    const notebook = async () => {
      const started = await cli(ground.env, 'notebook', ...docker, '--json')
      expect(started.exitCode, started.stderr.slice(-3000)).toBe(0)
      return parseLabUrl(started.json!.url)
    }
    const first = await notebook()
    await saveNotebook(first.baseUrl, first.token, 'kept.ipynb', notebookOf(['spark.range(3).count()']))
    const role = await cli(ground.env, 'down', ...docker, '--role', 'notebook')
    expect(role.exitCode, role.stderr).toBe(0)
    expect(role.stderr).toContain('your notebooks stay in volume spark-notebooks')
    expect(await containerIds()).not.toHaveProperty('spark-notebook')
    const down = await cli(ground.env, 'down', ...docker)
    expect(down.exitCode, down.stderr).toBe(0)
    expect(down.stderr).toContain('your notebooks stay in volume spark-notebooks')
    expect(await labelled('volume', 'app=spark')).toEqual(['spark-notebooks'])
    expect((await up('--workers', '1')).exitCode).toBe(0)
    const second = await notebook()
    // A new cluster, a new secret and token; the same notebooks.
    expect(second.token).not.toBe(first.token)
    expect(await listNotebooks(second.baseUrl, second.token)).toContain('kept.ipynb')
  })

  it('cluster:down leaves nothing of ours, and an unrelated app=spark container and volume survive it', async () => {
    await $`docker volume create --label app=spark someone-elses-spark-data`.quiet()
    await $`docker run --detach --label app=spark --name someone-elses-spark ${ground.env.SPARK_K8S_BASE_IMAGE ?? 'debian:bookworm-slim'} sleep 600`.quiet()
    try {
      const result = await cli(ground.env, 'down', ...docker, '--json', '--delete-notebooks')
      expect(result.exitCode, result.stderr).toBe(0)
      expect(await labelled('container', 'app=spark')).toEqual(['someone-elses-spark'])
      expect(await labelled('volume', 'app=spark')).toEqual(['someone-elses-spark-data'])
    } finally {
      await $`docker rm --force someone-elses-spark`.quiet()
      await $`docker volume rm someone-elses-spark-data`.quiet()
    }
    for (const kind of ['container', 'network', 'volume'] as const) expect(await labelled(kind, 'app=spark')).toEqual([])
    const again = await cli(ground.env, 'down', ...docker)
    expect(again.exitCode).toBe(0)
    expect(again.stderr).toMatch(/SKIPPED: nothing labelled app=spark/)
  })
})
