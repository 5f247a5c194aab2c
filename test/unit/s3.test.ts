// S3 for s3a:// paths: the flags' accepted forms, where the keys come from (environment, a given
// credentials file, ~/.aws/credentials), the conf lines they become in the cluster's secret, and a
// later cluster:up without the flag dropping them; never a key in an error or a message.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../scripts/lib/config.ts'
import { plannedAuthConf, s3EndpointOf, sparkAuthConf } from '../../scripts/lib/cluster-secret.ts'
import { UsageError } from '../../scripts/lib/errors.ts'
import { loadManifests } from '../../scripts/lib/manifests.ts'
import { parseProperties } from '../../scripts/lib/properties.ts'
import { describeS3, s3ConfLines, s3Settings, s3aReleases } from '../../scripts/lib/s3.ts'

const manifests = loadManifests()
const dir = mkdtempSync(join(tmpdir(), 's3-unit-'))
const noFile = { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') }
const keys = { ...noFile, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const up = (argv: string[], env: NodeJS.ProcessEnv) => parseConfig('up', argv, env, manifests)
const usage = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error('no UsageError')
}

describe('cluster:up --s3-endpoint', () => {
  it('takes the keys from the environment, signs for us-east-1 and puts the bucket in the path of a non-AWS server', () => {
    const config = up(['--s3-endpoint', 'http://10.0.0.5:7070/'], keys)
    expect(config.s3).toEqual({
      endpoint: 'http://10.0.0.5:7070', region: 'us-east-1', pathStyle: true,
      accessKey: 'AKIDEXAMPLE', secretKey: keys.AWS_SECRET_ACCESS_KEY, from: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    })
    expect(describeS3(config.s3!)).not.toContain(keys.AWS_SECRET_ACCESS_KEY)
    expect(describeS3(config.s3!)).not.toContain('AKIDEXAMPLE')
  })

  it("reads an AWS endpoint's region and keeps its bucket in the host name; --s3-region wins", () => {
    expect(up(['--s3-endpoint', 'https://s3.eu-west-1.amazonaws.com'], keys).s3).toMatchObject({ region: 'eu-west-1', pathStyle: false })
    expect(up(['--s3-endpoint', 'https://s3.eu-west-1.amazonaws.com', '--s3-region', 'eu-west-2'], keys).s3).toMatchObject({ region: 'eu-west-2' })
  })

  it('reads a credentials file (given, or the AWS CLI default) in the [default] profile or AWS_PROFILE, session token included', () => {
    const file = join(dir, 'credentials')
    writeFileSync(file, '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n\n[ci]\naws_access_key_id=AKIDCI\naws_secret_access_key=cisecret\naws_session_token=citoken\n')
    expect(up(['--s3-endpoint', 'http://s3:9000', '--s3-credentials', file], keys).s3).toMatchObject({ accessKey: 'AKIDFILE', secretKey: 'filesecret', from: `${file} [default]` })
    expect(up(['--s3-endpoint', 'http://s3:9000'], { AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'ci' }).s3).toMatchObject({ accessKey: 'AKIDCI', sessionToken: 'citoken' })
  })

  it('refuses in one line a bad endpoint, a missing or keyless credentials file, no keys at all, and a stray S3 flag; never echoing a key', () => {
    for (const bad of ['minio:9000', 'ftp://s3:21', 'http://s3:9000/bucket', 'http://s3:9000?x=1']) {
      expect(usage(() => up(['--s3-endpoint', bad], keys))).toBe(`--s3-endpoint must be an http:// or https:// URL of host[:port], like http://localhost:9000 or https://s3.eu-west-1.amazonaws.com (got "${bad}")`)
    }
    // A password in the URL is not echoed; a newline (which the URL parser drops) never reaches the conf.
    expect(usage(() => up(['--s3-endpoint', 'http://user:pw@s3:9000'], keys))).toContain('(got "http://…@s3:9000")')
    expect(usage(() => up(['--s3-endpoint', 'http://s3:9000\nspark.authenticate=false'], keys))).toContain('(got "http://s3:9000?spark.authenticate=false")')
    expect(usage(() => up(['--s3-endpoint', 'http://s3\t:9000'], keys))).toMatch(/^--s3-endpoint must be/)
    expect(up(['--s3-endpoint', 'HTTP://S3.Example:9000'], keys).s3?.endpoint).toBe('http://s3.example:9000')
    expect(up(['--s3-endpoint', 'http://s3:9000', '--s3-region', 'garage'], keys).s3?.region).toBe('garage')
    expect(usage(() => up(['--s3-endpoint', 'http://s3:9000', '--s3-credentials', join(dir, 'nope')], keys))).toMatch(/^--s3-credentials must be a readable AWS credentials file \(got ".*nope": ENOENT\)$/)
    const empty = join(dir, 'empty')
    writeFileSync(empty, '[other]\naws_access_key_id = x\n')
    expect(usage(() => up(['--s3-endpoint', 'http://s3:9000', '--s3-credentials', empty], keys))).toBe(`--s3-credentials: ${empty} has no [default] profile with aws_access_key_id and aws_secret_access_key`)
    expect(usage(() => up(['--s3-endpoint', 'http://s3:9000'], noFile))).toMatch(/^--s3-endpoint needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --s3-credentials/)
    const spaced = usage(() => up(['--s3-endpoint', 'http://s3:9000'], { ...keys, AWS_SECRET_ACCESS_KEY: ' leading' }))
    expect(spaced).toBe('the secret key from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is empty, starts or ends with a space, or holds a control character')
    // Spark trims blanks off a value's ends; a line break or tab is no part of a key.
    for (const secret of ['trailing ', 'line\nspark.authenticate=false', 'tab\there', 'bell\x07']) {
      const refused = usage(() => up(['--s3-endpoint', 'http://s3:9000'], { ...keys, AWS_SECRET_ACCESS_KEY: secret }))
      expect(refused).toMatch(/is empty, starts or ends with a space, or holds a control character$/)
      expect(refused).not.toContain(secret.trim())
    }
    expect(usage(() => up(['--s3-region', 'eu-west-1'], keys))).toBe('--s3-region goes with --s3-endpoint URL (the S3-compatible server s3a:// paths go to)')
    expect(usage(() => up(['--s3-endpoint', 'http://s3:9000', '--s3-region', 'EU'], keys))).toBe('--s3-region must be a region name like us-east-1, eu-west-1 or garage (got "EU")')
  })

  // A password with `/`, `?` or `#` ends what a URL parser takes for the host; one with `@` hides the real one.
  it.each([
    ['http://user:pa/ss@host:9000', 'http://…@host:9000'],
    ['http://user:pa?ss@host:9000', 'http://…@host:9000'],
    ['http://user:pa#ss@host:9000', 'http://…@host:9000'],
    ['http://user:p@ss@host:9000', 'http://…@host:9000'],
    ['http://user:pa%2Fss@host:9000', 'http://…@host:9000'],
    ['https://AKIDUSER:wJalr/K7MDENG+bPx@s3.example.com/bucket', 'https://…@s3.example.com/bucket'],
    ['http://pa/ss@host', 'http://…@host'],
    ['user:pa/ss@host:9000', '…@host:9000'],
    ['http://user:pa/ss@host:9000/x?y#z', 'http://…@host:9000/x?y#z'],
  ])('never shows the user and password of %s, from the flag or its variable', (raw, shown) => {
    const form = 'must be an http:// or https:// URL of host[:port], like http://localhost:9000 or https://s3.eu-west-1.amazonaws.com'
    expect(usage(() => up(['--s3-endpoint', raw], keys))).toBe(`--s3-endpoint ${form} (got "${shown}")`)
    expect(usage(() => up([], { ...keys, SPARK_K8S_S3_ENDPOINT: raw }))).toBe(`SPARK_K8S_S3_ENDPOINT (--s3-endpoint) ${form} (got "${shown}")`)
    // status (its lines and --json) shows the endpoint of a conf someone wrote by hand the same way.
    expect(s3EndpointOf(`${sparkAuthConf()}spark.hadoop.fs.s3a.endpoint ${raw}\n`)).toBe(shown)
  })

  it('is refused for a Spark release whose image has no S3A pinned', () => {
    expect(s3aReleases()).toContain('4.3.0')
    expect(usage(() => up(['--s3-endpoint', 'http://s3:9000', '--spark-version', '3.5.9'], keys))).toMatch(/^--s3-endpoint needs an image with S3A, which docker\/s3a-lock\/ pins for Spark .*4\.3\.0.*, not 3\.5\.9: pass --spark-version 4\.3\.0$/)
    expect(() => s3Settings({ endpoint: 'http://s3:9000', sparkVersion: '4.3.0' }, keys, () => [])).toThrow(/pins for Spark \(none\)/)
  })

  it('reads nothing without the flag: up with no S3 needs no keys', () => {
    expect(up([], noFile).s3).toBeUndefined()
  })
})

describe("the S3 lines of the cluster's conf", () => {
  const s3 = up(['--s3-endpoint', 'http://10.0.0.5:7070'], { ...keys, AWS_SESSION_TOKEN: 'tok' }).s3!

  it('are spark.hadoop.fs.s3a.* after the RPC settings: endpoint, region, path style, TLS off for http, the keys and the token', () => {
    expect(s3ConfLines(s3)).toEqual([
      'spark.hadoop.fs.s3a.endpoint http://10.0.0.5:7070',
      'spark.hadoop.fs.s3a.endpoint.region us-east-1',
      'spark.hadoop.fs.s3a.path.style.access true',
      'spark.hadoop.fs.s3a.connection.ssl.enabled false',
      'spark.hadoop.fs.s3a.access.key AKIDEXAMPLE',
      `spark.hadoop.fs.s3a.secret.key ${keys.AWS_SECRET_ACCESS_KEY}`,
      'spark.hadoop.fs.s3a.session.token tok',
    ])
    const conf = sparkAuthConf({ uiKill: false, workerCores: 1, s3 })
    expect(s3EndpointOf(conf)).toBe('http://10.0.0.5:7070')
    expect(s3EndpointOf(sparkAuthConf())).toBeUndefined()
  })

  // Properties.load takes one `:` or `=` after the key for the separator, and reads a backslash as an escape.
  it.each([':abc', '=abc', '::=', '#x', '!x', 'a\\b', 'ends\\', 'a\\nb', '\\u0041', 'two words', 'x=y:z', 'é'])(
    'writes a key like %j so that Java reads it back whole',
    (secret) => {
      const s3 = up(['--s3-endpoint', 'http://s3:9000'], { ...keys, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: secret }).s3!
      const read = parseProperties(sparkAuthConf({ uiKill: false, workerCores: 1, s3 }))
      const valueOf = (key: string) => read.filter((line) => line.key === key).map((line) => line.value)
      expect(valueOf('spark.hadoop.fs.s3a.secret.key')).toEqual([secret])
      expect(valueOf('spark.hadoop.fs.s3a.session.token')).toEqual([secret])
      expect(valueOf('spark.hadoop.fs.s3a.access.key')).toEqual(['AKIDEXAMPLE'])
    },
  )

  it('are added to a live conf (the secret kept) and dropped by a later up without --s3-endpoint; a user line stays', () => {
    const live = `${sparkAuthConf({ uiKill: false, workerCores: 1 })}spark.sql.shuffle.partitions 4\n`
    const withS3 = plannedAuthConf({ conf: live }, { uiKill: false, workerCores: 1, s3 })
    expect(withS3.change).toEqual({ kind: 'updated' })
    expect(withS3.conf).toContain(`spark.hadoop.fs.s3a.secret.key ${keys.AWS_SECRET_ACCESS_KEY}`)
    expect(plannedAuthConf({ conf: withS3.conf }, { uiKill: false, workerCores: 1, s3 }).change).toBeUndefined()
    const without = plannedAuthConf({ conf: withS3.conf }, { uiKill: false, workerCores: 1 })
    expect(without.change).toEqual({ kind: 'updated' })
    expect(without.conf).not.toContain('fs.s3a')
    expect(without.conf).toContain('spark.sql.shuffle.partitions 4')
    expect(without.conf.split('\n')[1]).toBe(live.split('\n')[1])
  })
})
