#!/usr/bin/env -S npx tsx
// README step "python test.py", done the Spark 4 way: the driver (a Spark Connect server) runs in the
// cluster, and your laptop's Python talks to it over gRPC with the thin pyspark-client: no Java on
// the laptop, and no executors trying to reach back to it.
import { clusterDrivers, sparkVersionOf } from './lib/cluster-image.ts'
import { connectTokenOf } from './lib/cluster-secret.ts'
import { tokenConfProblem } from './lib/server.ts'
import { parseConfig, type Config } from './lib/config.ts'
import { connectServer } from './lib/connect-server.ts'
import { StepError } from './lib/errors.ts'
import { installInterruptHandler } from './lib/interrupt.ts'
import { runIfMain } from './lib/main.ts'
import type { Forwarding } from './lib/master-ui.ts'
import { serveUntilStopped } from './lib/serve.ts'
import { describeOutcome, type StepOutcome } from './lib/outcome.ts'
import { resolvePlatform } from './lib/platform.ts'
import { clientRequirement } from './lib/python-client.ts'
import { hostPythonVersion } from './lib/host-python.ts'
import { imagePythons, pythonVersionOf } from './lib/python-version.ts'
import { makeTarget, type Target } from './lib/target.ts'

/** What a client needs, as printed and as --json returns it. */
export interface ConnectInfo {
  /** sc://localhost:<port> */
  url: string
  /** The URL with the token: what SparkSession.builder.remote() takes. */
  connectionString: string
  sparkVersion?: string
  /** The pip requirement of the matching client. */
  clientPackage: string
  /** The executors' Python minor version, which the client's must be (undefined: an image the tool did not build). */
  python?: string
  snippet: string[]
  via: string
}

/** Spark 3.5's Connect server has no authentication at all: not started, rather than open (undefined: this image's can require a token). */
export function connectImageProblem(image: string): StepError | undefined {
  const version = sparkVersionOf(image)
  if (!version || Number(version.split('.')[0]) >= 4) return undefined
  return new StepError(`this cluster runs Spark ${version}, whose Spark Connect server cannot require a token`, '  - Spark Connect here needs Spark 4: npm run cluster:up -- --spark-version 4.x (or use npm run submit / shell)')
}

/**
 * Why the server may not start on the cluster's conf (undefined: it may): Spark only demands a
 * token when one is configured, so without it the server would be open to anyone who reaches it.
 */
export function connectConfProblem(conf: string | undefined): StepError | undefined {
  return tokenConfProblem(conf, connectTokenOf, { server: 'the server', lacks: 'Spark Connect and holds no client token', kept: 'the RPC secret stays', command: 'connect' })
}

/** Starts (or keeps) the server on the cluster's image, once the cluster's conf is known to hold the client token. */
export async function applyConnect(target: Target): Promise<{ image: string; token: string; outcome: StepOutcome }> {
  const { image, storage } = await clusterDrivers(target)
  const refused = connectImageProblem(image)
  if (refused) throw refused
  requireSamePython(pythonVersionOf(image), target.config.python ?? hostPythonVersion(), sparkVersionOf(image))
  const server = connectServer(target)
  const conf = await server.authConf(image)
  const problem = connectConfProblem(conf)
  if (problem) throw problem
  return { image, token: connectTokenOf(conf!)!, outcome: await server.apply(server.render(image, conf!, storage)) }
}

/**
 * A Python UDF pickled on one minor version fails on executors of another with a Python-worker
 * stack trace deep in the first query that uses one: refused here instead, before anything starts.
 * Unknown on either side (no python3 here, an image the tool did not build): not refused.
 */
export function requireSamePython(cluster: string | undefined, client: string | undefined, sparkVersion = '4.0.0'): void {
  if (!cluster || !client || cluster === client) return
  const offered = imagePythons(sparkVersion)
  const rebuild = offered.includes(client)
    ? `  - npm run cluster:up -- --python ${client} (with your other build flags: --pip, --packages…) rebuilds the image with Python ${client} and rolls the cluster, then npm run connect`
    : `  - images offer Python ${offered.join(', ')}: run your client on one of them, and cluster:up -- --python <it>`
  throw new StepError(
    `your client's Python is ${client} but the cluster's executors run Python ${cluster}, so its Python UDFs would fail (PYTHON_VERSION_MISMATCH)`,
    [rebuild, `  - or use a Python ${cluster} client: npm run connect -- --python ${cluster}`].join('\n'),
  )
}

/**
 * The client only sends its token over plain gRPC to the host name `localhost` (anything else
 * turns TLS on), so the string always names localhost: that is where the forward listens.
 */
export function connectInfo(forwarding: Forwarding, token: string, image: string, clientPackage: string): ConnectInfo {
  const connectionString = `${forwarding.url}/;token=${token}`
  return {
    url: forwarding.url,
    connectionString,
    sparkVersion: sparkVersionOf(image),
    clientPackage,
    python: pythonVersionOf(image),
    snippet: ['from pyspark.sql import SparkSession', `spark = SparkSession.builder.remote("${connectionString}").getOrCreate()`, 'spark.range(10).count()'],
    via: forwarding.how,
  }
}

/** Makes the server reachable from this machine, and says how to connect. */
export async function reachConnect(target: Target, image: string, token: string, port: number | undefined): Promise<{ info: ConnectInfo; forwarding: Forwarding }> {
  const forwarding = await connectServer(target).reach(port)
  return { info: connectInfo(forwarding, token, image, await clientRequirement(sparkVersionOf(image))), forwarding }
}

export function formatConnect(info: ConnectInfo, keepsRunning: boolean): string {
  return [
    `Spark Connect: ${info.connectionString}`,
    `  (${info.via}${keepsRunning ? '; Ctrl-C stops it' : ''})`,
    '',
    `From Python${info.python ? ` ${info.python}, the executors' version,` : ''} on this machine (no Java needed):`,
    `  pip install "${info.clientPackage}"`,
    ...info.snippet.map((line) => `  ${line}`),
  ].join('\n')
}

/** Prints how to connect, then serves the forward (if any) until stopped (see serveUntilStopped). */
export async function serveConnect(target: Target, image: string, token: string, config: Pick<Config, 'port' | 'json'>): Promise<number> {
  const { info, forwarding } = await reachConnect(target, image, token, config.port)
  console.log(config.json ? JSON.stringify({ ok: true, command: 'connect', platform: target.platform, ...info }) : formatConnect(info, forwarding.keepsRunning))
  return serveUntilStopped(forwarding)
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('connect', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  const target = makeTarget(config, platform)
  installInterruptHandler()
  const { image, token, outcome } = await applyConnect(target)
  console.error(describeOutcome(outcome))
  console.error(await connectServer(target).waitReady((line) => console.error(line)))
  process.exitCode = await serveConnect(target, image, token, config)
})
