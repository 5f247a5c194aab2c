import { describe, expect, it } from 'vitest'
import { loadManifests, mainContainer, podTemplate, renderPiJob } from '../../scripts/lib/manifests.ts'
import { withDeadlineCommand } from '../../scripts/lib/driver.ts'
import { dockerDriverTemplate } from '../../scripts/lib/docker/driver.ts'
import { describePi, parsePiResult } from '../../scripts/pi.ts'

const driverLog = [
  '25/01/01 12:00:00 INFO SparkContext: Running Spark version 4.0.1',
  '25/01/01 12:00:05 INFO DAGScheduler: Job 0 finished: reduce at /opt/spark/apps/pi.py:58, took 3.1 s',
  'Pi is roughly 3.141592',
  'PI_RESULT {"pi": 3.1415922, "partitions": 4, "samples": 8000000}',
  '25/01/01 12:00:06 INFO SparkContext: Successfully stopped SparkContext',
].join('\n')

describe('parsePiResult', () => {
  it('reads the PI_RESULT line among the driver log', () => {
    expect(parsePiResult(driverLog)).toEqual({ pi: 3.1415922, partitions: 4, samples: 8000000 })
  })

  it('is undefined when the log has no PI_RESULT line', () => {
    expect(parsePiResult('')).toBeUndefined()
    expect(parsePiResult('Traceback (most recent call last):\n  ValueError: PI_PARTITIONS must be a positive integer')).toBeUndefined()
    expect(parsePiResult('Pi is roughly 3.14\n')).toBeUndefined()
  })

  it('ignores PI_RESULT that does not start the line (e.g. an echoed command)', () => {
    expect(parsePiResult('python -c "print(\'PI_RESULT {}\')"\nno result')).toBeUndefined()
  })

  it('tolerates CRLF line ends', () => {
    expect(parsePiResult(driverLog.replace(/\n/g, '\r\n'))).toEqual({ pi: 3.1415922, partitions: 4, samples: 8000000 })
  })

  it('reads the line from stdout and stderr joined, as runPi gives it', () => {
    const stdout = 'Pi is roughly 3.14\nPI_RESULT {"pi": 3.14, "partitions": 2, "samples": 4000000}\n'
    const stderr = 'WARN NativeCodeLoader: Unable to load native-hadoop library\n'
    expect(parsePiResult(`${stdout}\n${stderr}`)).toEqual({ pi: 3.14, partitions: 2, samples: 4000000 })
  })
})

describe('describePi', () => {
  it('says the estimate, its error, partitions, samples and duration', () => {
    const text = describePi({ pi: 3.1415922, partitions: 4, samples: 8000000, seconds: 12.345, driver: 'spark-pi-abc' })
    expect(text).toBe(`Pi ≈ 3.141592 (error ${Math.abs(3.1415922 - Math.PI).toExponential(1)}; 4 partitions, 8,000,000 samples) in 12.3 s`)
    expect(text).toContain('error 4.5e-7')
  })

  it('rounds pi to six decimals and the time to tenths', () => {
    const text = describePi({ pi: 3.14, partitions: 2, samples: 4000000, seconds: 7, driver: 'd' })
    expect(text).toMatch(/^Pi ≈ 3\.140000 \(error 1\.6e-3; 2 partitions, 4,000,000 samples\) in 7\.0 s$/)
  })
})

describe('dockerDriverTemplate', () => {
  it('stops the driver itself at the Job deadline (Docker has no activeDeadlineSeconds), leaving the Job untouched', () => {
    const manifests = loadManifests()
    const job = renderPiJob(manifests, { image: 'spark:1', namespace: 'default', timeoutSeconds: 90 })
    const template = dockerDriverTemplate(job)
    expect(template.spec!.containers[0].args!.slice(0, 5)).toEqual(['timeout', '--kill-after=10', '90', '/usr/local/bin/require-auth', '/opt/spark/bin/spark-submit'])
    expect(mainContainer(job).args!.slice(0, 2)).toEqual(['/usr/local/bin/require-auth', '/opt/spark/bin/spark-submit'])
    expect(dockerDriverTemplate(renderPiJob(manifests, { image: 'spark:1', namespace: 'default' })).spec!.containers[0].args![0]).toBe('/usr/local/bin/require-auth')
  })
})

describe('withDeadlineCommand', () => {
  const template = () => podTemplate(renderPiJob(loadManifests(), { image: 'spark:1', namespace: 'default' }))

  it('puts coreutils timeout in front of the command, on a copy', () => {
    const original = template()
    const args = original.spec!.containers[0].args!
    const timed = withDeadlineCommand(original, 600)
    expect(timed.spec!.containers[0].args).toEqual(['timeout', '--kill-after=10', '600', ...args])
    expect(original.spec!.containers[0].args).toEqual(args)
  })

  it('keeps a REPL in the terminal\'s process group with --foreground, so it may read from it', () => {
    const args = template().spec!.containers[0].args!
    expect(withDeadlineCommand(template(), 43200, true).spec!.containers[0].args).toEqual(['timeout', '--foreground', '--kill-after=10', '43200', ...args])
  })

  it('leaves the command alone without a deadline', () => {
    expect(withDeadlineCommand(template(), undefined, true)).toEqual(template())
  })
})
