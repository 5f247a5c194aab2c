// The node's own tools the minikube ground builds from the Go module proxy, cached outside the repo:
// crictl (minikube drives containerd through it) and etcd 3.5 (kubeadm v1.33's static pod passes
// flags etcd 3.6 no longer takes, and Debian's etcd is 3.4). etcd's server module has replace lines
// pointing at its sibling modules, which stop `go install` of it; in a wrapper module they are ignored
// and the siblings come at the versions its go.mod requires (the same release).
import { existsSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { $ } from 'zx'
import { cacheDir } from '../../lib/paths.ts'

type Log = (line: string) => void

/** kubeadm v1.33's DefaultEtcdVersion (cmd/kubeadm/app/constants), without the image revision. */
export const etcdVersion = '3.5.24'
export const crictlVersion = '1.34.0'

export const toolsDir = cacheDir('minikube', `tools-etcd${etcdVersion}-crictl${crictlVersion}`)
export const tools = { etcd: join(toolsDir, 'etcd'), crictl: join(toolsDir, 'crictl') }

/** Builds whatever of etcd and crictl is missing (static: they run in images with no libc of ours). */
export async function ensureTools(log: Log): Promise<typeof tools> {
  await mkdir(toolsDir, { recursive: true })
  const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' }
  if (!existsSync(tools.crictl)) {
    log(`crictl: building v${crictlVersion}`)
    const staged = join(toolsDir, 'staged-crictl')
    await mkdir(staged, { recursive: true })
    await $({ quiet: true, env: { ...env, GOBIN: staged } })`go install -ldflags ${'-s -w'} sigs.k8s.io/cri-tools/cmd/crictl@v${crictlVersion}`
    await rename(join(staged, 'crictl'), tools.crictl)
  }
  if (!existsSync(tools.etcd)) {
    log(`etcd: building v${etcdVersion} (cold: ~2-4 min on 2 cores)`)
    const work = join(toolsDir, 'etcd-src')
    await mkdir(work, { recursive: true })
    await writeFile(join(work, 'go.mod'), `module local/etcdbuild\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 v${etcdVersion}\n`)
    await writeFile(join(work, 'tools.go'), '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n')
    const go = $({ cwd: work, quiet: true, env })
    await go`go mod tidy`
    const staged = join(work, 'etcd')
    const ldflags = `-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v${etcdVersion}`
    await go`go build -ldflags ${ldflags} -o ${staged} go.etcd.io/etcd/server/v3`
    await rename(staged, tools.etcd)
  }
  log(`tools: etcd v${etcdVersion} and crictl v${crictlVersion} in ${toolsDir}`)
  return tools
}
