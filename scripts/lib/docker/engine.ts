import { createHash } from 'node:crypto'
import { readFileSync, realpathSync } from 'node:fs'
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Duplex } from 'node:stream'
import type { Room } from '../capacity.ts'
import { ClusterUnavailable, StepError } from '../errors.ts'

/**
 * The Docker Engine API, for the calls where spawning the CLI for each one costs more than the work
 * (a `docker` process is 20–40 ms; a request on the local socket, under 5). It talks to the engine the
 * CLI would: DOCKER_HOST, else the current context (DOCKER_CONTEXT or config.json), else the default
 * socket. A local socket or Windows pipe is used directly; anything else (tcp with TLS, ssh) goes
 * through `docker system dial-stdio`, which the CLI itself resolves, so it keeps the CLI's own setup.
 */
export type EngineEndpoint = { host: string; socketPath: string } | { host: string; dialStdio: true }

export function engineEndpoint(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): EngineEndpoint {
  const host = env.DOCKER_HOST || contextHost(env) || (platform === 'win32' ? 'npipe:////./pipe/docker_engine' : 'unix:///var/run/docker.sock')
  if (host.startsWith('unix://')) return { host, socketPath: host.slice('unix://'.length) }
  // npipe:////./pipe/docker_engine is the pipe \\.\pipe\docker_engine.
  if (host.startsWith('npipe://')) return { host, socketPath: host.slice('npipe://'.length).replaceAll('/', '\\') }
  return { host, dialStdio: true }
}

/**
 * The engine an endpoint reaches, in one spelling: a socket by its real path (/var/run is often a
 * link to /run), a tcp host in lower case with its port (the CLI's default when none is given).
 */
export function engineIdentity(endpoint: EngineEndpoint, env: NodeJS.ProcessEnv = process.env): string {
  if ('socketPath' in endpoint) {
    if (endpoint.host.startsWith('npipe://')) return `npipe ${endpoint.socketPath.toLowerCase()}`
    try {
      return `unix ${realpathSync(endpoint.socketPath)}`
    } catch {
      return `unix ${endpoint.socketPath}`
    }
  }
  if (!endpoint.host.startsWith('tcp://')) return endpoint.host
  const url = new URL(endpoint.host)
  return `tcp ${url.hostname.toLowerCase()}:${url.port || (env.DOCKER_TLS_VERIFY ? 2376 : 2375)}`
}

/** The docker endpoint of the CLI's current context; undefined for the default context. */
function contextHost(env: NodeJS.ProcessEnv): string | undefined {
  const configDir = env.DOCKER_CONFIG || join(homedir(), '.docker')
  const name = env.DOCKER_CONTEXT || readJson<{ currentContext?: string }>(join(configDir, 'config.json'))?.currentContext
  if (!name || name === 'default') return undefined
  // The CLI keeps each context's metadata under the sha256 of its name.
  const digest = createHash('sha256').update(name).digest('hex')
  const meta = readJson<{ Endpoints?: { docker?: { Host?: string } } }>(join(configDir, 'contexts', 'meta', digest, 'meta.json'))
  // A context we cannot read is left to the CLI (through dial-stdio), which says what is wrong with it.
  return meta?.Endpoints?.docker?.Host ?? `context ${name}`
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

interface CallOptions {
  /** Sent as JSON. */
  body?: unknown
  timeoutMs?: number
  /** The reply's body as bytes (an archive), not parsed. */
  raw?: boolean
}

export interface EngineReply<T> {
  status: number
  body: T
}

/** One API call; the reply's JSON body (or its text, when not JSON). Throws only when the engine cannot be reached or does not answer in time. */
export async function engineCall<T = unknown>(endpoint: EngineEndpoint, method: string, path: string, { body: sent, timeoutMs = 60_000, raw = false }: CallOptions = {}): Promise<EngineReply<T>> {
  const dialer = 'dialStdio' in endpoint ? await dialStdio() : undefined
  return new Promise<EngineReply<T>>((resolve, reject) => {
    let req: ClientRequest
    // A ref'd timer: it also keeps node alive while the engine works (a force-remove takes ~0.4 s).
    const timer = setTimeout(() => {
      // The engine is there but slow: not the "cannot reach" error below.
      settle()
      req.destroy()
      reject(new StepError(`the Docker engine at ${endpoint.host} did not answer ${method} ${path} within ${timeoutMs / 1000} s; hint: \`docker info\` shows whether it answers at all; if that hangs too, restart Docker`))
    }, timeoutMs)
    const settle = () => {
      clearTimeout(timer)
      dialer?.close()
    }
    const payload = sent === undefined ? undefined : JSON.stringify(sent)
    const options = { method, path, headers: { host: 'docker', connection: 'close', ...(payload ? { 'content-type': 'application/json' } : {}) } }
    req = request('socketPath' in endpoint ? { ...options, socketPath: endpoint.socketPath } : { ...options, createConnection: () => dialer!.socket }, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', (error) => (settle(), reject(unreachable(endpoint, error))))
      res.on('end', () => {
        settle()
        const bytes = Buffer.concat(chunks)
        if (raw && (res.statusCode ?? 0) < 300) return resolve({ status: res.statusCode ?? 0, body: bytes as T })
        const text = bytes.toString('utf8')
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          // Not JSON (an empty 204, a plain-text error): kept as text.
        }
        resolve({ status: res.statusCode ?? 0, body: body as T })
      })
    })
    req.on('error', (error) => {
      clearTimeout(timer)
      // Through the CLI, its own complaint (a context that does not exist, a refused tcp host) says more.
      void (dialer ? dialer.complaint() : Promise.resolve(undefined)).then((complaint) => (settle(), reject(unreachable(endpoint, complaint ? new Error(complaint) : error))))
    })
    req.end(payload)
  })
}

/** Throws the engine's own message when a call did not succeed (404 too, unless `missingOk`). */
export async function engineExpect<T = unknown>(endpoint: EngineEndpoint, method: string, path: string, { missingOk = false, ...options }: CallOptions & { missingOk?: boolean } = {}): Promise<T | undefined> {
  const reply = await engineCall<T>(endpoint, method, path, options)
  if (reply.status < 300 || (missingOk && reply.status === 404)) return reply.status < 300 ? reply.body : undefined
  const { body } = reply
  const message = typeof body === 'string' ? body.split('\n')[0] : ((body as { message?: string } | null)?.message ?? JSON.stringify(body))
  throw new StepError(`Docker: ${message || `${method} ${path} answered HTTP ${reply.status}`}`)
}

/** True when the engine answers its ping (what `docker info` would show, without a CLI process). */
export async function engineAnswers(endpoint: EngineEndpoint = engineEndpoint()): Promise<boolean> {
  return engineCall(endpoint, 'GET', '/_ping', { timeoutMs: 15_000 }).then(
    (reply) => reply.status === 200,
    () => false,
  )
}

/** The engine's CPUs and memory (Docker Desktop's VM, not the host), from its /info. */
export async function engineRoom(endpoint: EngineEndpoint = engineEndpoint()): Promise<Room> {
  const info = (await engineExpect<{ NCPU: number; MemTotal: number }>(endpoint, 'GET', '/info'))!
  return { cpu: info.NCPU, memoryMiB: info.MemTotal / 2 ** 20 }
}

/** A container as the engine's list says it, with its address on each network it is on. */
export interface EngineContainer {
  id: string
  name: string
  /** running, exited… */
  state: string
  /** "Up 5 minutes", as `docker ps` says it. */
  status: string
  labels: Record<string, string>
  networks: Array<{ id: string; ip: string }>
}

/** Containers (running or not) carrying every given label, by name. */
export async function engineContainers(labels: Record<string, string>, endpoint: EngineEndpoint = engineEndpoint()): Promise<EngineContainer[]> {
  type Listed = { Id: string; Names: string[]; State: string; Status: string; Labels?: Record<string, string>; NetworkSettings?: { Networks?: Record<string, { NetworkID?: string; IPAddress?: string }> } }
  const found = (await engineExpect<Listed[]>(endpoint, 'GET', `/containers/json?all=1&${labelQuery(labels)}`))!
  return found
    .map((c) => ({ id: c.Id, name: c.Names[0].replace(/^\//, ''), state: c.State, status: c.Status, labels: c.Labels ?? {}, networks: Object.values(c.NetworkSettings?.Networks ?? {}).map((n) => ({ id: n.NetworkID ?? '', ip: n.IPAddress ?? '' })) }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
}

/** `{"label":["k=v",…]}` for the engine's list endpoints. */
export function labelQuery(labels: Record<string, string>): string {
  return `filters=${encodeURIComponent(JSON.stringify({ label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) }))}`
}

function unreachable(endpoint: EngineEndpoint, error: Error): Error {
  const how = 'dialStdio' in endpoint ? `${endpoint.host}, through docker system dial-stdio` : endpoint.host
  return new ClusterUnavailable(`cannot reach the Docker engine at ${how}: ${error.message}; hint: start Docker (Docker Desktop, or \`sudo systemctl start docker\`), or check DOCKER_HOST and \`docker context ls\``)
}

/** A connection made by the CLI: `docker system dial-stdio` carries bytes between its stdio and the engine. */
async function dialStdio(): Promise<{ socket: Duplex; close: () => void; complaint: () => Promise<string | undefined> }> {
  const { spawn } = await import('node:child_process')
  const child = spawn('docker', ['system', 'dial-stdio'], { stdio: ['pipe', 'pipe', 'pipe'] })
  const stderr: Buffer[] = []
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
  const socket = Duplex.from({ readable: child.stdout, writable: child.stdin })
  child.on('error', (error) => socket.destroy(error))
  return {
    socket,
    close: () => child.kill(),
    // Its first line of stderr once it has exited (it exits at once when it cannot connect; 2 s at most).
    complaint: async () => {
      // Unref'd: a command that already failed must not wait out these 2 s before it can exit.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())])
      return Buffer.concat(stderr).toString('utf8').trim().split('\n')[0] || undefined
    },
  }
}
