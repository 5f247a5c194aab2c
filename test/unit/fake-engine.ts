// A stand-in for the Docker Engine API: a real HTTP server on a unix socket, as dockerd listens, that
// DOCKER_HOST points at while a describe block runs (engineEndpoint() honours it), so nothing
// reaches a real engine. It answers from a canned responder and records every request. Used as
//   const engine = useFakeEngine()
//   engine.reset((request) => (request.url === '/info' ? { json: { NCPU: 8 } } : undefined))
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'

export interface EngineRequest {
  method: string
  url: string
  /** The request body as text ('' when none). */
  body: string
}

/** `json` is sent as application/json, `raw` as bytes (an archive); neither: an empty reply (204 unless `status`). */
export interface EngineAnswer {
  status?: number
  json?: unknown
  raw?: Buffer
}

type Responder = (request: EngineRequest) => EngineAnswer | undefined

/** What an engine says to a request nothing answers: a 404 naming it, so a stray call fails loudly. */
const unanswered: Responder = (request) => ({ status: 404, json: { message: `fake engine: nothing answers ${request.method} ${request.url}` } })

export interface FakeEngine {
  requests: EngineRequest[]
  reset(respond?: Responder): void
}

export function useFakeEngine(): FakeEngine {
  const engine: FakeEngine & { respond: Responder } = {
    requests: [],
    respond: unanswered,
    reset(respond = unanswered) {
      this.requests = []
      this.respond = (request) => respond(request) ?? unanswered(request)
    },
  }
  const dir = mkdtempSync(join(tmpdir(), 'ssk8s-fake-engine-'))
  const socketPath = join(dir, 'docker.sock')
  let server: Server
  let savedHost: string | undefined
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        const request = { method: req.method!, url: req.url!, body }
        engine.requests.push(request)
        const answer = engine.respond(request)!
        if (answer.raw) return res.writeHead(answer.status ?? 200, { 'content-type': 'application/x-tar' }).end(answer.raw)
        if (answer.json !== undefined) return res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json))
        res.writeHead(answer.status ?? 204).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(socketPath, resolve))
    savedHost = process.env.DOCKER_HOST
    process.env.DOCKER_HOST = `unix://${socketPath}`
  })
  afterAll(async () => {
    if (savedHost === undefined) delete process.env.DOCKER_HOST
    else process.env.DOCKER_HOST = savedHost
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })
  return engine
}

/**
 * The engine's side of reading the cluster's conf out of its secret volume: a reader container made,
 * its archive read (404 when `conf` is undefined: no such file), the reader removed.
 */
export function secretConfAnswer(request: EngineRequest, conf: string | undefined): EngineAnswer | undefined {
  if (request.url === '/containers/create') return { status: 201, json: { Id: 'reader1' } }
  if (request.url.startsWith('/containers/reader1/archive?')) return conf === undefined ? { status: 404, json: { message: 'no such file' } } : { raw: tarOf('spark-defaults.conf', conf) }
  if (request.url === '/containers/reader1?force=1') return { status: 204 }
  return undefined
}

/** A one-file tar archive, as GET /containers/{id}/archive sends a file: made by the system's tar. */
export function tarOf(name: string, content: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'ssk8s-tar-'))
  try {
    writeFileSync(join(dir, name), content)
    return execFileSync('tar', ['--create', '--format=ustar', '--file=-', '--directory', dir, name])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
