// The cluster's storage: --data / --data-claim turned into the pods' volumes (both runtimes), the
// host folder made writable for the Spark user, the checks on a claim, and the flags' bad forms.
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { bundleEntry } from '../../scripts/build.ts'
import { parseConfig } from '../../scripts/lib/config.ts'
import { prepareHostFolder } from '../../scripts/lib/data-folder.ts'
import { planContainer } from '../../scripts/lib/docker/containers.ts'
import { StepError, UsageError } from '../../scripts/lib/errors.ts'
import type { Kube } from '../../scripts/lib/kube/kube.ts'
import { prepareKubeStorage } from '../../scripts/lib/kube/storage.ts'
import { loadManifests, mainContainer, podTemplate, renderPiJob } from '../../scripts/lib/manifests.ts'
import { describeStorage, storageOf, withStorage, type ClusterStorage } from '../../scripts/lib/storage.ts'
import { makeTarget } from '../../scripts/lib/target.ts'

const manifests = loadManifests()
/** Every driver's conf naming the log4j2 configuration that keeps its log beside its executors'. */
const driverLogConf = 'spark.driver.defaultJavaOptions=-Dlog4j2.configurationFile=org/apache/spark/log4j2-defaults.properties,/opt/spark/conf/driver-log4j2.properties'
const driver = () => podTemplate(renderPiJob(manifests, { image: 'spark-standalone:4.3.0-py3.11-0123456789ab', namespace: 'default' }))
const folder: ClusterStorage = { data: { source: { hostPath: { path: '/home/me/lake' } }, mountPath: '/data', what: 'folder /home/me/lake' }, groups: [1000] }
const claim: ClusterStorage = { data: { source: { persistentVolumeClaim: { claimName: 'lake' } }, mountPath: '/mnt/lake', what: 'claim lake' } }

describe('withStorage', () => {
  it('mounts a host folder in the pod, moves the event log to its spark-events/, joins its group and records itself', () => {
    const template = withStorage(driver(), folder)
    const spec = template.spec!
    expect(spec.volumes!.find((v) => v.name === 'data')).toEqual({ name: 'data', hostPath: { path: '/home/me/lake' } })
    expect(spec.volumes!.find((v) => v.name === 'events')).toEqual({ name: 'events', hostPath: { path: '/home/me/lake/spark-events' } })
    expect(spec.containers[0].volumeMounts).toEqual(expect.arrayContaining([{ name: 'data', mountPath: '/data' }, { name: 'events', mountPath: '/opt/spark/events' }]))
    expect(spec.securityContext?.supplementalGroups).toEqual([1000])
    expect(storageOf(template.metadata?.annotations)).toEqual(folder)
    // The run-time plan Docker makes of it: a bind mount each, and the group.
    const args = planContainer(template, { name: 'spark-pi-x', network: 'spark', restart: false }).runArgs
    expect(args.join(' ')).toContain('--mount type=bind,"source=/home/me/lake",target=/data')
    expect(args.join(' ')).toContain('--mount type=bind,"source=/home/me/lake/spark-events",target=/opt/spark/events')
    // One CSV record for Docker: a comma or a quote in the folder's name stays in the field.
    const odd = withStorage(driver(), { data: { source: { hostPath: { path: '/home/me/a,b"c' } }, mountPath: '/data', what: 'folder' } })
    expect(planContainer(odd, { name: 'x', network: 'spark', restart: false }).runArgs).toContain('type=bind,"source=/home/me/a,b""c",target=/data')
    expect(args.join(' ')).toContain('--group-add 1000')
  })

  it('mounts a claim, with the event log in its spark-events/ by subPath of the same volume', () => {
    const spec = withStorage(driver(), claim).spec!
    expect(spec.volumes!.find((v) => v.name === 'data')).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'lake' } })
    // One volume per claim, or the kubelet never mounts the second: the data volume again, at its spark-events/.
    expect(spec.volumes!.filter((v) => v.persistentVolumeClaim).map((v) => v.name)).toEqual(['data'])
    expect(spec.containers[0].volumeMounts!.filter((m) => m.name === 'data')).toEqual([{ name: 'data', mountPath: '/opt/spark/events', subPath: 'spark-events' }, { name: 'data', mountPath: '/mnt/lake' }])
    expect(spec.securityContext?.supplementalGroups).toBeUndefined()
  })

  it("moves JupyterLab's notebooks volume to the data's notebooks/ (host folder, or the claim's subPath), and keeps its own claim without data", () => {
    const notebook = () => structuredClone(podTemplate(manifests.notebook.deployment))
    const mountPath = mainContainer(manifests.notebook.deployment).volumeMounts!.find((m) => m.name === 'notebooks')!.mountPath
    const onFolder = withStorage(notebook(), folder).spec!
    expect(onFolder.volumes!.find((v) => v.name === 'notebooks')).toEqual({ name: 'notebooks', hostPath: { path: '/home/me/lake/notebooks' } })
    expect(planContainer({ spec: onFolder }, { name: 'spark-notebook', network: 'spark', restart: true }).runArgs.join(' ')).toContain(`--mount type=bind,"source=/home/me/lake/notebooks",target=${mountPath}`)
    const onClaim = withStorage(notebook(), claim).spec!
    expect(onClaim.volumes!.filter((v) => v.persistentVolumeClaim).map((v) => v.name)).toEqual(['data'])
    expect(onClaim.containers[0].volumeMounts!.filter((m) => m.name === 'data')).toEqual(
      expect.arrayContaining([{ name: 'data', mountPath, subPath: 'notebooks' }, { name: 'data', mountPath: '/opt/spark/events', subPath: 'spark-events' }]),
    )
    const own = withStorage(notebook(), {}).spec!
    expect(own.volumes!.find((v) => v.name === 'notebooks')).toEqual({ name: 'notebooks', persistentVolumeClaim: { claimName: manifests.notebook.claim.metadata!.name } })
    // Event logs off leave the notebooks where they are, and turn the kernels' event log off too (its dir is gone).
    const eventsOff = withStorage(notebook(), { eventsOff: true }).spec!
    expect(eventsOff.volumes!.find((v) => v.name === 'notebooks')).toEqual(own.volumes!.find((v) => v.name === 'notebooks'))
    const submitArgs = eventsOff.containers[0].env!.find((variable) => variable.name === 'PYSPARK_SUBMIT_ARGS')!.value!
    expect(submitArgs).toContain('--conf spark.eventLog.enabled=false')
    expect(submitArgs).not.toContain('spark.eventLog.enabled=true')
    // Nor the kernels' log: the log4j2 configuration writing it goes, the other settings stay.
    const keptArgs = withStorage(notebook(), {}).spec!.containers[0].env!.find((variable) => variable.name === 'PYSPARK_SUBMIT_ARGS')!.value!
    expect(keptArgs).toContain(` --conf ${driverLogConf} --conf spark.jars.ivy=/tmp/ivy `)
    expect(submitArgs).toBe(keptArgs.replace(` --conf ${driverLogConf}`, '').replace('spark.eventLog.enabled=true', 'spark.eventLog.enabled=false'))
  })

  it("says where the event logs and JupyterLab's notebooks go in the data", () => {
    expect(describeStorage(folder)).toEqual({ done: "folder /home/me/lake at /data in every pod; event logs and the applications' logs (npm run logs) in its spark-events/, JupyterLab's notebooks in its notebooks/" })
    expect(describeStorage(claim)).toEqual({ done: "claim lake at /mnt/lake in every pod; event logs and the applications' logs (npm run logs) in its spark-events/, JupyterLab's notebooks in its notebooks/" })
  })

  it("leaves the manifests' spark-events claim alone without data, and a template without an event-log volume gets only the data", () => {
    expect(withStorage(driver(), {}).spec!.volumes!.find((v) => v.name === 'events')).toEqual({ name: 'events', persistentVolumeClaim: { claimName: 'spark-events' } })
    // No claim every driver can mount: no event log at all, rather than one nobody reads.
    const off = withStorage(driver(), { eventsOff: true }).spec!
    expect(off.volumes!.map((v) => v.name)).not.toContain('events')
    expect(off.containers[0].volumeMounts!.map((m) => m.name)).not.toContain('events')
    expect(off.containers[0].args).toContain('spark.eventLog.enabled=false')
    expect(off.containers[0].args).not.toContain('spark.eventLog.enabled=true')
    // Nor a driver log beside it: its folder is gone too, and so is the log4j2 configuration writing
    // there (with its --conf), so Spark's default one holds.
    const kept = driver().spec!.containers[0].args!
    const conf = kept.indexOf(driverLogConf)
    expect([conf > 0, kept[conf - 1]]).toEqual([true, '--conf'])
    expect(off.containers[0].args).toEqual(kept.filter((_, i) => i !== conf && i !== conf - 1).map((arg) => (arg === 'spark.eventLog.enabled=true' ? 'spark.eventLog.enabled=false' : arg)))
    // A Windows folder (Docker Desktop) gets its spark-events\ by Windows' rules.
    const windows = withStorage(driver(), { data: { source: { hostPath: { path: 'C:\\Users\\me\\lake' } }, mountPath: '/data', what: 'folder' } }).spec!
    expect(windows.volumes!.find((v) => v.name === 'events')?.hostPath?.path).toBe('C:\\Users\\me\\lake\\spark-events')
    // A reader (the History Server) gets the data read-only.
    expect(withStorage(driver(), folder, { readOnly: true }).spec!.containers[0].volumeMounts!.find((m) => m.name === 'data')).toEqual({ name: 'data', mountPath: '/data', readOnly: true })
    const master = withStorage(structuredClone(podTemplate(manifests.master)), folder).spec!
    expect(master.volumes!.map((v) => v.name)).toEqual(['spark-auth', 'tmp', 'recovery', 'data'])
    // A master from before the record, or a record that cannot be read: no claim was made for its drivers' logs.
    expect(storageOf(undefined)).toEqual({ eventsOff: true })
    expect(storageOf({ 'spark-standalone-k8s/storage': '{not json' })).toEqual({ eventsOff: true })
  })
})

describe("the applications' logs", () => {
  const worker = () => structuredClone(podTemplate(manifests.worker))
  const workDir = (template: ReturnType<typeof worker>) => template.spec!.containers[0].env!.find((variable) => variable.name === 'SPARK_WORKER_DIR')?.value

  it("keep the workers' work dir (executors' stdout and stderr) on the event-log storage every worker and driver mounts, where the drivers' logs go too", () => {
    const own = withStorage(worker(), {}).spec!
    expect(own.volumes!.find((v) => v.name === 'events')).toEqual({ name: 'events', persistentVolumeClaim: { claimName: 'spark-events' } })
    expect(own.containers[0].volumeMounts).toContainEqual({ name: 'events', mountPath: '/opt/spark/events' })
    expect(workDir({ spec: own })).toBe('/opt/spark/events/logs')
    expect(driver().spec!.containers[0].args).toContain(driverLogConf)
    // In the data: its spark-events/logs/.
    expect(withStorage(worker(), folder).spec!.volumes!.find((v) => v.name === 'events')).toEqual({ name: 'events', hostPath: { path: '/home/me/lake/spark-events' } })
    expect(withStorage(worker(), claim).spec!.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/opt/spark/events', subPath: 'spark-events' })
  })

  it('are not kept where event logs are off: the worker keeps its own scratch work dir', () => {
    const off = withStorage(worker(), { eventsOff: true }).spec!
    expect(off.volumes!.map((v) => v.name)).toEqual(['spark-auth', 'tmp', 'work'])
    expect(off.containers[0].volumeMounts!.map((m) => m.mountPath)).toEqual(['/etc/spark/auth', '/tmp', '/opt/spark/work'])
    expect(workDir({ spec: off })).toBeUndefined()
    // Everything else in its env stays.
    expect(off.containers[0].env!.length).toBe(worker().spec!.containers[0].env!.length - 1)
  })
})

describe('prepareHostFolder', () => {
  it("makes the folder, its spark-events/ and notebooks/ group-writable with setgid, and names the folder's group", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    const groups = prepareHostFolder(dir, 'linux')
    // mkdtemp's 0700 gains the group's rwx and setgid, and nothing for others.
    expect(statSync(dir).mode & 0o7777).toBe(0o2770)
    for (const child of ['spark-events', 'notebooks']) {
      const mode = statSync(join(dir, child)).mode
      expect([mode & 0o2070, mode & 0o002], child).toEqual([0o2070, 0])
    }
    const { gid } = statSync(dir)
    expect(groups).toEqual(gid === 0 ? [] : [gid])
    // A second run changes nothing.
    expect(prepareHostFolder(dir, 'linux')).toEqual(groups)
  })

  it('takes a folder its owner already opened to its group as it is (chmod g+rwx, or a setfacl mask)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    chmodSync(dir, 0o770)
    prepareHostFolder(dir, 'linux')
    expect(statSync(dir).mode & 0o7777).toBe(0o770)
    expect(statSync(join(dir, 'spark-events')).mode & 0o070).toBe(0o070)
  })

  /** A folder of the same user outside the data folder, and what a change to it would show. */
  const victim = () => {
    const dir = mkdtempSync(join(tmpdir(), 'not-data-'))
    // As root, another group too: a chown through the link would show.
    if (process.getuid?.() === 0) chownSync(dir, 0, 4242)
    const look = () => {
      const { mode, uid, gid } = statSync(dir)
      return { mode, uid, gid, entries: existsSync(join(dir, 'spark-events')) }
    }
    return { dir, look }
  }

  it("refuses a spark-events symlink (or file) in one line and changes nothing it points to: a group member's link cannot hand over your folder", () => {
    for (const platform of ['linux', 'darwin'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'lake-'))
      const target = victim()
      const before = target.look()
      symlinkSync(target.dir, join(dir, 'spark-events'))
      const refusal = (() => {
        try {
          prepareHostFolder(dir, platform)
        } catch (error) {
          return error
        }
      })() as StepError
      expect(refusal, platform).toBeInstanceOf(StepError)
      expect(refusal.message).toBe(`--data ${dir}: ${join(dir, 'spark-events')} is a symlink, and the tool changes no folder it reaches through one`)
      expect(refusal.details).toBe(`  - remove the link (rm ${join(dir, 'spark-events')}), then run this again: the tool makes a folder there`)
      expect(target.look(), platform).toEqual(before)
    }
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    writeFileSync(join(dir, 'spark-events'), 'x')
    expect(() => prepareHostFolder(dir, 'linux')).toThrow(
      new StepError(`--data ${dir}: ${join(dir, 'spark-events')} is a file, not a folder`, `  - move it away (mv ${join(dir, 'spark-events')} ${join(dir, 'spark-events')}.old), then run this again: the tool makes a folder there`),
    )
  })

  it('refuses a data folder that is itself a symlink, changing nothing in the folder it points to', () => {
    const target = victim()
    const before = target.look()
    const link = join(mkdtempSync(join(tmpdir(), 'lake-')), 'link')
    symlinkSync(target.dir, link)
    for (const platform of ['linux', 'darwin'] as const) {
      expect(() => prepareHostFolder(link, platform), platform).toThrow(
        new StepError(`--data ${link}: ${link} is a symlink, and the tool changes no folder it reaches through one`, `  - pass the folder it points to (readlink -f ${link} names it)`),
      )
    }
    expect(target.look()).toEqual(before)
  })

  it('changes nothing on macOS and Windows, where Docker Desktop writes as the folder owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    expect(prepareHostFolder(dir, 'darwin')).toEqual([])
    expect(statSync(dir).mode & 0o7777).toBe(0o700)
    expect(statSync(join(dir, 'spark-events')).isDirectory()).toBe(true)
    expect(statSync(join(dir, 'notebooks')).isDirectory()).toBe(true)
  })

  it('refuses a notebooks symlink like a spark-events one, changing nothing it points to', () => {
    for (const platform of ['linux', 'darwin'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'lake-'))
      const target = victim()
      const before = target.look()
      symlinkSync(target.dir, join(dir, 'notebooks'))
      expect(() => prepareHostFolder(dir, platform), platform).toThrow(
        new StepError(`--data ${dir}: ${join(dir, 'notebooks')} is a symlink, and the tool changes no folder it reaches through one`, `  - remove the link (rm ${join(dir, 'notebooks')}), then run this again: the tool makes a folder there`),
      )
      expect(target.look(), platform).toEqual(before)
    }
  })
})

/** A fake API server's client: one claim (or none) and some nodes. */
function fakeKube(found: V1PersistentVolumeClaim | undefined, nodes: number | 'forbidden', namespaceLabels?: Record<string, string>): Kube {
  const notFound = Object.assign(new Error('persistentvolumeclaims "lake" not found'), { code: 404 })
  return {
    core: {
      readNamespacedPersistentVolumeClaim: async () => {
        if (!found) throw notFound
        return found
      },
      listNode: async () => {
        if (nodes === 'forbidden') throw Object.assign(new Error('nodes is forbidden'), { code: 403 })
        return { items: Array.from({ length: nodes }, (_, i) => ({ metadata: { name: `node-${i}` }, spec: {} })) }
      },
      readNamespace: async () => {
        if (!namespaceLabels) throw Object.assign(new Error('namespaces "x" not found'), { code: 404 })
        return { metadata: { name: 'default', labels: namespaceLabels } }
      },
    },
    objects: { read: async () => ({}) },
  } as unknown as Kube
}

describe('prepareKubeStorage', () => {
  const target = (args: string[], kube: Kube, platform: 'kubernetes' | 'minikube' = 'kubernetes') => makeTarget(parseConfig('up', ['--platform', platform, ...args], {}), platform, manifests, async () => kube)
  const withModes = (modes: string[]): V1PersistentVolumeClaim => ({ metadata: { name: 'lake' }, spec: { accessModes: modes }, status: { phase: 'Bound', accessModes: modes } })

  it('mounts a ReadWriteMany claim, and a ReadWriteOnce one on a cluster of one node', async () => {
    expect(await prepareKubeStorage(target(['--data-claim', 'lake'], fakeKube(withModes(['ReadWriteMany']), 3)))).toEqual({ storage: claim.data && { data: { ...claim.data, mountPath: '/data' } } })
    expect((await prepareKubeStorage(target(['--data-claim', 'lake'], fakeKube(withModes(['ReadWriteOnce']), 1)))).storage.data?.what).toBe('claim lake')
  })

  it('refuses a missing claim, a ReadWriteOnce one on several nodes, a read-only one and a folder of this machine, each in one line', async () => {
    const refusal = async (args: string[], kube: Kube) => ((await prepareKubeStorage(target(args, kube)).catch((e: unknown) => e)) as StepError).message
    expect(await refusal(['--data-claim', 'lake'], fakeKube(undefined, 1))).toBe('--data-claim lake: there is no PersistentVolumeClaim lake in namespace default')
    expect(await refusal(['--data-claim', 'lake'], fakeKube(withModes(['ReadWriteOnce']), 2))).toBe('--data-claim lake is ReadWriteOnce: only pods on one node may mount it, and this cluster has 2 schedulable nodes')
    expect(await refusal(['--data-claim', 'lake'], fakeKube(withModes(['ReadOnlyMany']), 1))).toMatch(/^--data-claim lake is ReadOnlyMany: the master, every worker and every driver must mount it read-write/)
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    expect(await refusal(['--data', dir], fakeKube(undefined, 1))).toBe(`--data ${dir} is a folder of this machine, which a cluster's nodes cannot see`)
  })

  it("on minikube mounts the node's view of the folder, which the profile was made with, where PodSecurity allows a hostPath", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    const { storage } = await prepareKubeStorage(target(['--data', dir], fakeKube(undefined, 1, {}), 'minikube'))
    expect(storage.data).toEqual({ source: { hostPath: { path: '/mnt/spark-data', type: 'Directory' } }, mountPath: '/data', what: `folder ${dir}` })
    const restricted = fakeKube(undefined, 1, { 'pod-security.kubernetes.io/enforce': 'restricted' })
    await expect(prepareKubeStorage(target(['--data', dir], restricted, 'minikube'))).rejects.toThrow(
      "--data on minikube mounts the node's folder (a hostPath volume), which PodSecurity forbids in namespace default (enforce=restricted)",
    )
    // A namespace the tool would create enforces restricted too.
    await expect(prepareKubeStorage(target(['--data', dir], fakeKube(undefined, 1), 'minikube'))).rejects.toThrow(/forbids in namespace default, as the tool creates it$/)
  })

  it("without data: the tool's own claim on a cluster of one node; no event logs where it could not reach every driver", async () => {
    expect(await prepareKubeStorage(target([], fakeKube(undefined, 1)))).toEqual({ storage: {} })
    const several = await prepareKubeStorage(target([], fakeKube(undefined, 3)))
    expect(several).toEqual({ storage: { eventsOff: true }, note: '3 schedulable nodes and no --data-claim: the drivers write no event log and no driver or executor log is kept (pass a ReadWriteMany --data-claim for the History Server to show finished applications)' })
    expect((await prepareKubeStorage(target([], fakeKube(undefined, 'forbidden')))).storage).toEqual({ eventsOff: true })
  })
})

describe('the data flags', () => {
  const parse = (args: string[]) => () => parseConfig('up', args, {})
  afterEach(() => void vi.unstubAllEnvs())

  it('refuse an empty --data (an unset shell variable) in one line, exit 2, leaving the working directory as it was', () => {
    const yours = '--data must be a folder of yours, like ~/lake (got an empty value: is the shell variable you passed set?)'
    for (const empty of ['', ' ']) expect(parse(['--data', empty])).toThrow(new UsageError(yours))
    // The command as the issue ran it, standing in a folder of its own (no engine: nothing may get that far).
    const cwd = mkdtempSync(join(tmpdir(), 'cwd-'))
    const before = statSync(cwd).mode
    const up = spawnSync(process.execPath, [bundleEntry, 'up', '--platform', 'docker', '--data', ''], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', DOCKER_HOST: `unix://${join(cwd, 'no-docker.sock')}` },
    })
    expect([up.status, up.stderr.split('\n').filter((line) => line.startsWith('error:'))]).toEqual([2, [`error: ${yours}`]])
    expect([statSync(cwd).mode, existsSync(join(cwd, 'spark-events'))]).toEqual([before, false])
  })

  it('refuse the root, a top-level folder, your home, a folder holding it and the system trees, and take a folder inside your home', () => {
    const refused = (path: string, why: string) => expect(parse(['--data', path]), path).toThrow(new UsageError(`--data must be a folder of yours, like ~/lake, and ${path} is ${why} (got "${path}")`))
    refused('/', 'the root of the file system')
    refused(homedir(), 'your home folder itself')
    refused('/tmp', 'a top-level folder')
    refused('/usr/share', "inside the system's /usr")
    refused('/etc/ssl', "inside the system's /etc")
    refused('/var/tmp', "inside the system's /var")
    // macOS's /tmp is /private/tmp; WSL's /mnt/c is the whole C: drive.
    refused('/private/tmp', 'a top-level folder')
    refused('/mnt/c', 'a top-level folder')
    // $HOME as the shell has it, wherever that is.
    const home = join(realpathSync(mkdtempSync(join(tmpdir(), 'homes-'))), 'me')
    mkdirSync(join(home, 'lake'), { recursive: true })
    vi.stubEnv('HOME', home)
    refused(home, 'your home folder itself')
    refused(dirname(home), `a folder holding your home folder ${home}`)
    expect(parseConfig('up', ['--data', join(home, 'lake')], {}).data).toBe(join(home, 'lake'))
    // Through a link: the folder it leads to is judged.
    const link = join(home, 'lake', 'home')
    symlinkSync(home, link)
    expect(parse(['--data', link])).toThrow(new UsageError(`--data must be a folder of yours, like ~/lake, and ${home} is your home folder itself (got "${link}")`))
    // A home of / (a service account's) makes no folder yours.
    vi.stubEnv('HOME', '/')
    refused('/etc/ssl', "inside the system's /etc")
  })

  it('refuse a folder reached through a symlink, naming the folder to pass instead', () => {
    const real = realpathSync(mkdtempSync(join(tmpdir(), 'lake-')))
    mkdirSync(join(real, 'inner'))
    const links = realpathSync(mkdtempSync(join(tmpdir(), 'links-')))
    symlinkSync(real, join(links, 'lake'))
    expect(parse(['--data', join(links, 'lake')])).toThrow(new UsageError(`--data must be a folder reached through no symlink (got "${join(links, 'lake')}", which leads to ${real}): pass ${real} itself`))
    // A link anywhere on the way counts too.
    expect(parse(['--data', join(links, 'lake', 'inner')])).toThrow(`which leads to ${join(real, 'inner')}): pass ${join(real, 'inner')} itself`)
    expect(parseConfig('up', ['--data', real], {}).data).toBe(real)
  })

  it('take an existing folder (made absolute), a claim name and an absolute path clear of the image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-'))
    expect(parseConfig('up', ['--data', dir, '--data-path', '/mnt/lake'], {})).toMatchObject({ data: dir, dataPath: '/mnt/lake' })
    expect(parseConfig('up', ['--data-claim', 'lake'], {})).toMatchObject({ dataClaim: 'lake', dataPath: '/data' })
    const file = join(dir, 'a.csv')
    writeFileSync(file, 'x\n')
    expect(parse(['--data', file])).toThrow(new UsageError(`--data must be a folder, not a file (got "${file}")`))
    expect(parse(['--data', join(dir, 'nope')])).toThrow(UsageError)
    expect(parse(['--data-path', '/opt/spark/data'])).toThrow(/^--data-path must be an absolute path outside \/opt, \/etc, \/tmp/)
    expect(parse(['--data-path', 'data'])).toThrow(/^--data-path must be an absolute path/)
    for (const path of ['/var/lake', '//opt/x', '/data/../etc', '/./opt']) expect(parse(['--data-path', path]), path).toThrow(/^--data-path must be an absolute path/)
    expect(parse(['--data-claim', 'Lake_1'])).toThrow(/^--data-claim must be the name of a PersistentVolumeClaim/)
    expect(parse(['--data', dir, '--data-claim', 'lake'])).toThrow('--data and --data-claim cannot be given together: the cluster mounts one of them at --data-path')
  })
})
