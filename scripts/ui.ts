#!/usr/bin/env -S npx tsx
// README "open http://<minikube ip>:30001 in your browser", made to work wherever kubectl works: the
// master UI served on http://localhost:<port> (a port-forward through the API server on Kubernetes,
// the loopback port Docker publishes) until Ctrl-C. Worker and application UIs open through it too:
// the master runs with spark.ui.reverseProxy=true.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, type Config } from './lib/config.ts'
import { errorMessage, StepError } from './lib/errors.ts'
import { runIfMain } from './lib/main.ts'
import { masterUi, type Forwarding } from './lib/master-ui.ts'
import { forwardWithFallback, serveUntilStopped } from './lib/serve.ts'
import { resolvePlatform } from './lib/platform.ts'
import { run } from './lib/proc.ts'
import { makeTarget, type Target } from './lib/target.ts'

const defaultPort = 8080

/** Starts serving the UI locally, once the master has answered through the same path. */
export async function serveUi(target: Target, port: number | undefined): Promise<Forwarding> {
  const ui = masterUi(target)
  await ui.readState().catch((error: unknown) => {
    throw new StepError(`the Spark master UI does not answer ${ui.via}: ${errorMessage(error)}; run \`npm run cluster:up\` first`)
  })
  return forwardWithFallback((localPort) => ui.forward(localPort), port, defaultPort)
}

/**
 * A URL that carries a secret (JupyterLab's token) goes on no command line, where `ps` shows it to
 * every user of the machine: the browser opens a file only this user can read, which forwards to it.
 */
async function privateRedirect(url: string): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'spark-standalone-k8s-')), 'open.html')
  const attribute = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
  writeFileSync(file, `<!doctype html><meta http-equiv="refresh" content="0;url=${attribute}">\n`, { mode: 0o600 })
  // The Windows browser of WSL reads the file through its Windows path.
  return process.env.WSL_DISTRO_NAME ? (await run`wslpath -w ${file}`).stdout.trim() : file
}

/** The desktop's own "open this URL"; on WSL the Windows browser. A failure only warns: the URL is printed anyway. */
export async function openInBrowser(url: string, options: { secret?: boolean } = {}): Promise<void> {
  const opened = options.secret ? await privateRedirect(url) : url
  const opener =
    process.platform === 'darwin' ? ['open', opened]
    : process.platform === 'win32' ? ['cmd', '/c', 'start', '""', opened]
    : process.env.WSL_DISTRO_NAME ? ['cmd.exe', '/c', 'start', '""', opened]
    : ['xdg-open', opened]
  const result = await run({ nothrow: true, timeout: 10_000 })`${opener}`
  if (result.exitCode !== 0) console.error(`warning: could not open a browser (${opener[0]} exited ${result.exitCode}); open ${url} yourself`)
}

/** Prints where the UI is, then serves it until stopped (see serveUntilStopped). */
export async function runUi(target: Target, config: Pick<Config, 'port' | 'open' | 'json'>): Promise<number> {
  const forwarding = await serveUi(target, config.port)
  if (config.json) console.log(JSON.stringify({ ok: true, command: 'ui', platform: target.platform, url: forwarding.url, via: forwarding.how }))
  else console.log(`Spark master UI: ${forwarding.url}  (${forwarding.how})`)
  if (config.open) await openInBrowser(forwarding.url)
  return serveUntilStopped(forwarding)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('ui', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  process.exitCode = await runUi(makeTarget(config, platform), config)
})
