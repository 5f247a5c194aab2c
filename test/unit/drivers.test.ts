// npm run submit and npm run shell: the files checked before the cluster is touched, and the driver pods made from the Pi Job.
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { UsageError } from '../../scripts/lib/errors.ts'
import { filesVolume, loadManifests, mainContainer, podTemplate, renderShellPod, renderSubmitJob, shellDeadlineSeconds } from '../../scripts/lib/manifests.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { makeTarget } from '../../scripts/lib/target.ts'
import { readSubmitFiles } from '../../scripts/submit.ts'
import { dockerFilesLimit } from '../../scripts/lib/docker/driver.ts'
import { configMapLimit } from '../../scripts/lib/kube/driver.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { runShell } = await import('../../scripts/shell.ts')

// readFileSync watched (and still done): the files are sized before any is read.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>()
  return { ...fs, readFileSync: vi.fn(fs.readFileSync) }
})

const manifests = loadManifests()
const dir = mkdtempSync(join(tmpdir(), 'submit-'))
const file = (name: string, content: string | Buffer = 'x') => {
  writeFileSync(join(dir, name), content)
  return join(dir, name)
}
const base = { appArgs: [], pyFiles: [], files: [], confs: [] }

describe('readSubmitFiles', () => {
  it('reads the app and its files by base name', () => {
    const files = readSubmitFiles({ ...base, app: file('app.py', 'print(1)'), pyFiles: [file('lib.py')], files: [file('data.csv')] }, configMapLimit, 'a Kubernetes ConfigMap holds')
    expect([...files.keys()]).toEqual(['app.py', 'lib.py', 'data.csv'])
    expect(files.get('app.py')!.toString()).toBe('print(1)')
  })

  it('refuses, as bad input, a missing file, two files of one name, and more than a ConfigMap holds', () => {
    expect(() => readSubmitFiles({ ...base, app: join(dir, 'nope.py') }, configMapLimit, 'a Kubernetes ConfigMap holds')).toThrow(UsageError)
    expect(() => readSubmitFiles({ ...base, app: file('app.py'), files: [file('app.py')] }, configMapLimit, 'a Kubernetes ConfigMap holds')).toThrow(/two files are named app\.py/)
    const big = file('big.bin', Buffer.alloc(configMapLimit))
    expect(() => readSubmitFiles({ ...base, app: file('app.py'), files: [big] }, configMapLimit, 'a Kubernetes ConfigMap holds')).toThrow(/above the 1 MiB a Kubernetes ConfigMap holds/)
    // Docker's limit is far higher.
    expect(readSubmitFiles({ ...base, app: file('app.py'), files: [big] }, dockerFilesLimit, 'a submit takes on Docker').size).toBe(2)
  })

  it("refuses a name starting with '..' (the kubelet keeps those in a ConfigMap volume), as bad input", () => {
    for (const name of ['..x.py', '..data']) {
      const error = (() => {
        try {
          readSubmitFiles({ ...base, app: file('app.py'), files: [file(name)] }, configMapLimit, 'a Kubernetes ConfigMap holds')
        } catch (e) {
          return e
        }
      })() as UsageError
      expect(error).toBeInstanceOf(UsageError)
      expect(error.exitCode).toBe(2)
      expect(error.message).toBe(`--files: file names may hold only letters, digits, '.', '-' and '_', and may not start with '..' (got "${name}")`)
    }
    expect(() => readSubmitFiles({ ...base, app: file('..x.py') }, dockerFilesLimit, 'a submit takes on Docker')).toThrow(/^the app: .*may not start with '\.\.' \(got "\.\.x\.py"\)$/)
    expect(readSubmitFiles({ ...base, app: file('.hidden.py') }, configMapLimit, 'a Kubernetes ConfigMap holds').size).toBe(1)
  })

  it('sizes every file before reading any: a set above the limit is refused without a single read', () => {
    // Sparse: 1 GiB on paper, nothing on disk.
    const huge = file('huge.bin', '')
    truncateSync(huge, dockerFilesLimit)
    const app = file('app.py')
    vi.mocked(readFileSync).mockClear()
    expect(() => readSubmitFiles({ ...base, app, files: [huge] }, dockerFilesLimit, 'a submit takes on Docker')).toThrow(
      new UsageError(`the app and its files total ${Math.ceil((dockerFilesLimit + 'huge.bin'.length + 1 + 'app.py'.length) / 1024)} KiB, above the 1024 MiB a submit takes on Docker: put large data where the cluster reads it (object storage, a volume) and pass its path instead`),
    )
    expect(() => readSubmitFiles({ ...base, app, files: [huge] }, configMapLimit, 'a Kubernetes ConfigMap holds')).toThrow(/above the 1 MiB a Kubernetes ConfigMap holds/)
    expect(readFileSync).not.toHaveBeenCalled()
    // Within the limit, each is read once.
    readSubmitFiles({ ...base, app }, configMapLimit, 'a Kubernetes ConfigMap holds')
    expect(vi.mocked(readFileSync).mock.calls).toEqual([[app]])
  })
})

describe('renderSubmitJob', () => {
  it("keeps the Pi Job's spark-submit, resources and security, and runs the user's file with its arguments last", () => {
    const job = renderSubmitJob(manifests, { ...base, image: 'spark:1', namespace: 'dev', timeoutSeconds: 60, app: 'app.py', appArgs: ['--x', 'two words'], pyFiles: ['lib.py'], files: ['data.csv'], confs: ['spark.a=1'] })
    const container = mainContainer(job)
    expect(job.metadata?.generateName).toBe('spark-submit-')
    expect(job.spec?.activeDeadlineSeconds).toBe(60)
    expect(container.args).toEqual(['/usr/local/bin/require-auth', '/opt/spark/bin/spark-submit', '--master', 'spark://spark-master-service:7077', '--conf', 'spark.driver.memory=512m', '--conf', 'spark.decommission.enabled=true', '--conf', 'spark.storage.decommission.enabled=true', '--conf', 'spark.executor.memory=512m', '--conf', 'spark.jars.ivy=/tmp/ivy', '--conf', 'spark.eventLog.enabled=true', '--conf', 'spark.eventLog.dir=file:/opt/spark/events', '--conf', 'spark.driver.defaultJavaOptions=-Dlog4j2.configurationFile=org/apache/spark/log4j2-defaults.properties,/opt/spark/conf/driver-log4j2.properties', '--conf', 'spark.a=1', '--py-files', '/opt/spark/submit/lib.py', '--files', '/opt/spark/submit/data.csv', '/opt/spark/submit/app.py', '--x', 'two words'])
    expect(container.workingDir).toBe('/opt/spark/submit')
    expect(container.env?.map((v) => v.name)).toEqual(['SPARK_CONF_DIR', 'SPARK_LOCAL_HOSTNAME'])
    expect(container.resources).toEqual(mainContainer(manifests.piJob).resources)
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true)
    expect(container.volumeMounts).toContainEqual({ name: filesVolume, mountPath: '/opt/spark/submit', readOnly: true })
    expect(podTemplate(job).spec!.volumes).toContainEqual({ name: filesVolume, configMap: { name: 'spark-submit', defaultMode: 0o444 } })
  })
})

describe('renderShellPod', () => {
  it("runs pyspark (behind require-auth) against the master with the Pi Job's pod, kept a REPL for piped input, stdin open once, for at most a working day", () => {
    const pod = renderShellPod(manifests, { image: 'spark:1', namespace: 'dev', tty: false })
    const container = pod.spec!.containers[0]
    expect(pod.metadata).toMatchObject({ generateName: 'spark-shell-', namespace: 'dev', labels: { app: 'spark', role: 'driver' } })
    expect(container.args).toEqual(['/usr/local/bin/require-auth', '/opt/spark/bin/pyspark', '--master', 'spark://spark-master-service:7077', '--conf', 'spark.driver.memory=512m', '--conf', 'spark.decommission.enabled=true', '--conf', 'spark.storage.decommission.enabled=true', '--conf', 'spark.executor.memory=512m', '--conf', 'spark.jars.ivy=/tmp/ivy', '--conf', 'spark.eventLog.enabled=true', '--conf', 'spark.eventLog.dir=file:/opt/spark/events', '--conf', 'spark.driver.defaultJavaOptions=-Dlog4j2.configurationFile=org/apache/spark/log4j2-defaults.properties,/opt/spark/conf/driver-log4j2.properties'])
    expect(container).toMatchObject({ image: 'spark:1', stdin: true, stdinOnce: true, tty: false })
    expect(container.env).toContainEqual({ name: 'PYSPARK_DRIVER_PYTHON_OPTS', value: '-i' })
    expect(pod.spec!.restartPolicy).toBe('Never')
    expect(shellDeadlineSeconds).toBe(12 * 60 * 60)
    expect(pod.spec!.activeDeadlineSeconds).toBe(shellDeadlineSeconds)
    expect(manifests.piJob.spec!.template.spec).not.toHaveProperty('activeDeadlineSeconds')
    expect(renderShellPod(manifests, { image: 'spark:1', namespace: 'dev', tty: true }).spec!.containers[0].tty).toBe(true)
  })
})

describe('runShell on Docker', () => {
  it("stops the REPL itself at the shell's deadline, with timeout --foreground so it keeps reading the terminal", async () => {
    const masterLine = ['id1', 'spark-master', 'running', 'Up', 'spark-standalone:4.3.0-0123456789ab', 'h', 'spark', 'master', '', ''].join('\t')
    fake.reset((command) => (command.line.startsWith('docker ps') ? { stdout: masterLine } : undefined))
    const target = makeTarget(parseConfig('shell', ['--platform', 'docker'], {}), 'docker')
    expect(await runShell(target, () => {})).toBe(0)
    const started = fake.calls.find((call) => call.argv[1] === 'run')!
    const image = started.argv.indexOf('spark-standalone:4.3.0-0123456789ab')
    expect(started.argv.slice(image + 1, image + 7)).toEqual(['timeout', '--foreground', '--kill-after=10', String(shellDeadlineSeconds), '/usr/local/bin/require-auth', '/opt/spark/bin/pyspark'])
    expect(started.argv.slice(2, 4)).toEqual(['--interactive', '--rm'])
    expect(fake.lines().at(-1)).toMatch(/^docker rm --force spark-shell-/)
  })
})
