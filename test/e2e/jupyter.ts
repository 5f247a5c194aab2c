// A small client of Jupyter Server's own APIs for the notebook e2e tests: a session (kernel) through
// REST, cells run in order over the kernel's WebSocket channels (Jupyter messaging protocol v5, the
// server's JSON framing: no subprotocol), and notebooks saved and read through the contents API.
// Token auth by header on every request, the WebSocket upgrade included.
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { fetchWithin } from '../../scripts/lib/http.ts'

/** One output as nbformat 4 keeps it (stream, execute_result, display_data, error). */
export type Output = Record<string, unknown> & { output_type: string }

export interface CellResult {
  status: 'ok' | 'error'
  /** Everything the cell printed to stdout. */
  stdout: string
  stderr: string
  /** text/plain of the cell's value (execute_result), '' when it has none. */
  result: string
  /** `ename: evalue` when the cell raised. */
  error?: string
  executionCount: number | null
  outputs: Output[]
}

export interface Notebook {
  nbformat: 4
  nbformat_minor: number
  metadata: Record<string, unknown>
  cells: { cell_type: string; id?: string; source: string | string[]; metadata: Record<string, unknown>; outputs?: Output[]; execution_count?: number | null }[]
}

interface Message {
  header: { msg_id: string; msg_type: string }
  parent_header: { msg_id?: string }
  content: Record<string, unknown>
  metadata?: Record<string, unknown>
  channel?: string
}

/** The base URL and token of a lab URL as Jupyter prints it (`http://host:port/lab?token=…`). */
export function parseLabUrl(labUrl: string): { baseUrl: string; token: string } {
  const url = new URL(labUrl)
  const token = url.searchParams.get('token')
  if (!token) throw new Error(`no ?token= in ${labUrl}`)
  const base = url.pathname.replace(/\/lab(\/.*)?$/, '/')
  return { baseUrl: `${url.origin}${base}`, token }
}

const endpoint = (baseUrl: string, path: string) => new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`)

/** A REST call with the token; a refused token or any other failure is one clear error. */
export async function api<T>(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = endpoint(baseUrl, path)
  const init: RequestInit = { method, headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }
  const { status, text } = await fetchWithin(url, 30_000, init, async (r) => ({ status: r.status, text: await r.text() }))
  if (status === 401 || status === 403) throw new Error(`Jupyter at ${baseUrl} refused the token (HTTP ${status} on ${method} /${path})`)
  if (status >= 400) throw new Error(`Jupyter at ${baseUrl}: HTTP ${status} on ${method} /${path}: ${text.slice(0, 300)}`)
  return (text ? JSON.parse(text) : undefined) as T
}

/** The kernel spec named `wanted` (an error names the ones the server has when it has no such), else the server's default. */
export async function kernelSpec(baseUrl: string, token: string, wanted?: string): Promise<{ name: string; displayName: string }> {
  const specs = await api<{ default: string; kernelspecs: Record<string, { spec: { display_name: string } }> }>(baseUrl, token, 'GET', 'api/kernelspecs')
  const name = wanted ?? specs.default
  const spec = specs.kernelspecs[name]
  if (!spec) throw new Error(`Jupyter at ${baseUrl} has no kernel "${name}" (it has: ${Object.keys(specs.kernelspecs).join(', ')})`)
  return { name, displayName: spec.spec.display_name }
}

/**
 * The requests of one client on a kernel's channels. `send` writes a frame; the socket hands every
 * frame it receives to `receive`. A request is answered when both its shell reply and the iopub
 * `status: idle` it caused have come (either may come first); iopub outputs in between are its own.
 */
export class KernelChannels {
  private readonly pending = new Map<string, { outputs: Output[]; reply?: Message; idle: boolean; resolve: (done: { reply: Message; outputs: Output[] }) => void; reject: (error: Error) => void }>()

  constructor(
    private readonly send: (frame: string) => void,
    readonly session = randomUUID(),
  ) {}

  request(msgType: string, content: Record<string, unknown>): Promise<{ reply: Message; outputs: Output[] }> {
    const msgId = randomUUID()
    const header = { msg_id: msgId, msg_type: msgType, username: 'e2e', session: this.session, date: new Date().toISOString(), version: '5.3' }
    return new Promise((resolve, reject) => {
      this.pending.set(msgId, { outputs: [], idle: false, resolve, reject })
      this.send(JSON.stringify({ header, parent_header: {}, metadata: {}, content, channel: 'shell', buffers: [] }))
    })
  }

  receive(frame: string): void {
    const message = JSON.parse(frame) as Message
    const request = this.pending.get(message.parent_header?.msg_id ?? '')
    if (!request) return
    const type = message.header.msg_type
    if (message.channel === 'shell' && type.endsWith('_reply')) request.reply = message
    else if (type === 'status' && message.content.execution_state === 'idle') request.idle = true
    else {
      const output = asOutput(message)
      if (output) request.outputs.push(output)
    }
    if (request.reply && request.idle) {
      this.pending.delete(message.parent_header.msg_id!)
      request.resolve({ reply: request.reply, outputs: request.outputs })
    }
  }

  /** Ends every request still waiting (the socket closed, the deadline passed). */
  fail(error: Error): void {
    for (const request of this.pending.values()) request.reject(error)
    this.pending.clear()
  }
}

function asOutput(message: Message): Output | undefined {
  const { content } = message
  switch (message.header.msg_type) {
    case 'stream':
      return { output_type: 'stream', name: content.name, text: content.text }
    case 'execute_result':
      return { output_type: 'execute_result', data: content.data, metadata: content.metadata ?? {}, execution_count: content.execution_count }
    case 'display_data':
      return { output_type: 'display_data', data: content.data, metadata: content.metadata ?? {} }
    case 'error':
      return { output_type: 'error', ename: content.ename, evalue: content.evalue, traceback: content.traceback }
    default:
      return undefined
  }
}

/** A cell's result from its execute_reply and outputs. */
export function cellResult(reply: Message, outputs: Output[]): CellResult {
  const stream = (name: string) => outputs.filter((o) => o.output_type === 'stream' && o.name === name).map((o) => String(o.text)).join('')
  const value = outputs.find((o) => o.output_type === 'execute_result') as { data?: Record<string, string> } | undefined
  const raised = (outputs.find((o) => o.output_type === 'error') ?? (reply.content.status === 'error' ? reply.content : undefined)) as { ename?: string; evalue?: string } | undefined
  const status = reply.content.status === 'ok' ? 'ok' : 'error'
  return {
    status,
    stdout: stream('stdout'),
    stderr: stream('stderr'),
    result: value?.data?.['text/plain'] ?? '',
    error: raised ? `${raised.ename}: ${raised.evalue}` : status === 'error' ? `execution ${String(reply.content.status)}` : undefined,
    executionCount: (reply.content.execution_count as number | undefined) ?? null,
    outputs,
  }
}

function openChannels(baseUrl: string, token: string, kernelId: string, channels: KernelChannels): Promise<WebSocket> {
  const url = endpoint(baseUrl, `api/kernels/${kernelId}/channels?session_id=${channels.session}`)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  const socket = new WebSocket(url, { headers: { Authorization: `token ${token}` } })
  socket.on('message', (data) => channels.receive(data.toString()))
  socket.on('close', (code, reason) => channels.fail(new Error(`the kernel's channels closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`)))
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket))
    // Kept for the socket's life: an 'error' with no listener would throw out of the event loop.
    socket.on('error', (error) => {
      reject(error)
      channels.fail(error)
    })
    socket.once('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0
      reject(new Error(status === 401 || status === 403 ? `Jupyter at ${baseUrl} refused the token on the kernel's channels (HTTP ${status})` : `the kernel's channels answered HTTP ${status}`))
      socket.terminate()
    })
  })
}

export interface RunOptions {
  /** For the whole run: session, kernel start and every cell. Default 2 min. */
  timeoutMs?: number
  /** A kernel spec name; the server's default otherwise. */
  kernel?: string
  /** The notebook path the session is for. */
  path?: string
}

/** Races a step against a deadline; the error names the step it was on. */
export type Within = <T>(step: string, work: Promise<T>) => Promise<T>

/** One deadline `timeoutMs` from now for every step raced against it. */
export function deadline(timeoutMs: number): Within {
  const end = Date.now() + timeoutMs
  return (step, work) => {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`Jupyter run timed out after ${timeoutMs / 1000} s while ${step}`)), Math.max(0, end - Date.now()))
    })
    return Promise.race([work, expired]).finally(() => clearTimeout(timer))
  }
}

/** A started kernel: cells run one at a time on it, each timed, until it is closed. */
export interface Kernel {
  /** Runs one cell; `seconds` is from its execute_request sent to its reply and idle. `step` names it in a timeout. */
  run(code: string, step?: string): Promise<CellResult & { seconds: number }>
  /** Shuts the kernel down (ends its session). */
  close(): Promise<void>
}

/**
 * Starts a kernel in a new session and waits until it answers (its start-up files have run by then:
 * `spark` is ready on the PySpark kernel). Every step, the cells' included, is raced against `within`.
 */
export async function startKernel(baseUrl: string, token: string, options: RunOptions = {}, within: Within = deadline(options.timeoutMs ?? 120_000)): Promise<Kernel> {
  const { name } = await within('asking for the kernel specs', kernelSpec(baseUrl, token, options.kernel))
  const path = options.path ?? `e2e-${randomUUID().slice(0, 8)}.ipynb`
  const session = await within(`starting a "${name}" kernel`, api<{ id: string; kernel: { id: string } }>(baseUrl, token, 'POST', 'api/sessions', { path, name: path, type: 'notebook', kernel: { name } }))
  let socket: WebSocket | undefined
  const close = async () => {
    socket?.terminate()
    await api(baseUrl, token, 'DELETE', `api/sessions/${session.id}`)
  }
  try {
    const channels = new KernelChannels((frame) => socket?.send(frame))
    socket = await within("connecting to the kernel's channels", openChannels(baseUrl, token, session.kernel.id, channels))
    await within('waiting for the kernel to answer', channels.request('kernel_info_request', {}))
    return {
      async run(code, step = 'running a cell') {
        const started = performance.now()
        const { reply, outputs } = await within(step, channels.request('execute_request', { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false }))
        return { ...cellResult(reply, outputs), seconds: (performance.now() - started) / 1000 }
      },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

/**
 * Runs `cells` in order on a new kernel and returns one result per cell, then shuts the kernel down.
 * A cell that raises is an `error` result and the later cells still run (on the same kernel, so
 * they see what ran before): a test sees every cell's outcome, not only the first failure.
 */
export async function runCells(baseUrl: string, token: string, cells: string[], options: RunOptions = {}): Promise<CellResult[]> {
  const kernel = await startKernel(baseUrl, token, options)
  try {
    const results: CellResult[] = []
    for (const [index, code] of cells.entries()) {
      results.push(await kernel.run(code, `running cell ${index + 1} of ${cells.length}`))
    }
    return results
  } finally {
    await kernel.close()
  }
}

/** An nbformat 4 notebook of these cells, with their outputs when `results` are given. */
export function notebookOf(cells: string[], results: CellResult[] = [], kernelspec?: { name: string; displayName: string }): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: kernelspec ? { kernelspec: { name: kernelspec.name, display_name: kernelspec.displayName } } : {},
    cells: cells.map((source, index) => ({
      cell_type: 'code',
      id: `cell-${index + 1}`,
      metadata: {},
      source,
      execution_count: results[index]?.executionCount ?? null,
      outputs: results[index]?.outputs ?? [],
    })),
  }
}

const contentsPath = (path: string) => `api/contents/${path.split('/').map(encodeURIComponent).join('/')}`

/** Writes `notebook` at `path` (relative to the server's root) through the contents API. */
export async function saveNotebook(baseUrl: string, token: string, path: string, notebook: Notebook): Promise<void> {
  await api(baseUrl, token, 'PUT', contentsPath(path), { type: 'notebook', format: 'json', content: notebook })
}

/** The notebook at `path`, as the server reads it back. */
export async function readNotebook(baseUrl: string, token: string, path: string): Promise<Notebook> {
  return (await api<{ content: Notebook }>(baseUrl, token, 'GET', `${contentsPath(path)}?type=notebook&content=1`)).content
}

/** The paths of the notebooks in folder `dir` ('' for the server's root). */
export async function listNotebooks(baseUrl: string, token: string, dir = ''): Promise<string[]> {
  const listing = await api<{ content: { type: string; path: string }[] }>(baseUrl, token, 'GET', `${contentsPath(dir)}?content=1`)
  return listing.content.filter((entry) => entry.type === 'notebook').map((entry) => entry.path)
}

/** Shuts down the kernels of the sessions open on the notebook at `path` (what a browser left running). */
export async function closeSessionsOf(baseUrl: string, token: string, path: string): Promise<void> {
  const sessions = await api<{ id: string; path: string }[]>(baseUrl, token, 'GET', 'api/sessions')
  for (const session of sessions.filter((s) => s.path === path)) await api(baseUrl, token, 'DELETE', `api/sessions/${session.id}`)
}

/** Removes the file at `path`. */
export async function deleteFile(baseUrl: string, token: string, path: string): Promise<void> {
  await api(baseUrl, token, 'DELETE', contentsPath(path))
}
