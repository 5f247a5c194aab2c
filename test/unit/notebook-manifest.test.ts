import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { V1Deployment, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node'
import { Deployment } from 'kubernetes-models/apps/v1'
import { PersistentVolumeClaim, Service } from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import { dockerDir, manifestsDir } from '../../scripts/lib/paths.ts'
import { manifestFile } from './manifest-file.ts'

const { objects, only } = manifestFile(join(manifestsDir, 'notebook', 'spark-notebook.yml'))
const deployment = only<V1Deployment>('Deployment')
const claim = only<V1PersistentVolumeClaim>('PersistentVolumeClaim')
const service = only<V1Service>('Service')
const pod = deployment.spec!.template.spec!
const container = pod.containers[0]
const labels = { app: 'spark', role: 'notebook', 'app.kubernetes.io/managed-by': 'spark-standalone-k8s' }
const env = (name: string) => container.env?.find((variable) => variable.name === name)

describe('manifests/notebook/spark-notebook.yml', () => {
  it('is a Deployment, a claim and a Service Kubernetes accepts, labelled as ours', () => {
    expect(objects).toHaveLength(3)
    new Deployment(deployment as never).validate()
    new PersistentVolumeClaim(claim as never).validate()
    new Service(service as never).validate()
    for (const object of objects) expect(object.metadata?.labels, object.kind).toEqual(labels)
    expect(deployment.metadata?.name).toBe('spark-notebook')
    expect(deployment.spec?.strategy?.type).toBe('Recreate')
    expect(deployment.spec?.template.metadata?.labels).toEqual(labels)
    expect(claim.metadata?.name).toBe('spark-notebooks')
    expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } })
  })

  it('runs jupyter lab behind require-auth on port 8888 named http, served by a ClusterIP Service of that port', () => {
    expect(container.name).toBe('spark-notebook')
    expect(container.image).toBe('spark:latest')
    expect(container.imagePullPolicy).toBe('IfNotPresent')
    expect(container.args).toEqual(['/usr/local/bin/require-auth', 'jupyter', 'lab'])
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8888 }, { name: 'spark-ui', containerPort: 4040 }])
    expect(container.readinessProbe?.tcpSocket?.port).toBe('http')
    expect(service.metadata?.name).toBe('spark-notebook')
    expect(service.spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'http', port: 8888, targetPort: 'http' }] })
    expect(Object.entries(service.spec!.selector!)).toEqual(expect.arrayContaining(Object.entries(deployment.spec!.selector!.matchLabels!)))
  })

  it('mounts the secret conf read-only, scratch and home, the event log claim and the notebooks claim', () => {
    const mounts = Object.fromEntries(container.volumeMounts!.map((mount) => [mount.name, mount]))
    expect(Object.fromEntries(Object.entries(mounts).map(([name, mount]) => [name, mount.mountPath]))).toEqual({
      'spark-auth': '/etc/spark/auth',
      tmp: '/tmp',
      home: '/home/spark',
      events: '/opt/spark/events',
      notebooks: '/opt/spark/notebooks',
    })
    expect(mounts['spark-auth'].readOnly).toBe(true)
    const volumes = Object.fromEntries(pod.volumes!.map((volume) => [volume.name, volume]))
    expect(volumes['spark-auth'].secret).toEqual({ secretName: 'spark-auth', defaultMode: 0o440 })
    expect(volumes.tmp.emptyDir).toBeDefined()
    expect(volumes.home.emptyDir).toBeDefined()
    expect(volumes.events.persistentVolumeClaim?.claimName).toBe('spark-events')
    expect(volumes.notebooks.persistentVolumeClaim?.claimName).toBe('spark-notebooks')
    expect(env('SPARK_CONF_DIR')?.value).toBe('/etc/spark/auth')
    expect(env('HOME')?.value).toBe('/home/spark')
    expect(env('SPARK_LOCAL_HOSTNAME')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP')
    // The image's Jupyter config wins over one a notebook could write in the writable home.
    expect(env('JUPYTER_PREFER_ENV_PATH')?.value).toBe('1')
  })

  it('runs restricted: non-root 185, no capabilities, no privilege escalation, read-only root, RuntimeDefault seccomp', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 185, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } })
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
    expect(pod.automountServiceAccountToken).toBe(false)
  })

  it("gives every kernel's driver the cluster's master, dynamic allocation, an event log, links through the master's proxy and no progress bar in cells, ending as pyspark needs", () => {
    const args = env('PYSPARK_SUBMIT_ARGS')!.value!.split(' ')
    expect(args.slice(0, 2)).toEqual(['--master', 'spark://spark-master-service:7077'])
    expect(args.at(-1)).toBe('pyspark-shell')
    const confs = args.flatMap((arg, i) => (args[i - 1] === '--conf' ? [arg] : []))
    for (const conf of [
      'spark.dynamicAllocation.enabled=true',
      'spark.dynamicAllocation.shuffleTracking.enabled=true',
      'spark.dynamicAllocation.executorIdleTimeout=30s',
      // The first cell finds executors (a new kernel asks for two; idle, they go after 30 s).
      'spark.dynamicAllocation.initialExecutors=2',
      'spark.eventLog.enabled=true',
      `spark.eventLog.dir=file:${container.volumeMounts!.find((mount) => mount.name === 'events')!.mountPath}`,
      'spark.jars.ivy=/tmp/ivy',
      'spark.ui.reverseProxy=true',
      'spark.ui.showConsoleProgress=false',
    ])
      expect(confs).toContain(conf)
  })

  it("agrees with the image's Jupyter config on the port and the notebooks folder", () => {
    const config = readFileSync(join(dockerDir, 'notebook', 'jupyter_server_config.py'), 'utf8')
    expect(config).toContain(`c.ServerApp.port = ${container.ports![0].containerPort}`)
    expect(config).toContain(`c.ServerApp.root_dir = "${container.volumeMounts!.find((mount) => mount.name === 'notebooks')!.mountPath}"`)
  })
})

describe('docker/notebook/ (the image the manifest runs)', () => {
  const notebookDir = join(dockerDir, 'notebook')
  const dockerfile = readFileSync(join(notebookDir, 'Dockerfile'), 'utf8')

  it("builds on the cluster's image, installs the lock by digest and wheels only, and runs as the Spark user", () => {
    expect(dockerfile).toMatch(/^ARG CLUSTER_IMAGE\nFROM \$\{CLUSTER_IMAGE\}$/m)
    expect(dockerfile).toContain('COPY common.sh notebook/install-notebook.sh notebook/pypi-lock.txt /tmp/image-scripts/')
    expect(dockerfile.trimEnd().split('\n').filter((line) => line.startsWith('USER ')).at(-1)).toBe(`USER ${pod.securityContext!.runAsUser}`)
    expect(readFileSync(join(notebookDir, 'install-notebook.sh'), 'utf8')).toContain('venv_pip "JupyterLab" --only-binary :all: --require-hashes -r /tmp/image-scripts/pypi-lock.txt')
    // The build context is docker/: its .dockerignore must send the notebook folder.
    expect(readFileSync(join(dockerDir, '.dockerignore'), 'utf8')).toMatch(/^!notebook\/$/m)
  })

  it('has one kernel, "PySpark (cluster)", whose startup file is where the Dockerfile puts it, and the config allows only it', () => {
    const spec = JSON.parse(readFileSync(join(notebookDir, 'kernel', 'kernel.json'), 'utf8')) as { argv: string[]; display_name: string }
    expect(spec.display_name).toBe('PySpark (cluster)')
    const kernelDir = /^COPY notebook\/kernel\/ (\S+)\/$/m.exec(dockerfile)![1]
    expect(spec.argv).toContain(`--IPKernelApp.exec_files=${kernelDir}/start-spark.py`)
    expect(readFileSync(join(notebookDir, 'kernel', 'start-spark.py'), 'utf8')).toMatch(/^    spark = SparkSession\.builder\.getOrCreate\(\)\n    sc = spark\.sparkContext$/m)
    const config = readFileSync(join(notebookDir, 'jupyter_server_config.py'), 'utf8')
    expect(config).toContain(`c.KernelSpecManager.allowed_kernelspecs = {"${kernelDir.split('/').at(-1)}"}`)
    expect(config).toContain('c.ServerApp.terminals_enabled = False')
    expect(config).toContain('c.LabApp.extension_manager = "readonly"')
  })

  it("names each kernel's driver log folder before its driver starts, every kernel its own, adding nothing to the notebook's names", () => {
    // The folder name the image's driver-log4j2.properties takes from the environment.
    const variable = /\$\{env:(\w+):-/.exec(readFileSync(join(dockerDir, 'driver-log4j2.properties'), 'utf8'))![1]
    // start-spark.py run by Python as the kernel runs it, with a pyspark that says what its driver would see.
    const fake = mkdtempSync(join(tmpdir(), 'ssk8s-kernel-'))
    try {
      mkdirSync(join(fake, 'pyspark'))
      writeFileSync(join(fake, 'pyspark', '__init__.py'), '')
      writeFileSync(
        join(fake, 'pyspark', 'sql.py'),
        ['import os', 'class _Context:', '    applicationId, master = "app-1", "spark://m:7077"', 'class _Session:', '    sparkContext = _Context()',
          'class SparkSession:', '    class builder:', '        @staticmethod', '        def getOrCreate():',
          `            print("DRIVER_SEES", os.environ["${variable}"])`, '            return _Session()', ''].join('\n'),
      )
      const kernel = [
        'import sys, types', 'events = types.SimpleNamespace(register=lambda *a: None)', 'shell = types.SimpleNamespace(events=events)',
        'namespace = {"get_ipython": lambda: shell}', 'exec(open(sys.argv[1]).read(), namespace)',
        'print("NAMES", sorted(n for n in namespace if not n.startswith("__") and n != "get_ipython"))',
      ].join('\n')
      const start = () => spawnSync('python3', ['-c', kernel, join(dockerDir, 'notebook', 'kernel', 'start-spark.py')], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: fake } })
      const runs = [start(), start()]
      const names = runs.map((run) => {
        expect(run.status, run.stderr).toBe(0)
        // What the notebook gets: spark and sc (and what the file imports for them), nothing of the naming.
        expect(run.stdout).toContain("NAMES ['SparkSession', 'sc', 'spark', 'traceback']")
        return /^DRIVER_SEES (.+)$/m.exec(run.stdout)?.[1]
      })
      for (const name of names) expect(name).toMatch(new RegExp(`^${hostname()}-kernel-\\d{8}-\\d{6}-\\d+$`))
      expect(names[0]).not.toBe(names[1])
    } finally {
      rmSync(fake, { recursive: true, force: true })
    }
  })
})
