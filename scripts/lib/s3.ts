// S3-compatible storage for s3a:// paths: `cluster:up --s3-endpoint URL` with credentials from the
// environment or an AWS credentials file. They become spark.hadoop.fs.s3a.* lines of the cluster's
// spark-defaults.conf, in the spark-auth Secret (a volume on Docker) beside the RPC secret, so they
// reach every driver and executor without entering a pod spec, `docker inspect`, a command line or
// a log. Spark redacts their values in its UIs and event logs (spark.redaction.regex).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { UsageError } from './errors.ts'
import { dockerDir } from './paths.ts'
import { propertyLine } from './properties.ts'

export interface S3Settings {
  /** http(s)://host[:port], as given. */
  endpoint: string
  /** The region requests are signed for. */
  region: string
  /** Bucket in the path (S3-compatible servers) rather than in the host name (AWS). */
  pathStyle: boolean
  accessKey: string
  secretKey: string
  sessionToken?: string
  /** Where the credentials came from, for messages: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", "~/.aws/credentials [default]". */
  from: string
}

const endpointForm = 'an http:// or https:// URL of host[:port], like http://localhost:9000 or https://s3.eu-west-1.amazonaws.com'

/**
 * An endpoint as any message may show it: everything before its last `@` after the scheme (a user
 * and password, which may hold `/`, `?`, `#`, `@` or `%` and so fool a URL parser) becomes "…".
 */
export function shownEndpoint(raw: string): string {
  const at = raw.lastIndexOf('@')
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw)?.[0] ?? ''
  return at < scheme.length ? raw : `${scheme}…${raw.slice(at)}`
}

export function parseS3Endpoint(raw: string, flag: string): string {
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {
    url = undefined
  }
  const plain = url && /^https?:$/.test(url.protocol) && !url.username && !url.password && url.pathname === '/' && !url.search && !url.hash
  // The URL parser drops tabs and newlines, which would start a line of the cluster's conf: refused.
  if (!url || !plain || !/^https?:\/\/[^/?#@\s\\]+\/?$/i.test(raw)) {
    throw new UsageError(`${flag} must be ${endpointForm} (got "${shownEndpoint(raw).replace(/[\x00-\x1f]/g, '?')}")`)
  }
  return `${url.protocol}//${url.host}`
}

/** An AWS credentials file, read when the flag is parsed so that a missing one is bad input. */
export function parseS3CredentialsFile(raw: string, flag: string): string {
  const path = resolve(raw)
  try {
    readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`${flag} must be a readable AWS credentials file (got "${raw}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  return path
}

export const parseS3Region = (raw: string, flag: string): string => {
  // AWS's names, and the ones S3-compatible servers use (garage, default, a MinIO region of yours).
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(raw)) throw new UsageError(`${flag} must be a region name like us-east-1, eu-west-1 or garage (got "${raw}")`)
  return raw
}

/** The AWS credentials file's path: given, or the AWS CLI's own (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials). */
function credentialsFile(given: string | undefined, env: NodeJS.ProcessEnv): { path: string; given: boolean } | undefined {
  if (given) return { path: given, given: true }
  const path = env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials')
  return existsSync(path) ? { path, given: false } : undefined
}

/** One profile of an AWS credentials file (INI: [profile] then key = value lines). */
function profileOf(text: string, profile: string): Record<string, string> | undefined {
  let current: string | undefined
  const found: Record<string, string> = {}
  let seen = false
  for (const line of text.split(/\r?\n/)) {
    const section = /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(line)
    if (section) {
      current = section[1]
      seen ||= current === profile
      continue
    }
    const pair = /^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (pair && current === profile) found[pair[1].toLowerCase()] = pair[2]
  }
  return seen ? found : undefined
}

/**
 * An S3 key or token that reaches Spark whole through its conf: propertyLine escapes what Java's
 * Properties would misread (a leading `:` or `=`, a backslash), but Spark trims blanks off both ends
 * of every value, and a control character has no business in a key. Never echoed: it may be the secret.
 */
function checkedValue(value: string, what: string, from: string): string {
  if (value === '' || /[\x00-\x1f\x7f]|^ | $/.test(value)) {
    throw new UsageError(`the ${what} from ${from} is empty, starts or ends with a space, or holds a control character`)
  }
  return value
}

const keyNames = 'aws_access_key_id and aws_secret_access_key'

function readCredentials(fileFlag: string | undefined, env: NodeJS.ProcessEnv): Pick<S3Settings, 'accessKey' | 'secretKey' | 'sessionToken' | 'from'> {
  const profile = env.AWS_PROFILE || 'default'
  const file = fileFlag ? credentialsFile(fileFlag, env) : undefined
  if (!file && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const from = 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'
    const token = env.AWS_SESSION_TOKEN ? { sessionToken: checkedValue(env.AWS_SESSION_TOKEN, 'session token', 'AWS_SESSION_TOKEN') } : {}
    return { accessKey: checkedValue(env.AWS_ACCESS_KEY_ID, 'access key', from), secretKey: checkedValue(env.AWS_SECRET_ACCESS_KEY, 'secret key', from), ...token, from }
  }
  const source = file ?? credentialsFile(undefined, env)
  if (!source) {
    throw new UsageError(`--s3-endpoint needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --s3-credentials with an AWS credentials file (${keyNames} under [${profile}])`)
  }
  let text: string
  try {
    text = readFileSync(source.path, 'utf8')
  } catch (error) {
    throw new UsageError(`--s3-credentials: cannot read "${source.path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  const from = `${source.path} [${profile}]`
  const values = profileOf(text, profile)
  if (!values?.aws_access_key_id || !values.aws_secret_access_key) {
    throw new UsageError(`${source.given ? '--s3-credentials: ' : '--s3-endpoint: '}${source.path} has no [${profile}] profile with ${keyNames}${source.given ? '' : ' (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)'}`)
  }
  const token = values.aws_session_token ? { sessionToken: checkedValue(values.aws_session_token, 'session token', from) } : {}
  return { accessKey: checkedValue(values.aws_access_key_id, 'access key', from), secretKey: checkedValue(values.aws_secret_access_key, 'secret key', from), ...token, from }
}

/** AWS's own endpoints sign for the region in their name and take the bucket in the host. */
const awsRegionOf = (endpoint: string) => /^https?:\/\/s3[.-]([a-z0-9-]+)\.amazonaws\.com(:\d+)?$/.exec(endpoint)?.[1]
const isAws = (endpoint: string) => /\.amazonaws\.com(:\d+)?$/.test(endpoint)

/** The Spark releases whose image carries S3A: the ones docker/s3a-lock/ pins jars for. */
export function s3aReleases(dir: string = dockerDir): string[] {
  const lock = join(dir, 's3a-lock')
  if (!existsSync(lock)) return []
  return readdirSync(lock).map((name) => /^spark-(\d+\.\d+\.\d+)\.txt$/.exec(name)?.[1]).filter((v): v is string => Boolean(v)).sort()
}

/**
 * The cluster's S3 settings from `cluster:up`'s flags and this machine's credentials; undefined
 * without --s3-endpoint (the cluster's conf then holds none).
 */
export function s3Settings(
  options: { endpoint?: string; region?: string; credentials?: string; sparkVersion: string },
  env: NodeJS.ProcessEnv = process.env,
  releases: () => string[] = s3aReleases,
): S3Settings | undefined {
  if (!options.endpoint) {
    const stray = options.region ? '--s3-region' : options.credentials ? '--s3-credentials' : undefined
    if (stray) throw new UsageError(`${stray} goes with --s3-endpoint URL (the S3-compatible server s3a:// paths go to)`)
    return undefined
  }
  const offered = releases()
  if (!offered.includes(options.sparkVersion)) {
    throw new UsageError(`--s3-endpoint needs an image with S3A, which docker/s3a-lock/ pins for Spark ${offered.join(', ') || '(none)'}, not ${options.sparkVersion}: pass --spark-version ${offered.at(-1) ?? '4.3.0'}`)
  }
  const region = options.region ?? awsRegionOf(options.endpoint) ?? 'us-east-1'
  return { endpoint: options.endpoint, region, pathStyle: !isAws(options.endpoint), ...readCredentials(options.credentials, env) }
}

const prefix = 'spark.hadoop.fs.s3a.'
export const s3EndpointKey = `${prefix}endpoint`
/** Every key s3ConfLines may write: a live conf's lines for them are the tool's to set or remove. */
export const s3ConfKeys = ['endpoint', 'endpoint.region', 'path.style.access', 'connection.ssl.enabled', 'access.key', 'secret.key', 'session.token'].map((key) => prefix + key)

/** The spark-defaults.conf lines for these settings (none without S3). */
export function s3ConfLines(s3: S3Settings | undefined): string[] {
  if (!s3) return []
  const lines: Array<[string, string]> = [
    [s3EndpointKey, s3.endpoint],
    [`${prefix}endpoint.region`, s3.region],
    [`${prefix}path.style.access`, String(s3.pathStyle)],
    [`${prefix}connection.ssl.enabled`, String(s3.endpoint.startsWith('https:'))],
    [`${prefix}access.key`, s3.accessKey],
    [`${prefix}secret.key`, s3.secretKey],
    ...(s3.sessionToken ? [[`${prefix}session.token`, s3.sessionToken] as [string, string]] : []),
  ]
  return lines.map(([key, value]) => propertyLine(key, value))
}

/** For cluster:up: where s3a:// paths go and where the keys are, never the keys. */
export function describeS3(s3: S3Settings): string {
  return `s3a:// paths go to ${s3.endpoint} (${s3.region}; keys from ${s3.from}, kept in the cluster's spark-auth secret)`
}
