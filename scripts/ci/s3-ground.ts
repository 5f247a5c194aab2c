#!/usr/bin/env -S npx tsx
/**
 * A real S3-compatible server for the e2e suites: versitygw (Apache-2.0), built from its Go module
 * through the proxy and cached. Its posix backend keeps each bucket as a folder and each object as a
 * file under it, so a test puts a CSV through the S3 API and reads back, as files, the Parquet
 * that Spark wrote through s3a://.
 * It listens on this machine's own address (not loopback), which the Docker engine's containers
 * and the Kubernetes ground's pods both reach.
 *
 *   npx tsx scripts/ci/s3-ground.ts     # builds it (idempotent) and prints its path
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx'
import { fetchWithin } from '../lib/http.ts'
import { runIfMain } from '../lib/main.ts'
import { cacheDir } from '../lib/paths.ts'
import { sleep } from '../lib/poll.ts'
import { tailOf, type Log } from './host.ts'

export const versitygwVersion = '1.8.0'

/** The versitygw binary, built once into the cache (~2 min of CPU cold). */
export async function ensureVersitygw(log: Log): Promise<string> {
  const bin = cacheDir('s3', `versitygw-v${versitygwVersion}`)
  const binary = join(bin, 'versitygw')
  if (existsSync(binary)) return binary
  log(`versitygw: building v${versitygwVersion} from the Go module proxy`)
  const work = cacheDir('s3', 'go')
  await $({ quiet: true, env: { ...process.env, CGO_ENABLED: '0', GOBIN: bin, GOPATH: join(work, 'path'), GOCACHE: join(work, 'cache') } })`go install -ldflags ${'-s -w'} github.com/versity/versitygw/cmd/versitygw@v${versitygwVersion}`
  await $({ quiet: true })`rm -rf ${join(work, 'cache')}`
  log(`versitygw: built ${binary}`)
  return binary
}

export interface S3Server {
  /** http://<this machine's address>:<port> */
  endpoint: string
  /** The folder that holds the buckets. */
  root: string
  /** The keys the suites hand the CLI through AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
  accessKey: string
  secretKey: string
  /** A signed S3 request (curl's SigV4): PUT a bucket, PUT an object from a file. */
  request(method: 'PUT' | 'GET', path: string, file?: string): Promise<{ status: number; body: string }>
  stop(): void
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The address this machine sends from: containers and pods reach it, unlike 127.0.0.1. */
async function hostAddress(): Promise<string> {
  const route = (await $({ quiet: true })`ip -4 route get 1.1.1.1`).stdout
  const address = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(route)?.[1]
  if (!address) throw new Error(`no source address in "ip route get": ${route.trim()}`)
  return address
}

/** Starts versitygw on a fresh root with random keys and waits until it answers. */
export async function startS3Server(log: Log): Promise<S3Server> {
  const binary = await ensureVersitygw(log)
  const root = mkdtempSync(join(tmpdir(), 's3-root-'))
  const accessKey = `ssk8s${randomBytes(6).toString('hex')}`
  const secretKey = randomBytes(24).toString('base64url')
  const port = await freePort()
  const endpoint = `http://${await hostAddress()}:${port}`
  const logFile = join(root, '..', `${root.split('/').pop()}.log`)
  const out = openSync(logFile, 'a')
  // The keys by environment, not argv: ps shows a command line to every user.
  const child: ChildProcess = spawn(binary, ['--port', `:${port}`, '--quiet', 'posix', root], {
    env: { ...process.env, ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey },
    stdio: ['ignore', out, out],
  })
  let exited: number | null | undefined
  child.on('exit', (code) => (exited = code))
  const deadline = Date.now() + 30_000
  while (!(await fetchWithin(endpoint, 2_000).then(() => true, () => false))) {
    if (exited !== undefined || Date.now() > deadline) throw new Error(`versitygw did not answer on ${endpoint}; end of ${logFile}:\n${await tailOf(logFile)}`)
    await sleep(300)
  }
  log(`versitygw: serving ${root} on ${endpoint}`)
  const request: S3Server['request'] = async (method, path, file) => {
    const body = file ? (await $({ quiet: true })`sha256sum ${file}`).stdout.split(' ')[0] : createHash('sha256').update('').digest('hex')
    const upload = file ? ['-T', file] : ['-X', method]
    // The keys through curl's config on stdin, not its argv.
    const result = await $({ quiet: true, nothrow: true, input: `user = "${accessKey}:${secretKey}"\n` })`curl -sS -K - --aws-sigv4 aws:amz:us-east-1:s3 -H ${`x-amz-content-sha256: ${body}`} ${upload} -w ${'\n%{http_code}'} ${endpoint + path}`
    const lines = result.stdout.trimEnd().split('\n')
    return { status: Number(lines.pop()), body: lines.join('\n') }
  }
  return {
    endpoint, root, accessKey, secretKey, request,
    stop: () => {
      child.kill('SIGTERM')
      rmSync(root, { recursive: true, force: true })
    },
  }
}

runIfMain(import.meta.url, async () => {
  console.log(await ensureVersitygw((line) => console.error(`[s3-ground] ${line}`)))
})
