// Kubernetes and CoreDNS binaries for the test cluster, built from the Go module proxy and cached
// outside the repo. A wrapper module requires k8s.io/kubernetes and pins each staging module
// (k8s.io/api, …) to its matching v0.x release, since a dependency's own replace lines are ignored.
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { $, which } from 'zx'
import { cacheDir } from '../../lib/paths.ts'

export const kubernetesVersion = '1.33.13'
export const corednsVersion = '1.12.4'
// kubeadm and kubectl are for the minikube ground (its binary cache); the kube ground runs the rest.
export const kubeBinaries = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubeadm', 'kubectl'] as const

export const binDir = cacheDir('kube', `bin-v${kubernetesVersion}-coredns${corednsVersion}`)

type Log = (line: string) => void

/** Builds whatever of the binaries is missing; a warm cache returns at once. */
export async function ensureBinaries(log: Log): Promise<string> {
  const missing = [...kubeBinaries, 'coredns'].filter((name) => !existsSync(join(binDir, name)))
  if (missing.length === 0) {
    log(`binaries: cached in ${binDir}`)
    return binDir
  }
  if (!(await which('go', { nothrow: true }))) {
    throw new Error('building the Kubernetes test ground needs Go >= 1.24 on PATH (this machine kind ships it; elsewhere install it from go.dev)')
  }
  await mkdir(binDir, { recursive: true })
  const work = cacheDir('kube', `src-v${kubernetesVersion}`)
  await mkdir(work, { recursive: true })
  const go = $({ cwd: work, quiet: true, env: { ...process.env, GOFLAGS: '-mod=mod' } })

  if (missing.some((name) => name !== 'coredns')) {
    log(`binaries: building Kubernetes v${kubernetesVersion} (cold: ~15-25 min on 2 cores)`)
    const { GoMod } = JSON.parse((await go`go mod download -json k8s.io/kubernetes@v${kubernetesVersion}`).stdout) as { GoMod: string }
    const staging = [...(await readFile(GoMod, 'utf8')).matchAll(/^\s*(k8s\.io\/[\w.-]+) => \.\/staging\//gm)].map((m) => m[1])
    const minor = kubernetesVersion.split('.').slice(1).join('.')
    await writeFile(
      join(work, 'go.mod'),
      [`module local/kubebuild`, '', 'go 1.24.0', '', `require k8s.io/kubernetes v${kubernetesVersion}`, '', ...staging.map((m) => `replace ${m} => ${m} v0.${minor}`), ''].join('\n'),
    )
    await writeFile(join(work, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport (\n${kubeBinaries.map((b) => `\t_ "k8s.io/kubernetes/cmd/${b}"`).join('\n')}\n)\n`)
    await go`go mod tidy`
    const [major, minorOnly] = kubernetesVersion.split('.')
    const ldflags = [
      '-s -w',
      `-X k8s.io/component-base/version.gitVersion=v${kubernetesVersion}`,
      `-X k8s.io/component-base/version.gitMajor=${major}`,
      `-X k8s.io/component-base/version.gitMinor=${minorOnly}`,
      '-X k8s.io/component-base/version.gitTreeState=clean',
    ].join(' ')
    const staged = join(work, 'out')
    await go`go build -ldflags ${ldflags} -o ${staged}/ ${kubeBinaries.map((b) => `k8s.io/kubernetes/cmd/${b}`)}`
    for (const binary of kubeBinaries) await rename(join(staged, binary), join(binDir, binary))
  }
  if (missing.includes('coredns')) {
    log(`binaries: building CoreDNS v${corednsVersion}`)
    await $({ quiet: true, env: { ...process.env, GOBIN: binDir } })`go install -ldflags ${'-s -w'} github.com/coredns/coredns@v${corednsVersion}`
  }
  log(`binaries: built into ${binDir}`)
  return binDir
}

const pauseBinary = cacheDir('kube', 'pause', 'pause')

/** The pod sandbox's process (kube/pause.c), static so an image of it needs nothing else. */
export async function ensurePauseBinary(): Promise<string> {
  if (existsSync(pauseBinary)) return pauseBinary
  await mkdir(dirname(pauseBinary), { recursive: true })
  await $({ quiet: true })`gcc -static -Os -o ${pauseBinary}.tmp ${new URL('./pause.c', import.meta.url).pathname}`
  await rename(`${pauseBinary}.tmp`, pauseBinary)
  return pauseBinary
}
