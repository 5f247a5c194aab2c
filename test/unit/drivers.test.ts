// npm run submit and npm run shell: the files checked before the cluster is touched, and the driver pods made from the Pi Job.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../scripts/lib/errors.ts'
import { filesVolume, loadManifests, mainContainer, podTemplate, renderShellPod, renderSubmitJob } from '../../scripts/lib/manifests.ts'
import { configMapLimit, readSubmitFiles } from '../../scripts/submit.ts'

const manifests = loadManifests()
const dir = mkdtempSync(join(tmpdir(), 'submit-'))
const file = (name: string, content: string | Buffer = 'x') => {
  writeFileSync(join(dir, name), content)
  return join(dir, name)
}
const base = { appArgs: [], pyFiles: [], files: [], confs: [] }

describe('readSubmitFiles', () => {
  it('reads the app and its files by base name', () => {
    const files = readSubmitFiles({ ...base, app: file('app.py', 'print(1)'), pyFiles: [file('lib.py')], files: [file('data.csv')] }, configMapLimit)
    expect([...files.keys()]).toEqual(['app.py', 'lib.py', 'data.csv'])
    expect(files.get('app.py')!.toString()).toBe('print(1)')
  })

  it('refuses, as bad input, a missing file, two files of one name, and more than a ConfigMap holds', () => {
    expect(() => readSubmitFiles({ ...base, app: join(dir, 'nope.py') })).toThrow(UsageError)
    expect(() => readSubmitFiles({ ...base, app: file('app.py'), files: [file('app.py')] })).toThrow(/two files are named app\.py/)
    const big = file('big.bin', Buffer.alloc(configMapLimit))
    expect(() => readSubmitFiles({ ...base, app: file('app.py'), files: [big] }, configMapLimit)).toThrow(/above the 1 MiB a Kubernetes ConfigMap holds/)
    // Docker has no such limit.
    expect(readSubmitFiles({ ...base, app: file('app.py'), files: [big] }).size).toBe(2)
  })
})

describe('renderSubmitJob', () => {
  it("keeps the Pi Job's spark-submit, resources and security, and runs the user's file with its arguments last", () => {
    const job = renderSubmitJob(manifests, { ...base, image: 'spark:1', namespace: 'dev', timeoutSeconds: 60, app: 'app.py', appArgs: ['--x', 'two words'], pyFiles: ['lib.py'], files: ['data.csv'], confs: ['spark.a=1'] })
    const container = mainContainer(job)
    expect(job.metadata?.generateName).toBe('spark-submit-')
    expect(job.spec?.activeDeadlineSeconds).toBe(60)
    expect(container.args).toEqual(['/opt/spark/bin/spark-submit', '--master', 'spark://spark-master-service:7077', '--conf', 'spark.driver.memory=512m', '--conf', 'spark.decommission.enabled=true', '--conf', 'spark.storage.decommission.enabled=true', '--conf', 'spark.executor.memory=512m', '--conf', 'spark.a=1', '--py-files', '/opt/spark/submit/lib.py', '--files', '/opt/spark/submit/data.csv', '/opt/spark/submit/app.py', '--x', 'two words'])
    expect(container.workingDir).toBe('/opt/spark/submit')
    expect(container.env?.map((v) => v.name)).toEqual(['SPARK_CONF_DIR', 'SPARK_LOCAL_HOSTNAME'])
    expect(container.resources).toEqual(mainContainer(manifests.piJob).resources)
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true)
    expect(container.volumeMounts).toContainEqual({ name: filesVolume, mountPath: '/opt/spark/submit', readOnly: true })
    expect(podTemplate(job).spec!.volumes).toContainEqual({ name: filesVolume, configMap: { name: 'spark-submit', defaultMode: 0o444 } })
  })
})

describe('renderShellPod', () => {
  it("runs pyspark against the master with the Pi Job's pod, kept a REPL for piped input, stdin open once, no deadline", () => {
    const pod = renderShellPod(manifests, { image: 'spark:1', namespace: 'dev', tty: false })
    const container = pod.spec!.containers[0]
    expect(pod.metadata).toMatchObject({ generateName: 'spark-shell-', namespace: 'dev', labels: { app: 'spark', role: 'driver' } })
    expect(container.args).toEqual(['/opt/spark/bin/pyspark', '--master', 'spark://spark-master-service:7077', '--conf', 'spark.driver.memory=512m', '--conf', 'spark.decommission.enabled=true', '--conf', 'spark.storage.decommission.enabled=true', '--conf', 'spark.executor.memory=512m'])
    expect(container).toMatchObject({ image: 'spark:1', stdin: true, stdinOnce: true, tty: false })
    expect(container.env).toContainEqual({ name: 'PYSPARK_DRIVER_PYTHON_OPTS', value: '-i' })
    expect(pod.spec!.restartPolicy).toBe('Never')
    expect(pod.spec).not.toHaveProperty('activeDeadlineSeconds')
    expect(renderShellPod(manifests, { image: 'spark:1', namespace: 'dev', tty: true }).spec!.containers[0].tty).toBe(true)
  })
})
