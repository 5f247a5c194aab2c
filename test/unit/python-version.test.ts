import { describe, expect, it } from 'vitest'
import { sparkVersionOf } from '../../scripts/lib/cluster-image.ts'
import { hostPythonVersion } from '../../scripts/lib/host-python.ts'
import { baseImageFor, imagePython, imagePythons, pythonVersionOf } from '../../scripts/lib/python-version.ts'

describe("the image's Python", () => {
  it('offers 3.10 to 3.13 on Spark 4 and 3.10 to 3.11 on Spark 3.5 (Python 3.12 support came with Spark 4)', () => {
    expect(imagePythons('4.3.0')).toEqual(['3.10', '3.11', '3.12', '3.13'])
    expect(imagePythons('3.5.9')).toEqual(['3.10', '3.11'])
  })

  it("takes Debian's own python3 where a release has that version, else Docker Hub's python image on Debian 12", () => {
    expect(baseImageFor('3.11')).toBe('debian:bookworm-slim')
    expect(baseImageFor('3.13')).toBe('debian:trixie-slim')
    expect(baseImageFor('3.12')).toBe('python:3.12-slim-bookworm')
  })

  it('is --python, else the host python3 when the image can run it, else 3.11', () => {
    expect(imagePython({ python: '3.10', sparkVersion: '4.3.0' }, () => '3.13')).toBe('3.10')
    expect(imagePython({ sparkVersion: '4.3.0' }, () => '3.12')).toBe('3.12')
    expect(imagePython({ sparkVersion: '4.3.0' }, () => '3.14')).toBe('3.11')
    expect(imagePython({ sparkVersion: '3.5.9' }, () => '3.12')).toBe('3.11')
    expect(imagePython({ sparkVersion: '4.3.0' }, () => undefined)).toBe('3.11')
  })

  it('reads the host python3 as major.minor (this machine has one: the e2e clients need it)', () => {
    expect(hostPythonVersion()).toMatch(/^3\.\d+$/)
  })

  it('is read back from the tags the tool builds, beside the Spark version; older tags say no Python', () => {
    expect(pythonVersionOf('localhost:5000/spark-standalone:4.3.0-py3.13-0123456789ab')).toBe('3.13')
    expect(sparkVersionOf('localhost:5000/spark-standalone:4.3.0-py3.13-0123456789ab')).toBe('4.3.0')
    expect(pythonVersionOf('spark-standalone:4.3.0-0123456789ab')).toBeUndefined()
    expect(pythonVersionOf('spark:latest')).toBeUndefined()
  })

  it('is read from a reference pinned to a digest (name:tag@sha256:…), and not from the digest', () => {
    const pinned = `127.0.0.1:5000/spark-standalone:4.3.0-py3.13-0123456789ab@sha256:${'0123456789abcdef'.repeat(4)}`
    expect(pythonVersionOf(pinned)).toBe('3.13')
    expect(sparkVersionOf(pinned)).toBe('4.3.0')
    expect(sparkVersionOf(`127.0.0.1:5000/spark-standalone@sha256:${'0'.repeat(64)}`)).toBeUndefined()
  })
})
