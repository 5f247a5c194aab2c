// npm run notebook: JupyterLab's image built on the cluster's only when missing, never started without
// its token, its notebooks kept (the data's notebooks/, else a volume or claim of its own), and the URL
// it prints.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { authConfAnnotation, sparkAuthConf } from '../../scripts/lib/cluster-secret.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { loadManifests, mainContainer, podTemplate } from '../../scripts/lib/manifests.ts'
import type { ClusterStorage } from '../../scripts/lib/storage.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { formatStatus } from '../../scripts/status.ts'
import { secretConfAnswer, useFakeEngine } from './fake-engine.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
// Whether this machine's port 8888 is free is not what these tests are about (test/unit/loopback.test.ts is).
vi.mock('../../scripts/lib/loopback.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/lib/loopback.ts')>()),
  requireFreeLoopback: vi.fn(async () => {}),
  requireFreeIpv6Loopback: vi.fn(async () => {}),
}))
const { applyNotebook, formatNotebook, notebookCluster, notebookConfProblem, notebookInfo, serveNotebook } = await import('../../scripts/notebook.ts')
const { buildNotebookImage, notebookImageProblem, notebookImageReference } = await import('../../scripts/lib/notebook-image.ts')
const { notebookServer } = await import('../../scripts/lib/notebook-server.ts')

const manifests = loadManifests()
const docker = makeTarget(parseConfig('notebook', ['--platform', 'docker'], {}), 'docker')
const clusterImage = `spark-standalone:4.3.0-py3.11-0123456789ab@sha256:${'e'.repeat(64)}`
const notebookImage = `spark-standalone:4.3.0-py3.11-0123456789ab-notebook-abcdefabcdef@sha256:${'f'.repeat(64)}`
const masterLine = ['id1', 'spark-master', 'running', 'Up', clusterImage, 'h', 'spark', 'master', ''].join('\t')
const conf = sparkAuthConf({ uiKill: false, workerCores: 1 }, 'a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64))
const engine = useFakeEngine()
const folder: ClusterStorage = { data: { source: { hostPath: { path: '/home/me/lake' } }, mountPath: '/data', what: 'folder /home/me/lake' } }

/** A running master (the docker CLI) whose secret volume holds `secret` (the Engine API); `present`: the images there. */
function cluster(secret: string | undefined, present: string[] = []) {
  fake.reset((command) => {
    if (command.line.startsWith('docker ps')) return { stdout: command.line.includes('role=master') ? masterLine : '' }
    if (command.line.startsWith('docker image inspect')) return present.includes(command.argv.at(-1)!) ? { stdout: '[]' } : { exitCode: 1, stderr: 'No such image' }
    if (command.line.startsWith('docker volume inspect')) return { exitCode: 1, stderr: 'no such volume' }
    return undefined
  })
  engine.reset((request) => {
    if (request.url === '/volumes/spark-auth') return { json: { Name: 'spark-auth' } }
    return secretConfAnswer(request, secret)
  })
}

const started = () => fake.lines().filter((line) => line.startsWith('docker run') || line.startsWith('docker build') || line.startsWith('docker volume create'))

beforeEach(() => fake.reset())

describe('notebookImageReference', () => {
  /** A docker/ of its own: the notebook's files and the lock. */
  function context() {
    const dir = mkdtempSync(join(tmpdir(), 'nb-docker-'))
    mkdirSync(join(dir, 'notebook'))
    writeFileSync(join(dir, 'notebook', 'Dockerfile'), 'ARG CLUSTER_IMAGE\nFROM ${CLUSTER_IMAGE}\n')
    writeFileSync(join(dir, 'notebook', 'pypi-lock.txt'), 'jupyterlab==4.0.0 --hash=sha256:00\n')
    return dir
  }

  it("tags the cluster image's name and tag with -notebook- and 12 hex of the notebook's files and lock, whatever digest the pods run", () => {
    const dir = context()
    const reference = notebookImageReference(clusterImage, dir)
    expect(reference).toMatch(/^spark-standalone:4\.3\.0-py3\.11-0123456789ab-notebook-[0-9a-f]{12}$/)
    expect(notebookImageReference('spark-standalone:4.3.0-py3.11-0123456789ab', dir)).toBe(reference)
    expect(notebookImageReference('localhost:5000/spark-standalone:4.3.0-py3.11-0123456789ab@sha256:1', dir)).toBe(`localhost:5000/${reference}`)
    // Another lock, another in-image file: another image.
    writeFileSync(join(dir, 'notebook', 'pypi-lock.txt'), 'jupyterlab==4.0.1 --hash=sha256:01\n')
    const relocked = notebookImageReference(clusterImage, dir)
    expect(relocked).not.toBe(reference)
    writeFileSync(join(dir, 'notebook', 'jupyter_server_config.py'), 'c = 1\n')
    expect(notebookImageReference(clusterImage, dir)).not.toBe(relocked)
  })

  it("refuses a cluster image the tool did not build, in one line with a hint", () => {
    expect(notebookImageProblem(clusterImage)).toBeUndefined()
    const problem = notebookImageProblem('spark:latest')!
    expect(problem.message).toBe("this cluster runs spark:latest, an image this tool did not build: JupyterLab is built on the tool's own image")
    expect(problem.details).toMatch(/npm run cluster:up/)
  })
})

describe('buildNotebookImage', () => {
  const reference = 'spark-standalone:4.3.0-py3.11-0123456789ab-notebook-abcdefabcdef'

  it('builds docker/notebook/Dockerfile in docker/ on the local name:tag of the cluster image when the image is missing', async () => {
    cluster(conf, ['spark-standalone:4.3.0-py3.11-0123456789ab'])
    expect(await buildNotebookImage(reference, clusterImage)).toEqual({ done: `image ${reference} built on spark-standalone:4.3.0-py3.11-0123456789ab` })
    const build = fake.calls.find((call) => call.line.startsWith('docker build'))!
    expect(build.line).toBe(`docker build --force-rm --tag ${reference} --file notebook/Dockerfile --build-arg CLUSTER_IMAGE=spark-standalone:4.3.0-py3.11-0123456789ab . 2>&1`)
    expect(build.options.cwd).toMatch(/\/docker$/)
  })

  it('skips the build, saying so, when the image is there', async () => {
    cluster(conf, [reference])
    expect(await buildNotebookImage(reference, clusterImage)).toEqual({ skipped: `image ${reference} already present` })
    expect(started()).toEqual([])
  })

  it("refuses when the cluster's image is not on this engine, rather than pulling it from Docker Hub", async () => {
    cluster(conf, [])
    await expect(buildNotebookImage(reference, clusterImage)).rejects.toThrow("the cluster's image spark-standalone:4.3.0-py3.11-0123456789ab is not on this Docker engine, and JupyterLab's image is built on it")
    expect(started()).toEqual([])
  })

  it("fails in one line with the build's reason", async () => {
    cluster(conf, ['spark-standalone:4.3.0-py3.11-0123456789ab'])
    const respond = fake.respond
    fake.respond = (command) => (command.line.startsWith('docker build') ? { exitCode: 1, stdout: '#9 0.5 install-notebook: error: no wheel for jupyterlab\n' } : respond(command))
    await expect(buildNotebookImage(reference, clusterImage)).rejects.toThrow(`docker build of ${reference} failed (exit 1): install-notebook: error: no wheel for jupyterlab`)
  })
})

describe('notebookCluster and applyNotebook on Docker', () => {
  it('refuses when there is no cluster, in one line', async () => {
    fake.reset((command) => (command.line.startsWith('docker ps') ? { stdout: '' } : undefined))
    await expect(notebookCluster(docker)).rejects.toThrow(new StepError('no Spark master container here: run `npm run cluster:up` first'))
  })

  it('refuses a secret that predates the notebook (no token) or cannot be used, before anything is built or started', async () => {
    cluster(sparkAuthConf({ uiKill: false, workerCores: 1 }, 'a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)).replace(/^spark\.notebook\.token .*\n/m, ''))
    await expect(notebookCluster(docker)).rejects.toThrow("the cluster's secret predates the notebook and holds no JupyterLab token: JupyterLab is not started")
    cluster('')
    await expect(notebookCluster(docker)).rejects.toThrow("the cluster's secret cannot be used (its spark-defaults.conf is empty): JupyterLab is not started")
    expect(started()).toEqual([])
    expect(notebookConfProblem(conf)).toBeUndefined()
    expect(notebookConfProblem(undefined)?.details).toMatch(/npm run cluster:up repairs it/)
  })

  it("reads the cluster's image, storage and token", async () => {
    cluster(conf)
    expect(await notebookCluster(docker)).toMatchObject({ clusterImage, conf, token: 'c'.repeat(64) })
  })

  it("starts JupyterLab on its own labelled volume without data: the conf's digest on it, published on loopback, no secret on its command line", async () => {
    cluster(conf)
    const outcome = await applyNotebook(docker, notebookImage, { clusterImage, storage: {}, conf, token: 'c'.repeat(64) })
    expect(outcome).toEqual({ done: 'volume spark-notebooks created, container spark-notebook created' })
    const lines = started()
    expect(lines[0]).toBe('docker volume create --label app=spark --label app.kubernetes.io/managed-by=spark-standalone-k8s --label role=notebook spark-notebooks')
    const run = lines.find((line) => line.startsWith('docker run --detach'))!
    expect(run).toContain('--name spark-notebook')
    expect(run).toContain('--publish 127.0.0.1:8888:8888')
    expect(run).toContain('--mount type=volume,source=spark-notebooks,target=/opt/spark/notebooks')
    expect(run).toContain(`--label ${authConfAnnotation}=${createHash('sha256').update(conf).digest('hex').slice(0, 16)}`)
    expect(run).toContain(`sha256:${'f'.repeat(64)}`)
    for (const secret of ['a', 'b', 'c']) expect(run).not.toContain(secret.repeat(64))
  })

  it('keeps the notebooks in the data folder when the cluster has one, making no volume', async () => {
    cluster(conf)
    await applyNotebook(docker, notebookImage, { clusterImage, storage: folder, conf, token: 'c'.repeat(64) })
    expect(started().filter((line) => line.startsWith('docker volume'))).toEqual([])
    const run = started().find((line) => line.startsWith('docker run --detach'))!
    expect(run).toContain('--mount type=bind,"source=/home/me/lake/notebooks",target=/opt/spark/notebooks')
    expect(run).toContain('--mount type=bind,"source=/home/me/lake",target=/data')
  })
})

describe("JupyterLab's manifests on Kubernetes", () => {
  const kube = makeTarget(parseConfig('notebook', ['--platform', 'kubernetes', '--namespace', 'lab'], {}), 'kubernetes')
  const claim: ClusterStorage = { data: { source: { persistentVolumeClaim: { claimName: 'lake' } }, mountPath: '/data', what: 'claim lake' } }

  it('renders its own notebooks claim in the namespace without data, and none with a data claim (its notebooks/ by subPath)', () => {
    const server = notebookServer(kube)
    const own = server.render(notebookImage, conf, {})
    expect(own.claims?.map((c) => [c.metadata?.name, c.metadata?.namespace])).toEqual([['spark-notebooks', 'lab']])
    expect(mainContainer(own.deployment).image).toBe(notebookImage)
    expect(podTemplate(own.deployment).metadata?.annotations?.[authConfAnnotation]).toBe(createHash('sha256').update(conf).digest('hex').slice(0, 16))
    const onData = server.render(notebookImage, conf, claim)
    expect(onData.claims).toBeUndefined()
    expect(mainContainer(onData.deployment).volumeMounts).toContainEqual({ name: 'data', mountPath: '/opt/spark/notebooks', subPath: 'notebooks' })
    // The parsed manifests are left as they were.
    expect(manifests.notebook.deployment.metadata?.namespace).toBeUndefined()
  })

  it('says where the notebooks live, in the runtime\'s words', () => {
    expect(notebookServer(kube).notebooksHome({})).toBe('claim spark-notebooks')
    expect(notebookServer(docker).notebooksHome({})).toBe('volume spark-notebooks')
    expect(notebookServer(kube).notebooksHome(claim)).toBe('claim lake, its notebooks/')
  })
})

describe('serveNotebook', () => {
  const forwarding = { url: 'http://localhost:8888', how: 'port-forward to pod spark-notebook-1 port 8888 through the API server', keepsRunning: true, close: async () => {} }

  it("prints the lab URL with Jupyter's token, how it is served and where the notebooks are", () => {
    const info = notebookInfo(forwarding, 'c'.repeat(64), 'claim spark-notebooks')
    expect(info.url).toBe(`http://localhost:8888/lab?token=${'c'.repeat(64)}`)
    const text = formatNotebook(info, true)
    expect(text.split('\n')[0]).toBe(`JupyterLab: ${info.url}`)
    expect(text).toContain('Ctrl-C stops it')
    expect(text).toContain('your notebooks: claim spark-notebooks (cluster:down keeps them)')
    expect(formatNotebook(info, false)).not.toContain('Ctrl-C')
  })

  it('on Docker prints the published URL (--json too) and returns; a browser that will not open is a warning', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      fake.reset((command) => (command.argv.includes('xdg-open') || command.argv.includes('open') || command.argv.includes('cmd') || command.argv.includes('cmd.exe') ? { exitCode: 3 } : undefined))
      expect(await serveNotebook(docker, { token: 'c'.repeat(64), storage: {} }, { port: undefined, open: true, json: true })).toBe(0)
      expect(JSON.parse(log.mock.calls[0][0] as string)).toEqual({
        ok: true,
        command: 'notebook',
        platform: 'docker',
        url: `http://localhost:8888/lab?token=${'c'.repeat(64)}`,
        via: 'published on loopback by Docker; nothing to keep running',
        notebooks: 'volume spark-notebooks',
      })
      // The token is on no command line: the browser opens a private file that forwards to the URL.
      const opener = fake.lines().at(-1)!
      expect(opener).not.toContain('c'.repeat(64))
      const file = opener.split(' ').at(-1)!
      expect(readFileSync(file, 'utf8')).toContain(`url=http://localhost:8888/lab?token=${'c'.repeat(64)}"`)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(error.mock.calls.map((call) => call[0])).toEqual([expect.stringMatching(/^warning: could not open a browser \(\S+ exited 3\); open http:\/\/localhost:8888\/lab\?token=c{64} yourself$/)])
    } finally {
      log.mockRestore()
      error.mockRestore()
    }
  })
})

describe('formatStatus', () => {
  it('names JupyterLab when it runs, and how to start it when not', () => {
    const report = { platform: 'docker', memberNoun: 'containers', ui: { url: 'http://127.0.0.1:30001' }, members: [{ name: 'spark-master', role: 'master', state: 'running', detail: 'Up' }], masterError: 'down' }
    expect(formatStatus(report)).toMatch(/^JupyterLab: not started \(`npm run notebook` starts it\)$/m)
    const withLab = { ...report, members: [...report.members, { name: 'spark-notebook', role: 'notebook', state: 'running', detail: 'Up' }] }
    expect(formatStatus(withLab)).toMatch(/^JupyterLab: spark-notebook running \(`npm run notebook` serves it and prints its URL with the token\)$/m)
  })
})
