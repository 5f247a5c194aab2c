import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { commands, helpText, optionSpecs, parseConfig, type Command } from '../../scripts/lib/config.ts'
import { UsageError } from '../../scripts/lib/errors.ts'
import { loadManifests } from '../../scripts/lib/manifests.ts'

const manifests = loadManifests()
const parse = (command: Command, argv: string[], env: NodeJS.ProcessEnv = {}) => parseConfig(command, argv, env, manifests)

/** The UsageError parseConfig throws; fails the test when it returns instead. */
function usageError(command: Command, argv: string[], env: NodeJS.ProcessEnv = {}): UsageError {
  try {
    parse(command, argv, env)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return error as UsageError
  }
  throw new Error(`parseConfig(${command}, ${JSON.stringify(argv)}) accepted bad input`)
}

describe('parseConfig defaults', () => {
  it('takes workers, cores and memory from the worker manifest', () => {
    const config = parse('up', [])
    expect(config).toMatchObject({ command: 'up', workers: 2, workerCores: 1, workerMemory: '1g' })
  })

  it('has the documented defaults for everything else', () => {
    const config = parse('up', [])
    expect(config).toMatchObject({
      platform: 'auto',
      sparkVersion: '4.3.0',
      sparkDist: 'pypi',
      pipRequirements: [],
      packages: [],
      image: 'spark-standalone',
      profile: 'minikube',
      namespace: 'default',
      timeoutSeconds: 600,
      json: false,
      keepMinikube: false,
      uiKill: false,
      help: false,
    })
    expect(config.registry).toBeUndefined()
    expect(config.context).toBeUndefined()
    expect(config.python).toBeUndefined()
    expect(config.baseImage).toBeUndefined()
  })

  it('follows the manifests it is given, not constants', () => {
    const edited = structuredClone(manifests)
    edited.worker.spec!.replicas = 5
    const env = edited.worker.spec!.template.spec!.containers[0].env!
    env.find((v) => v.name === 'SPARK_WORKER_CORES')!.value = '3'
    env.find((v) => v.name === 'SPARK_WORKER_MEMORY')!.value = '2g'
    expect(parseConfig('up', [], {}, edited)).toMatchObject({ workers: 5, workerCores: 3, workerMemory: '2g' })
  })

  it('does not read process.env when an env is passed', () => {
    const saved = process.env.SPARK_K8S_WORKERS
    process.env.SPARK_K8S_WORKERS = '9'
    try {
      expect(parse('up', []).workers).toBe(2)
    } finally {
      if (saved === undefined) delete process.env.SPARK_K8S_WORKERS
      else process.env.SPARK_K8S_WORKERS = saved
    }
  })
})

describe('parseConfig precedence: flag > SPARK_K8S_* env > default', () => {
  const cases: Array<{ flag: string; env: string; key: string; fromFlag: string; fromEnv: string; flagValue: unknown; envValue: unknown }> = [
    { flag: '--workers', env: 'SPARK_K8S_WORKERS', key: 'workers', fromFlag: '4', fromEnv: '3', flagValue: 4, envValue: 3 },
    { flag: '--worker-cores', env: 'SPARK_K8S_WORKER_CORES', key: 'workerCores', fromFlag: '4', fromEnv: '2', flagValue: 4, envValue: 2 },
    { flag: '--worker-memory', env: 'SPARK_K8S_WORKER_MEMORY', key: 'workerMemory', fromFlag: '4g', fromEnv: '2048m', flagValue: '4g', envValue: '2048m' },
    { flag: '--spark-version', env: 'SPARK_K8S_SPARK_VERSION', key: 'sparkVersion', fromFlag: '3.5.7', fromEnv: '4.1.0', flagValue: '3.5.7', envValue: '4.1.0' },
    { flag: '--namespace', env: 'SPARK_K8S_NAMESPACE', key: 'namespace', fromFlag: 'spark', fromEnv: 'other', flagValue: 'spark', envValue: 'other' },
    { flag: '--registry', env: 'SPARK_K8S_REGISTRY', key: 'registry', fromFlag: 'localhost:5000', fromEnv: 'ghcr.io/team', flagValue: 'localhost:5000', envValue: 'ghcr.io/team' },
    { flag: '--platform', env: 'SPARK_K8S_PLATFORM', key: 'platform', fromFlag: 'docker', fromEnv: 'minikube', flagValue: 'docker', envValue: 'minikube' },
    { flag: '--timeout', env: 'SPARK_K8S_TIMEOUT', key: 'timeoutSeconds', fromFlag: '30', fromEnv: '120', flagValue: 30, envValue: 120 },
    { flag: '--profile', env: 'SPARK_K8S_MINIKUBE_PROFILE', key: 'profile', fromFlag: 'spark', fromEnv: 'other', flagValue: 'spark', envValue: 'other' },
    { flag: '--image', env: 'SPARK_K8S_IMAGE', key: 'image', fromFlag: 'team/spark', fromEnv: 'spark', flagValue: 'team/spark', envValue: 'spark' },
    { flag: '--spark-dist', env: 'SPARK_K8S_SPARK_DIST', key: 'sparkDist', fromFlag: 'pypi', fromEnv: 'apache', flagValue: 'pypi', envValue: 'apache' },
    { flag: '--python', env: 'SPARK_K8S_PYTHON', key: 'python', fromFlag: '3.12', fromEnv: '3.13', flagValue: '3.12', envValue: '3.13' },
    { flag: '--packages', env: 'SPARK_K8S_PACKAGES', key: 'packages', fromFlag: 'g:a:1', fromEnv: 'g:b:2,g:c:3', flagValue: ['g:a:1'], envValue: ['g:b:2', 'g:c:3'] },
  ]

  for (const c of cases) {
    it(`${c.flag} beats ${c.env}, which beats the default`, () => {
      const byDefault = (parse('up', []) as unknown as Record<string, unknown>)[c.key]
      const byEnv = (parse('up', [], { [c.env]: c.fromEnv }) as unknown as Record<string, unknown>)[c.key]
      const byBoth = (parse('up', [c.flag, c.fromFlag], { [c.env]: c.fromEnv }) as unknown as Record<string, unknown>)[c.key]
      expect(byEnv).toEqual(c.envValue)
      expect(byBoth).toEqual(c.flagValue)
      expect(byDefault).not.toEqual(c.envValue)
    })
  }

  it('ignores an empty env var', () => {
    expect(parse('up', [], { SPARK_K8S_WORKERS: '' }).workers).toBe(2)
  })

  it('accepts --flag=value as well as --flag value', () => {
    expect(parse('up', ['--workers=5']).workers).toBe(5)
  })

  it('lower-cases worker memory and accepts k/m/g/t units', () => {
    expect(parse('up', ['--worker-memory', '2G']).workerMemory).toBe('2g')
    expect(parse('up', ['--worker-memory', '512m']).workerMemory).toBe('512m')
  })

  it('reads --partitions only for pi', () => {
    expect(parse('pi', ['--partitions', '8']).partitions).toBe(8)
    expect(parse('pi', [], { SPARK_K8S_PI_PARTITIONS: '6' }).partitions).toBe(6)
    expect(parse('pi', []).partitions).toBeUndefined()
  })

  it('reads --port and --open for ui, and accepts minikube profile names minikube accepts', () => {
    expect(parseConfig('ui', ['--port', '0', '--open'], {}, manifests)).toMatchObject({ port: 0, open: true })
    expect(parseConfig('ui', [], { SPARK_K8S_UI_PORT: '9090' }, manifests)).toMatchObject({ port: 9090, open: false })
    expect(parseConfig('ui', [], {}, manifests).port).toBeUndefined()
    for (const name of ['minikube', 'spark-dev', 'team.b-2', 'p1']) expect(parseConfig('up', ['--profile', name], {}, manifests).profile).toBe(name)
  })

  it("reads --ui-kill for up: the UIs' kill links, off unless asked for", () => {
    expect(parse('up', ['--ui-kill']).uiKill).toBe(true)
    expect(parse('up', []).uiKill).toBe(false)
  })

  it('accepts Spark from 3.5.2 (authenticated RPC encryption) and worker memory up to 2047t (2^31-1 MiB)', () => {
    expect(parse('up', ['--spark-version', '3.5.2']).sparkVersion).toBe('3.5.2')
    expect(parse('up', ['--spark-version', '3.6.0']).sparkVersion).toBe('3.6.0')
    expect(parse('up', ['--worker-memory', '2047t']).workerMemory).toBe('2047t')
    expect(parse('up', ['--worker-memory', `${2 ** 31 - 1}m`]).workerMemory).toBe(`${2 ** 31 - 1}m`)
    expect(() => parse('up', ['--worker-memory', `${2 ** 31}m`])).toThrow(/from 512m to 2047t/)
    expect(() => parse('up', ['--worker-memory', '2048t'])).toThrow(/from 512m to 2047t/)
  })

  it('reads --role and --keep-minikube for down', () => {
    expect(parse('down', ['--role', 'worker', '--keep-minikube'])).toMatchObject({ role: 'worker', keepMinikube: true })
    expect(parse('down', [])).toMatchObject({ keepMinikube: false })
    expect(parse('down', []).role).toBeUndefined()
  })

  it('reads --port, --open and --json for notebook; --delete-notebooks and --role notebook for down, and nowhere else', () => {
    expect(parse('notebook', ['--port', '0', '--open', '--json'])).toMatchObject({ command: 'notebook', port: 0, open: true, json: true })
    expect(parse('notebook', [], { SPARK_K8S_NOTEBOOK_PORT: '9999' })).toMatchObject({ port: 9999, open: false })
    expect(parse('notebook', []).port).toBeUndefined()
    expect(() => parse('notebook', ['--port', '70000'])).toThrow(new UsageError('--port must be a whole number from 0 to 65535 (got "70000")'))
    expect(parse('down', ['--role', 'notebook', '--delete-notebooks'])).toMatchObject({ role: 'notebook', deleteNotebooks: true })
    expect(parse('down', []).deleteNotebooks).toBe(false)
    expect(() => parse('notebook', ['--delete-notebooks'])).toThrow(new UsageError('unknown flag --delete-notebooks for notebook (see --help)'))
    // The other roles delete no notebooks: said, rather than ignored.
    expect(() => parse('down', ['--role', 'worker', '--delete-notebooks'])).toThrow(new UsageError('--delete-notebooks goes with a whole cluster:down or --role notebook (got --role worker)'))
    expect(() => parse('down', ['--role', 'jupyter'])).toThrow(/--role must be one of master, worker, connect, history, notebook/)
  })

  it('--workers takes a fixed count or a range MIN..MAX, which --worker-idle goes with (default 2 min)', () => {
    expect(parse('up', ['--workers', '3'])).toMatchObject({ workers: 3, workerIdleSeconds: 120 })
    expect(parse('up', ['--workers', '3']).workerRange).toBeUndefined()
    expect(parse('up', ['--workers', '1..6'])).toMatchObject({ workerRange: { min: 1, max: 6 }, workers: 1, workerIdleSeconds: 120 })
    expect(parse('up', ['--workers=2..2', '--worker-idle', '90s'])).toMatchObject({ workerRange: { min: 2, max: 2 }, workerIdleSeconds: 90 })
    expect(parse('up', ['--workers', '1..64', '--worker-idle', '1m30s']).workerIdleSeconds).toBe(90)
    expect(parse('up', [], { SPARK_K8S_WORKERS: '2..5', SPARK_K8S_WORKER_IDLE: '5m' })).toMatchObject({ workerRange: { min: 2, max: 5 }, workerIdleSeconds: 300 })
  })

  it('reads the worker count of scale from its positional argument', () => {
    expect(parse('scale', ['3']).workers).toBe(3)
    expect(parse('scale', ['5', '--json'])).toMatchObject({ workers: 5, json: true })
  })
})

describe('parseConfig: the image\'s Python and your packages', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'spark-requirements-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('--python for up is the image\'s, for connect the client\'s; Spark 3.5 refuses 3.13 in one line', () => {
    expect(parse('up', ['--python', '3.13']).python).toBe('3.13')
    expect(parse('up', []).python).toBeUndefined()
    expect(parse('connect', ['--python', '3.10']).python).toBe('3.10')
    expect(() => parse('up', ['--python', '3.9'])).toThrow('--python must be a Python minor version from 3.10 to 3.13, like 3.12 (got "3.9")')
    expect(() => parse('up', ['--python', '3.12', '--spark-version', '3.5.7'])).toThrow('--python 3.12 needs Spark 4 (Spark 3.5.7 runs Python 3.10 and 3.11): use --python 3.10|3.11')
    expect(parse('up', ['--python', '3.10', '--spark-version', '3.5.7']).python).toBe('3.10')
  })

  it('--pip and --requirements add up to one list of requirement lines', () => {
    const file = join(scratch, 'requirements.txt')
    writeFileSync(file, '# ours\ntabulate==0.9.0\n\nrich>=13,<14\n')
    const config = parse('up', ['--pip', 'pandas-stubs==2.2.3, humanize', '--requirements', file])
    expect(config.pipRequirements).toEqual(['pandas-stubs==2.2.3', 'humanize', '# ours', 'tabulate==0.9.0', 'rich>=13,<14'])
    const hashed = join(scratch, 'hashed.txt')
    writeFileSync(hashed, 'tabulate==0.9.0 \\\n    --hash=sha256:' + 'a'.repeat(64) + '\n')
    expect(parse('up', ['--requirements', hashed]).pipRequirements).toEqual(['tabulate==0.9.0 \\', '    --hash=sha256:' + 'a'.repeat(64)])
    expect(parse('up', []).pipRequirements).toEqual([])
  })

  it('refuses what pip or the build could not take, naming the flag, in one line', () => {
    const nested = join(scratch, 'nested.txt')
    writeFileSync(nested, 'a==1\n-r other.txt\n')
    const big = join(scratch, 'big.txt')
    writeFileSync(big, 'x'.repeat(97 * 1024))
    const refused: Array<[string[], string]> = [
      [['--pip=--index-url=https://evil.example/simple'], '--pip must be comma-separated pip requirements'],
      [['--pip', 'a==1,,b'], 'pip requirements like pandas-stubs==2.2.3,tabulate (got "";'],
      [['--pip', 'rich>=13,<14'], '(got "<14"; put ranges, markers or hashes in a --requirements file)'],
      [['--requirements', join(scratch, 'missing.txt')], `--requirements: cannot read "${join(scratch, 'missing.txt')}" (ENOENT)`],
      [['--requirements', nested], 'refers to other files ("-r other.txt")'],
      [['--requirements', big], 'is over 96 KiB'],
      [['--pip', 'humanize', '--requirements', join(scratch, 'hashed.txt')], '--pip cannot join a --requirements file with hashes'],
      [['--pip', 'a[x,y]'], '(got "a[x";'],
      [['--packages', 'h2'], '--packages must be comma-separated Maven coordinates group:artifact:version, like com.h2database:h2:2.3.232 (got "h2")'],
      [['--packages', 'g:a:1,g:a'], '(got "g:a")'],
    ]
    for (const [argv, message] of refused) {
      const error = usageError('up', argv)
      expect(error.message, argv.join(' ')).toContain(message)
      expect(error.message).not.toContain('\n')
    }
  })
})

describe('parseConfig platform and context', () => {
  it('--context with platform auto becomes platform kubernetes', () => {
    expect(parse('up', ['--context', 'foo'])).toMatchObject({ platform: 'kubernetes', context: 'foo' })
    expect(parse('status', [], { SPARK_K8S_CONTEXT: 'bar' })).toMatchObject({ platform: 'kubernetes', context: 'bar' })
  })

  it('keeps --context with --platform kubernetes', () => {
    expect(parse('up', ['--context', 'foo', '--platform', 'kubernetes'])).toMatchObject({ platform: 'kubernetes', context: 'foo' })
  })

  it('leaves platform auto without --context', () => {
    expect(parse('up', []).platform).toBe('auto')
  })
})

describe('parseConfig --help', () => {
  it('sets help for every command', () => {
    for (const command of commands) {
      expect(parse(command, ['--help']).help).toBe(true)
      expect(parse(command, ['-h']).help).toBe(true)
    }
  })

  it('scale --help needs no worker count', () => {
    expect(parse('scale', ['--help']).help).toBe(true)
  })
})

describe('parseConfig rejects bad input with a one-line UsageError (exit code 2)', () => {
  const bad: Array<{ name: string; command: Command; argv: string[]; env?: NodeJS.ProcessEnv; mentions: Array<string | RegExp> }> = [
    { name: '--workers 0', command: 'up', argv: ['--workers', '0'], mentions: ['--workers', '1 to 64', '"0"'] },
    { name: '--workers many', command: 'up', argv: ['--workers', 'many'], mentions: ['--workers', 'whole number', '"many"'] },
    { name: '--workers 65', command: 'up', argv: ['--workers', '65'], mentions: ['--workers', '1 to 64'] },
    { name: '--workers 3..2 (MIN above MAX)', command: 'up', argv: ['--workers', '3..2'], mentions: ['--workers', 'MIN..MAX like 1..6', '1 ≤ MIN ≤ MAX ≤ 64', '"3..2"'] },
    { name: '--workers 0..4', command: 'up', argv: ['--workers', '0..4'], mentions: ['--workers', 'MIN..MAX', '"0..4"'] },
    { name: '--workers 1..65', command: 'up', argv: ['--workers', '1..65'], mentions: ['--workers', '≤ 64', '"1..65"'] },
    { name: '--workers 1...6', command: 'up', argv: ['--workers', '1...6'], mentions: ['--workers', 'MIN..MAX like 1..6', '"1...6"'] },
    { name: '--worker-idle soon', command: 'up', argv: ['--workers', '1..3', '--worker-idle', 'soon'], mentions: ['--worker-idle', '90s, 2m or 1m30s', '"soon"'] },
    { name: '--worker-idle 5s (too short)', command: 'up', argv: ['--workers', '1..3', '--worker-idle', '5s'], mentions: ['--worker-idle', '10s..24h', '"5s"'] },
    { name: '--worker-idle 2 (no unit)', command: 'up', argv: ['--workers', '1..3', '--worker-idle', '2'], mentions: ['--worker-idle', '"2"'] },
    { name: '--worker-idle without a range', command: 'up', argv: ['--workers', '3', '--worker-idle', '2m'], mentions: ['--worker-idle', '--workers MIN..MAX', 'got --workers 3'] },
    { name: 'scale takes no range', command: 'scale', argv: ['1..3'], mentions: ['worker count', '1 to 64', '"1..3"'] },
    { name: '--worker-memory lots', command: 'up', argv: ['--worker-memory', 'lots'], mentions: ['--worker-memory', '512m', '"lots"'] },
    { name: '--worker-memory 256m', command: 'up', argv: ['--worker-memory', '256m'], mentions: ['--worker-memory', 'from 512m', '"256m"'] },
    { name: '--spark-version 4', command: 'up', argv: ['--spark-version', '4'], mentions: ['--spark-version', '3.5.2', '4.3.0', '"4"'] },
    { name: '--spark-version 2.4.8', command: 'up', argv: ['--spark-version', '2.4.8'], mentions: ['--spark-version', '3.5.2', '"2.4.8"'] },
    { name: '--spark-version 3.4.4', command: 'up', argv: ['--spark-version', '3.4.4'], mentions: ['--spark-version', '3.5.2'] },
    { name: '--spark-version 3.5.1 (no AES-GCM RPC encryption)', command: 'up', argv: ['--spark-version', '3.5.1'], mentions: ['--spark-version', '3.5.2', '"3.5.1"'] },
    { name: '--worker-memory 100000t (wraps around in Spark)', command: 'up', argv: ['--worker-memory', '100000t'], mentions: ['--worker-memory', '2047t', '"100000t"'] },
    { name: '--spark-version 5.0.0', command: 'up', argv: ['--spark-version', '5.0.0'], mentions: ['--spark-version', '4.x'] },
    { name: '--namespace Bad_NS', command: 'up', argv: ['--namespace', 'Bad_NS'], mentions: ['--namespace', 'DNS label', '"Bad_NS"'] },
    { name: "--registry 'a b'", command: 'up', argv: ['--registry', 'a b'], mentions: ['--registry', 'host[:port][/path]', '"a b"'] },
    { name: '--platform cloud', command: 'up', argv: ['--platform', 'cloud'], mentions: ['--platform', 'auto', 'minikube', 'kubernetes', 'docker', '"cloud"'] },
    { name: '--timeout 5', command: 'up', argv: ['--timeout', '5'], mentions: ['--timeout', '10 to 7200'] },
    { name: '--profile a (minikube: too short)', command: 'up', argv: ['--profile', 'a'], mentions: ['--profile', 'at least 2 characters'] },
    { name: '--profile my_profile (minikube: no underscores)', command: 'status', argv: ['--profile', 'my_profile'], mentions: ['--profile', "letters, digits and '-'", '"my_profile"'] },
    { name: '--profile start (a word minikube reserves)', command: 'up', argv: ['--profile', 'start'], mentions: ['--profile', 'reserves'] },
    { name: '--port 70000', command: 'ui', argv: ['--port', '70000'], mentions: ['--port', '0 to 65535'] },
    { name: '--open for up', command: 'up', argv: ['--open'], mentions: ['--open', 'unknown flag'] },
    { name: '--role leader', command: 'down', argv: ['--role', 'leader'], mentions: ['--role', 'master', 'worker'] },
    { name: 'unknown flag --bogus', command: 'up', argv: ['--bogus'], mentions: ['--bogus', 'unknown flag', '--help'] },
    { name: 'a flag of another command (--workers for pi)', command: 'pi', argv: ['--workers', '3'], mentions: ['--workers', 'unknown flag'] },
    { name: 'a boolean flag given a value (--json=yes)', command: 'up', argv: ['--json=yes'], mentions: ['--json', 'no value'] },
    { name: 'a boolean flag given a value (--keep-minikube=no)', command: 'down', argv: ['--keep-minikube=no'], mentions: ['--keep-minikube', 'no value'] },
    { name: 'a boolean flag given a value (--help=yes)', command: 'up', argv: ['--help=yes'], mentions: ['--help', 'no value'] },
    { name: 'a boolean flag given a value (--ui-kill=yes)', command: 'up', argv: ['--ui-kill=yes'], mentions: ['--ui-kill', 'no value'] },
    { name: '--ui-kill for pi', command: 'pi', argv: ['--ui-kill'], mentions: ['--ui-kill', 'unknown flag'] },
    { name: 'a value flag without its value', command: 'up', argv: ['--workers'], mentions: ['--workers', 'needs a value', '1..64'] },
    { name: 'scale without N', command: 'scale', argv: [], mentions: ['scale', 'N', '1 to 64'] },
    { name: 'scale N many', command: 'scale', argv: ['3', 'many'], mentions: ['scale', 'one worker count'] },
    { name: 'scale with two numbers', command: 'scale', argv: ['3', '4'], mentions: ['scale', 'one worker count'] },
    { name: 'scale many', command: 'scale', argv: ['many'], mentions: ['worker count', '1 to 64', '"many"'] },
    { name: 'scale 0', command: 'scale', argv: ['0'], mentions: ['worker count', '1 to 64'] },
    { name: 'up with a positional', command: 'up', argv: ['extra'], mentions: ['cluster:up', 'no positional'] },
    { name: 'down with a positional', command: 'down', argv: ['now'], mentions: ['cluster:down', 'no positional'] },
    { name: '--context x --platform docker', command: 'up', argv: ['--context', 'x', '--platform', 'docker'], mentions: ['--context', '--platform kubernetes', 'docker'] },
    { name: '--context x --platform minikube', command: 'up', argv: ['--context', 'x', '--platform', 'minikube'], mentions: ['--context', '--platform kubernetes', 'minikube'] },
    { name: 'a bad env var', command: 'up', argv: [], env: { SPARK_K8S_WORKERS: 'zero' }, mentions: ['SPARK_K8S_WORKERS', '--workers', '1 to 64', '"zero"'] },
    { name: 'a bad env var (memory)', command: 'up', argv: [], env: { SPARK_K8S_WORKER_MEMORY: '100m' }, mentions: ['SPARK_K8S_WORKER_MEMORY', '--worker-memory', '512m'] },
    { name: 'a bad env var (platform)', command: 'status', argv: [], env: { SPARK_K8S_PLATFORM: 'cloud' }, mentions: ['SPARK_K8S_PLATFORM', '--platform'] },
  ]

  for (const c of bad) {
    it(c.name, () => {
      const error = usageError(c.command, c.argv, c.env)
      expect(error.exitCode).toBe(2)
      expect(error.message).not.toMatch(/\n/)
      expect(error.message.length).toBeGreaterThan(0)
      for (const mention of c.mentions) {
        if (typeof mention === 'string') expect(error.message).toContain(mention)
        else expect(error.message).toMatch(mention)
      }
    })
  }

  it('every value flag of every command rejects "bad value" in one line naming the flag (and its env var)', () => {
    let checked = 0
    for (const command of commands) {
      for (const spec of optionSpecs.filter((s) => s.commands.includes(command) && !s.boolean)) {
        const argv = command === 'scale' ? ['2'] : []
        const app = command === 'submit' ? ['app.py'] : []
        // A file list takes any path, spaces and all: an empty entry is what it refuses.
        const bad = spec.key === 'pyFiles' || spec.key === 'files' ? 'a.py,,b.py' : 'bad value'
        const fromFlag = usageError(command, [...argv, spec.flag, bad, ...app])
        expect(fromFlag.message, `${command} ${spec.flag}`).toContain(spec.flag)
        expect(fromFlag.message).toContain(`"${bad}"`)
        expect(fromFlag.message).not.toMatch(/\n/)
        if (spec.env) {
          const fromEnv = usageError(command, [...argv, ...app], { [spec.env]: 'bad value' })
          expect(fromEnv.message, `${command} ${spec.env}`).toContain(spec.env)
          expect(fromEnv.message).toContain(spec.flag)
          expect(fromEnv.message).not.toMatch(/\n/)
        }
        checked++
      }
    }
    expect(checked).toBeGreaterThan(20)
  })

  it('a good flag does not excuse a bad env var of another flag', () => {
    const error = usageError('up', ['--workers', '3'], { SPARK_K8S_TIMEOUT: 'soon' })
    expect(error.message).toContain('SPARK_K8S_TIMEOUT')
    expect(error.message).toContain('--timeout')
  })

  it('a good flag replaces a bad env var of the same flag', () => {
    expect(parse('up', ['--workers', '3'], { SPARK_K8S_WORKERS: 'zero' }).workers).toBe(3)
  })
})

describe('helpText', () => {
  for (const command of commands) {
    it(`lists every flag of ${command} with its env var, and no other command's flags`, () => {
      const text = helpText(command)
      const specs = optionSpecs.filter((spec) => spec.commands.includes(command))
      expect(specs.length).toBeGreaterThan(0)
      for (const spec of specs) {
        const flagLine = new RegExp(`^  ${spec.flag.replace(/[-]/g, '\\-')}( |$)`, 'm')
        expect(text).toMatch(flagLine)
        if (spec.env) expect(text).toContain(`[env ${spec.env}]`)
      }
      for (const other of optionSpecs.filter((spec) => !spec.commands.includes(command))) {
        // A flag two commands share by name (--port) is another command's only through its own entry.
        if (specs.some((spec) => spec.flag === other.flag)) expect(text).not.toContain(`[env ${other.env}]`)
        else expect(text).not.toMatch(new RegExp(`^  ${other.flag}( |$)`, 'm'))
      }
      expect(text).toContain('--help')
      expect(text.split('\n')[0]).toMatch(/^Usage: npm run /)
    })
  }

  it('says how scale takes N, and that it ends an elastic range', () => {
    expect(helpText('scale')).toContain('npm run scale -- N')
    expect(helpText('scale')).toContain('it ends an elastic range (cluster:up --workers MIN..MAX)')
    expect(helpText('up')).toMatch(/--workers <N or MIN\.\.MAX \(1\.\.64\)>\n.*a range MIN\.\.MAX like 1\.\.6/)
  })

  it('every env var it names is one parseConfig reads', () => {
    const text = commands.map((command) => helpText(command)).join('\n')
    const named = [...text.matchAll(/\[env (SPARK_K8S_[A-Z0-9_]+)\]/g)].map((match) => match[1])
    expect(new Set(named)).toEqual(new Set(optionSpecs.flatMap((spec) => (spec.env ? [spec.env] : []))))
  })
})

describe('submit', () => {
  it('passes everything after the app file to the app verbatim, flags and all', () => {
    const config = parseConfig('submit', ['--conf', 'spark.sql.shuffle.partitions=3', '--py-files=a.py,b.zip', 'app.py', '--conf', 'x', 'two words', '--'], {}, manifests)
    expect(config).toMatchObject({ app: 'app.py', appArgs: ['--conf', 'x', 'two words', '--'], pyFiles: ['a.py', 'b.zip'], confs: ['spark.sql.shuffle.partitions=3'] })
    expect(parseConfig('submit', ['--', '--odd.py', '-v'], {}, manifests)).toMatchObject({ app: '--odd.py', appArgs: ['-v'] })
  })

  it('repeats --conf, and refuses a conf that is not a Spark property or a missing app, in one line', () => {
    expect(parseConfig('submit', ['--conf', 'spark.a=1', '--conf', 'spark.b=x y', 'app.py'], {}, manifests).confs).toEqual(['spark.a=1', 'spark.b=x y'])
    expect(() => parseConfig('submit', ['--conf', 'oops', 'app.py'], {}, manifests)).toThrow(/--conf must be a Spark property key=value/)
    expect(() => parseConfig('submit', [], {}, manifests)).toThrow(/submit takes your PySpark file first/)
    expect(() => parseConfig('submit', ['--json', 'app.py'], {}, manifests)).toThrow(/unknown flag --json for submit/)
    expect(() => parseConfig('submit', ['notes.txt'], {}, manifests)).toThrow(/submit takes your PySpark file first.*"notes\.txt"/)
  })
})
