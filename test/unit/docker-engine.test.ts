// Where the engine is (as the docker CLI resolves it) and one call on a real HTTP server listening
// on a unix socket, as dockerd does. The dial-stdio transport runs against the real engine in test/e2e/docker.e2e.ts.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engineAnswers, engineCall, engineEndpoint, engineExpect, labelQuery } from '../../scripts/lib/docker/engine.ts'
import { ClusterUnavailable, StepError } from '../../scripts/lib/errors.ts'

const scratch = mkdtempSync(join(tmpdir(), 'ssk8s-engine-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** A docker config dir whose current context is `name`, pointing at `host` (no meta file when host is undefined). */
function dockerConfig(name: string, host?: string): string {
  const dir = mkdtempSync(join(scratch, 'config-'))
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: name }))
  if (host) {
    const meta = join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'))
    mkdirSync(meta, { recursive: true })
    writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }))
  }
  return dir
}

describe('engineEndpoint', () => {
  const none = dockerConfig('default')

  it('defaults to the socket (or, on Windows, the pipe) the CLI uses', () => {
    expect(engineEndpoint({ DOCKER_CONFIG: none }, 'linux')).toEqual({ host: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock' })
    expect(engineEndpoint({ DOCKER_CONFIG: none }, 'win32')).toEqual({ host: 'npipe:////./pipe/docker_engine', socketPath: '\\\\.\\pipe\\docker_engine' })
  })

  it('follows DOCKER_HOST over any context; a tcp or ssh host goes through the CLI', () => {
    const desktop = dockerConfig('desktop-linux', 'unix:///Users/me/.docker/run/docker.sock')
    expect(engineEndpoint({ DOCKER_CONFIG: desktop, DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({ host: 'unix:///run/user/1000/docker.sock', socketPath: '/run/user/1000/docker.sock' })
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://192.168.49.2:2376' })).toEqual({ host: 'tcp://192.168.49.2:2376', dialStdio: true })
    expect(engineEndpoint({ DOCKER_HOST: 'ssh://me@build-box' })).toEqual({ host: 'ssh://me@build-box', dialStdio: true })
  })

  it("reads the current context's endpoint from config.json, or DOCKER_CONTEXT, as the CLI does", () => {
    const desktop = dockerConfig('desktop-linux', 'unix:///Users/me/.docker/run/docker.sock')
    expect(engineEndpoint({ DOCKER_CONFIG: desktop })).toEqual({ host: 'unix:///Users/me/.docker/run/docker.sock', socketPath: '/Users/me/.docker/run/docker.sock' })
    const windows = dockerConfig('desktop-linux', 'npipe:////./pipe/dockerDesktopLinuxEngine')
    expect(engineEndpoint({ DOCKER_CONFIG: windows }, 'win32')).toEqual({ host: 'npipe:////./pipe/dockerDesktopLinuxEngine', socketPath: '\\\\.\\pipe\\dockerDesktopLinuxEngine' })
    expect(engineEndpoint({ DOCKER_CONFIG: desktop, DOCKER_CONTEXT: 'default' }, 'linux')).toEqual({ host: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock' })
    const colima = dockerConfig('colima', 'unix:///Users/me/.colima/default/docker.sock')
    expect(engineEndpoint({ DOCKER_CONFIG: colima, DOCKER_CONTEXT: 'colima' }).host).toBe('unix:///Users/me/.colima/default/docker.sock')
    expect(engineEndpoint({ DOCKER_CONFIG: desktop, DOCKER_CONTEXT: 'nowhere' })).toEqual({ host: 'context nowhere', dialStdio: true })
    expect(engineEndpoint({ DOCKER_CONFIG: desktop, DOCKER_CONTEXT: 'nowhere', DOCKER_HOST: 'unix:///tmp/d.sock' })).toEqual({ host: 'unix:///tmp/d.sock', socketPath: '/tmp/d.sock' })
  })

  it('leaves a context it cannot read to the CLI, which says what is wrong with it', () => {
    expect(engineEndpoint({ DOCKER_CONFIG: dockerConfig('colima') })).toEqual({ host: 'context colima', dialStdio: true })
  })
})

describe('engineCall on a unix socket', () => {
  const socketPath = join(scratch, 'engine.sock')
  const endpoint = { host: `unix://${socketPath}`, socketPath }
  const seen: { method?: string; url?: string; type?: string; body: string }[] = []
  let server: Server

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body })
        if (req.url === '/containers/json?all=1') return res.writeHead(200, { 'content-type': 'application/json' }).end('[{"Names":["/spark-master"]}]')
        if (req.url === '/_ping') return res.writeHead(200, { 'content-type': 'text/plain' }).end('OK')
        if (req.url === '/networks/gone') return res.writeHead(404).end('{"message":"network gone not found"}')
        if (req.url === '/odd') return res.writeHead(500).end('{"cause":"no message field"}')
        if (req.url === '/slow') return setTimeout(() => res.writeHead(204).end(), 1_000)
        if (req.url === '/networks/busy') return res.writeHead(403).end('{"message":"error while removing network: network busy has active endpoints"}')
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('sends JSON and reads JSON back', async () => {
    expect(await engineCall(endpoint, 'GET', '/containers/json?all=1')).toEqual({ status: 200, body: [{ Names: ['/spark-master'] }] })
    expect(await engineCall(endpoint, 'POST', '/networks/spark/disconnect', { body: { Container: 'spark-master', Force: true } })).toEqual({ status: 204, body: '' })
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/networks/spark/disconnect', type: 'application/json', body: '{"Container":"spark-master","Force":true}' })
  })

  it("takes 404 as already gone when asked to, and otherwise throws the engine's own message", async () => {
    expect(await engineExpect(endpoint, 'DELETE', '/networks/gone', { missingOk: true })).toBeUndefined()
    await expect(engineExpect(endpoint, 'DELETE', '/networks/gone')).rejects.toThrow('Docker: network gone not found')
    await expect(engineExpect(endpoint, 'DELETE', '/networks/busy', { missingOk: true })).rejects.toThrow(/^Docker: error while removing network: network busy has active endpoints$/)
  })

  it('a reply without a message is shown as it came; a slow engine is not called unreachable', async () => {
    await expect(engineExpect(endpoint, 'GET', '/odd')).rejects.toThrow('Docker: {"cause":"no message field"}')
    const slow = engineCall(endpoint, 'DELETE', '/slow', { timeoutMs: 100 })
    await expect(slow).rejects.toThrow(/^the Docker engine at unix:\/\/.* did not answer DELETE \/slow within 0\.1 s; hint: /)
    await expect(slow).rejects.not.toBeInstanceOf(ClusterUnavailable)
  })

  it('an engine that is not there is one line with a hint', async () => {
    const missing = join(scratch, 'missing.sock')
    expect(await engineAnswers(endpoint)).toBe(true)
    expect(await engineAnswers({ host: `unix://${missing}`, socketPath: missing })).toBe(false)
    const failure = engineCall({ host: `unix://${missing}`, socketPath: missing }, 'GET', '/_ping')
    await expect(failure).rejects.toBeInstanceOf(ClusterUnavailable)
    await expect(failure).rejects.toThrow(new RegExp(`^cannot reach the Docker engine at unix://${missing}: connect ENOENT .*; hint: start Docker`))
  })

  it('an engine that accepts the connection and never answers is one line naming it and what to check', async () => {
    const hungPath = join(scratch, 'hung.sock')
    const held: Socket[] = []
    const hung = createNetServer((socket) => void held.push(socket))
    await new Promise<void>((resolve) => hung.listen(hungPath, resolve))
    try {
      const call = engineCall({ host: `unix://${hungPath}`, socketPath: hungPath }, 'GET', '/containers/json', { timeoutMs: 100 })
      await expect(call).rejects.toBeInstanceOf(StepError)
      await expect(call).rejects.toThrow(`the Docker engine at unix://${hungPath} did not answer GET /containers/json within 0.1 s; hint: \`docker info\` shows whether it answers at all; if that hangs too, restart Docker`)
      expect(held).toHaveLength(1)
    } finally {
      for (const socket of held) socket.destroy()
      await new Promise<void>((resolve) => hung.close(() => resolve()))
    }
  })

  it('filters by every label, as `docker ps --filter label=k=v` does', () => {
    expect(decodeURIComponent(labelQuery({ app: 'spark', role: 'worker' }))).toBe('filters={"label":["app=spark","role=worker"]}')
  })
})
