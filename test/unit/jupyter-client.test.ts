// The message side of the e2e tests' Jupyter client (test/e2e/jupyter.ts) on a fake socket; the real
// server is the e2e suites' business.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { cellResult, KernelChannels, notebookOf, parseLabUrl, runCells, startKernel } from '../e2e/jupyter.ts'

/** Channels whose sent frames are kept, and a kernel side that answers a request by its msg_id. */
function fakeKernel() {
  const sent: { header: { msg_id: string; msg_type: string; session: string; version: string }; content: Record<string, unknown>; channel: string }[] = []
  const channels = new KernelChannels((frame) => sent.push(JSON.parse(frame)))
  const answer = (parent: string, channel: string, msgType: string, content: Record<string, unknown>) =>
    channels.receive(JSON.stringify({ header: { msg_id: `${msgType}-${Math.random()}`, msg_type: msgType }, parent_header: { msg_id: parent }, content, metadata: {}, channel }))
  return { channels, sent, answer }
}

describe('the kernel channels of the e2e Jupyter client', () => {
  it('sends a v5 execute_request on shell with the client session', () => {
    const { channels, sent } = fakeKernel()
    void channels.request('execute_request', { code: '6 * 7' })
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({ channel: 'shell', header: { msg_type: 'execute_request', session: channels.session, version: '5.3' }, content: { code: '6 * 7' } })
  })

  it('answers when both the shell reply and the iopub idle have come, in either order, with only its own outputs', async () => {
    const { channels, sent, answer } = fakeKernel()
    let settled = false
    const first = channels.request('execute_request', { code: 'print("hi")' }).then((done) => ((settled = true), done))
    const id = sent[0].header.msg_id
    answer(id, 'iopub', 'status', { execution_state: 'busy' })
    answer(id, 'iopub', 'stream', { name: 'stdout', text: 'hi\n' })
    answer('someone-else', 'iopub', 'stream', { name: 'stdout', text: 'not ours\n' })
    answer(id, 'iopub', 'status', { execution_state: 'idle' })
    await Promise.resolve()
    expect(settled).toBe(false)
    answer(id, 'shell', 'execute_reply', { status: 'ok', execution_count: 1 })
    const { reply, outputs } = await first
    expect(reply.content).toEqual({ status: 'ok', execution_count: 1 })
    expect(outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'hi\n' }])

    // The reply first: iopub output may still follow it, up to idle.
    const second = channels.request('execute_request', { code: '1' })
    const next = sent[1].header.msg_id
    answer(next, 'shell', 'execute_reply', { status: 'ok', execution_count: 2 })
    answer(next, 'iopub', 'execute_result', { data: { 'text/plain': '1' }, execution_count: 2 })
    answer(next, 'iopub', 'status', { execution_state: 'idle' })
    const late = await second
    expect(late.reply.content.execution_count).toBe(2)
    expect(late.outputs).toEqual([{ output_type: 'execute_result', data: { 'text/plain': '1' }, metadata: {}, execution_count: 2 }])
  })

  it('rejects every waiting request when the channels fail', async () => {
    const { channels } = fakeKernel()
    const waiting = channels.request('kernel_info_request', {})
    channels.fail(new Error('closed'))
    await expect(waiting).rejects.toThrow('closed')
  })
})

describe('a cell result', () => {
  const reply = (content: Record<string, unknown>) => ({ header: { msg_id: 'r', msg_type: 'execute_reply' }, parent_header: {}, content, channel: 'shell' })

  it('has the printed text, the value as text/plain and no error when the cell is ok', () => {
    const outputs = [
      { output_type: 'stream', name: 'stdout', text: '4' },
      { output_type: 'stream', name: 'stderr', text: 'warn\n' },
      { output_type: 'stream', name: 'stdout', text: '2\n' },
      { output_type: 'execute_result', data: { 'text/plain': '42', 'text/html': '<b>42</b>' }, metadata: {}, execution_count: 3 },
    ]
    expect(cellResult(reply({ status: 'ok', execution_count: 3 }), outputs)).toEqual({ status: 'ok', stdout: '42\n', stderr: 'warn\n', result: '42', error: undefined, executionCount: 3, outputs })
  })

  it('is an error with `ename: evalue` when the cell raised', () => {
    const outputs = [{ output_type: 'error', ename: 'ValueError', evalue: 'boom', traceback: [] }]
    const result = cellResult(reply({ status: 'error', ename: 'ValueError', evalue: 'boom', execution_count: 4 }), outputs)
    expect(result).toMatchObject({ status: 'error', error: 'ValueError: boom', result: '', executionCount: 4 })
  })

  it('is an error when the kernel aborted it', () => {
    expect(cellResult(reply({ status: 'aborted' }), [])).toMatchObject({ status: 'error', error: 'execution aborted', executionCount: null })
  })
})

describe('lab URLs and notebooks', () => {
  it('splits a printed lab URL into the server base and token', () => {
    expect(parseLabUrl('http://localhost:8888/lab?token=abc')).toEqual({ baseUrl: 'http://localhost:8888/', token: 'abc' })
    expect(parseLabUrl('http://127.0.0.1:9000/jupyter/lab/tree/x.ipynb?token=t')).toEqual({ baseUrl: 'http://127.0.0.1:9000/jupyter/', token: 't' })
    expect(() => parseLabUrl('http://localhost:8888/lab')).toThrow('no ?token=')
  })

  it('writes nbformat 4.5 code cells with ids, their outputs and the kernel spec', () => {
    const outputs = [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }]
    const notebook = notebookOf(['print("hi")', 'x'], [{ status: 'ok', stdout: 'hi\n', stderr: '', result: '', executionCount: 1, outputs }], { name: 'pyspark', displayName: 'PySpark (cluster)' })
    expect(notebook).toEqual({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'pyspark', display_name: 'PySpark (cluster)' } },
      cells: [
        { cell_type: 'code', id: 'cell-1', metadata: {}, source: 'print("hi")', execution_count: 1, outputs },
        { cell_type: 'code', id: 'cell-2', metadata: {}, source: 'x', execution_count: null, outputs: [] },
      ],
    })
  })
})

/**
 * A stand-in Jupyter Server on loopback: kernel specs, sessions and a kernel's channels, behind a
 * token. Its kernel prints what a cell says after `print:`, raises on `raise`, never answers `hang`.
 */
async function fakeJupyter(token: string): Promise<{ baseUrl: string; requests: string[]; server: Server }> {
  const requests: string[] = []
  const authorized = (header: string | undefined) => header === `token ${token}`
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`)
    if (!authorized(request.headers.authorization)) return response.writeHead(403).end('{"message": "Forbidden"}')
    if (request.url === '/api/kernelspecs') return response.end(JSON.stringify({ default: 'python3', kernelspecs: { python3: { spec: { display_name: 'Python 3' } } } }))
    if (request.url === '/api/sessions' && request.method === 'POST') return response.writeHead(201).end(JSON.stringify({ id: 's1', kernel: { id: 'k1' } }))
    response.writeHead(request.method === 'DELETE' ? 204 : 404).end()
  })
  const sockets = new WebSocketServer({ noServer: true })
  server.on('upgrade', (request, socket, head) => {
    requests.push(`UPGRADE ${request.url}`)
    if (!authorized(request.headers.authorization)) return socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
    sockets.handleUpgrade(request, socket, head, (ws) =>
      ws.on('message', (data) => {
        const { header, content } = JSON.parse(data.toString())
        const send = (channel: string, msgType: string, body: Record<string, unknown>) =>
          ws.send(JSON.stringify({ channel, header: { msg_id: `${msgType}-${Math.random()}`, msg_type: msgType }, parent_header: header, content: body }))
        const code = String(content.code ?? '')
        if (code === 'hang') return
        if (code.startsWith('print:')) send('iopub', 'stream', { name: 'stdout', text: code.slice(6) })
        if (code === 'raise') send('iopub', 'error', { ename: 'ValueError', evalue: 'boom', traceback: [] })
        send('shell', header.msg_type.replace('_request', '_reply'), { status: code === 'raise' ? 'error' : 'ok', execution_count: 1 })
        send('iopub', 'status', { execution_state: 'idle' })
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests, server }
}

describe('runCells against a stand-in Jupyter Server', () => {
  let server: Server | undefined
  afterEach(() => {
    server?.closeAllConnections()
    server?.close()
  })

  it('runs every cell in order, past one that raises, with the token on REST and on the channels, then ends the session', async () => {
    const jupyter = await fakeJupyter('t0k')
    server = jupyter.server
    const results = await runCells(jupyter.baseUrl, 't0k', ['print:a\n', 'raise', 'print:b\n'], { path: 'x.ipynb' })
    expect(results.map((r) => [r.status, r.stdout, r.error])).toEqual([['ok', 'a\n', undefined], ['error', '', 'ValueError: boom'], ['ok', 'b\n', undefined]])
    expect(jupyter.requests).toEqual(['GET /api/kernelspecs', 'POST /api/sessions', expect.stringMatching(/^UPGRADE \/api\/kernels\/k1\/channels\?session_id=[0-9a-f-]{36}$/), 'DELETE /api/sessions/s1'])
  })

  it('says the token was refused', async () => {
    const jupyter = await fakeJupyter('t0k')
    server = jupyter.server
    await expect(runCells(jupyter.baseUrl, 'wrong', ['1'])).rejects.toThrow(`Jupyter at ${jupyter.baseUrl} refused the token (HTTP 403 on GET /api/kernelspecs)`)
  })

  it('names the cell it was running when the time is up, and still ends the session', async () => {
    const jupyter = await fakeJupyter('t0k')
    server = jupyter.server
    await expect(runCells(jupyter.baseUrl, 't0k', ['print:a', 'hang'], { timeoutMs: 500 })).rejects.toThrow('Jupyter run timed out after 0.5 s while running cell 2 of 2')
    expect(jupyter.requests.at(-1)).toBe('DELETE /api/sessions/s1')
  })

  it('starts a kernel that runs cells one at a time, each timed, until it is closed', async () => {
    const jupyter = await fakeJupyter('t0k')
    server = jupyter.server
    const kernel = await startKernel(jupyter.baseUrl, 't0k', { path: 'bench.ipynb', timeoutMs: 1_000 })
    expect(jupyter.requests).toEqual(['GET /api/kernelspecs', 'POST /api/sessions', expect.stringMatching(/^UPGRADE /)])
    const first = await kernel.run('print:a')
    expect(first).toMatchObject({ status: 'ok', stdout: 'a' })
    expect(first.seconds).toBeGreaterThan(0)
    expect(first.seconds).toBeLessThan(5)
    expect(await kernel.run('raise')).toMatchObject({ status: 'error', error: 'ValueError: boom' })
    await expect(kernel.run('hang', 'running the timed cell')).rejects.toThrow('Jupyter run timed out after 1 s while running the timed cell')
    await kernel.close()
    expect(jupyter.requests.at(-1)).toBe('DELETE /api/sessions/s1')
  })
})
