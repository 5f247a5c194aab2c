// The image build when the Docker engine cannot pull the base image (Docker Hub unreachable, a
// proxy, a misspelled --base-image): one line naming the image, and the ways out, instead of
// Docker's raw last line. The builds' output is faked; the legacy builder's lines are what Docker
// 28 printed here against a dockerd 20.10 whose DNS does not resolve registry-1.docker.io.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { StepError } from '../../scripts/lib/errors.ts'
import { fake } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { buildImage } = await import('../../scripts/build-image.ts')

const config = { image: 'spark-standalone', sparkVersion: '4.0.1', sparkDist: 'pypi' as const, python: '3.11', pipRequirements: [], packages: [] }
const reference = 'spark-standalone:4.0.1-py3.11-0123456789ab'

beforeEach(() => fake.reset())

/** What buildImage throws when `docker build` prints `output` and exits 1. */
async function failure(output: string[], baseImage?: string): Promise<StepError> {
  fake.answerByPrefix({ 'docker build': { stdout: `${output.join('\n')}\n`, exitCode: 1 } })
  const error = await buildImage(reference, { ...config, baseImage }, undefined, Promise.resolve(false)).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(StepError)
  expect(fake.lines()[0]).toMatch(/^docker build --force-rm --tag /)
  return error as StepError
}

const legacy = (error: string, from = 'FROM ${BASE_IMAGE} AS java') => [
  'DEPRECATED: The legacy builder is deprecated and will be removed in a future release.',
  '            Install the buildx component to build images with BuildKit:',
  '            https://docs.docker.com/go/buildx/',
  'Sending build context to Docker daemon  221.2kB',
  'Step 1/52 : ARG BASE_IMAGE=debian:bookworm-slim',
  `Step 2/52 : ${from}`,
  error,
]

const mirrorHint = [
  '  - pass --base-image with this image from a registry or mirror the Docker engine reaches, like --base-image <mirror>/library/debian:bookworm-slim',
  '  - or give the Docker engine a mirror of Docker Hub: "registry-mirrors": ["https://<mirror>"] in its daemon.json (/etc/docker/daemon.json; Docker Desktop: Settings, Docker Engine), then restart it',
].join('\n')

describe('buildImage when the base image cannot be pulled', () => {
  it('names the base image and the registry, and gives --base-image from a mirror or an engine mirror as ways out (legacy builder)', async () => {
    const error = await failure(legacy('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host'))
    expect(error.message).toBe('could not pull the base image debian:bookworm-slim from registry-1.docker.io: dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host')
    expect(error.details).toBe(mirrorHint)
  })

  it.each([
    ['i/o timeout', 'Get "https://registry-1.docker.io/v2/": dial tcp 54.227.20.253:443: i/o timeout'],
    ['connection refused', 'Get "https://registry-1.docker.io/v2/": dial tcp 127.0.0.1:443: connect: connection refused'],
    ['TLS handshake timeout', 'Get "https://registry-1.docker.io/v2/": net/http: TLS handshake timeout'],
    ['a proxy that refuses', 'Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused'],
    ['no answer in time', 'Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)'],
  ])('says so for %s', async (_, line) => {
    const error = await failure(legacy(line))
    expect(error.message).toMatch(/^could not pull the base image debian:bookworm-slim from registry-1\.docker\.io: \S/)
    expect(error.message).toBe(`could not pull the base image debian:bookworm-slim from registry-1.docker.io: ${line.slice(line.indexOf('/v2/": ') + 7)}`)
    expect(error.details).toBe(mirrorHint)
  })

  it("reads BuildKit's metadata failure, old and new, and its failed FROM step", async () => {
    const metadata = [
      '#3 [internal] load metadata for docker.io/library/python:3.12-slim-bookworm',
      '#3 ERROR: failed to do request: Head "https://registry-1.docker.io/v2/library/python/manifests/3.12-slim-bookworm": dial tcp: lookup registry-1.docker.io: i/o timeout',
      '------',
      ' > [internal] load metadata for docker.io/library/python:3.12-slim-bookworm:',
      '------',
      'Dockerfile:13',
      '  13 | >>> FROM ${BASE_IMAGE} AS java',
      'ERROR: failed to solve: python:3.12-slim-bookworm: failed to resolve source metadata for docker.io/library/python:3.12-slim-bookworm: failed to do request: Head "https://registry-1.docker.io/v2/library/python/manifests/3.12-slim-bookworm": dial tcp: lookup registry-1.docker.io: i/o timeout',
    ]
    const python312 = { ...config, python: '3.12' }
    fake.answerByPrefix({ 'docker build': { stdout: metadata.join('\n'), exitCode: 1 } })
    const error = (await buildImage(reference, python312, undefined, Promise.resolve(false)).catch((e: unknown) => e)) as StepError
    expect(error.message).toBe('could not pull the base image python:3.12-slim-bookworm from registry-1.docker.io: dial tcp: lookup registry-1.docker.io: i/o timeout')
    expect(error.details).toContain('like --base-image <mirror>/library/python:3.12-slim-bookworm')

    const older = await failure([
      '#3 [internal] load metadata for docker.io/library/debian:bookworm-slim',
      '#3 ERROR: failed to do request: Head https://registry-1.docker.io/v2/library/debian/manifests/bookworm-slim: dial tcp 3.211.199.249:443: i/o timeout',
      '------',
      'failed to solve with frontend dockerfile.v0: failed to create LLB definition: failed to do request: Head https://registry-1.docker.io/v2/library/debian/manifests/bookworm-slim: dial tcp 3.211.199.249:443: i/o timeout',
    ])
    expect(older.message).toBe('could not pull the base image debian:bookworm-slim from registry-1.docker.io: dial tcp 3.211.199.249:443: i/o timeout')

    const layers = await failure([
      '#5 [java 1/4] FROM docker.io/library/debian:bookworm-slim@sha256:0123',
      '#5 ERROR: failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://production.cloudflare.docker.com/registry-v2/docker/registry/v2/blobs/sha256/01/0123/data": dial tcp 104.16.1.1:443: connect: connection reset by peer',
    ])
    expect(layers.message).toBe('could not pull the base image debian:bookworm-slim from production.cloudflare.docker.com: dial tcp 104.16.1.1:443: connect: connection reset by peer')
  })

  it('offers no Docker Hub mirror for an image of another registry', async () => {
    const error = await failure(legacy('Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: no such host'), 'ghcr.io/team/debian:bookworm-slim')
    expect(error.message).toBe('could not pull the base image ghcr.io/team/debian:bookworm-slim from ghcr.io: dial tcp: lookup ghcr.io: no such host')
    expect(error.details).toBe('  - pass --base-image with this image from a registry or mirror the Docker engine reaches, like --base-image <mirror>/team/debian:bookworm-slim')
  })

  it('says the registry refused the image, with the other hint, when it answered', async () => {
    const denied = await failure(['ERROR: failed to solve: nosuch/debian:1: failed to resolve source metadata for docker.io/nosuch/debian:1: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed'], 'nosuch/debian:1')
    expect(denied.message).toBe('could not pull the base image nosuch/debian:1: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed')
    expect(denied.details).toBe("  - check the image's name (--base-image), and `docker login` to its registry if it is private")
    const missing = await failure(legacy('manifest for debian:nosuch not found: manifest unknown: manifest unknown'), 'debian:nosuch')
    expect(missing.message).toBe('could not pull the base image debian:nosuch: manifest unknown: manifest unknown')
  })

  it("leaves any other failure to Docker's own lines, even a network error inside a RUN step", async () => {
    const error = await failure([
      'Step 2/52 : FROM ${BASE_IMAGE} AS java',
      ' ---> 5f2a1e3b4c6d',
      'Step 14/52 : RUN sh install-spark.sh',
      'install-spark: error: could not download Spark: dial tcp 151.101.1.1:443: connect: connection refused',
    ])
    expect(error.message).toBe(`docker build of ${reference} failed (exit 1): install-spark: error: could not download Spark: dial tcp 151.101.1.1:443: connect: connection refused`)
    const buildKitRun = await failure([
      '#12 [stage-1 4/9] RUN sh install-spark.sh',
      '#12 3.21 curl: (7) Failed to connect: connection refused',
      '#12 ERROR: process "/bin/sh -c sh install-spark.sh" did not complete successfully: exit code: 7',
    ])
    expect(buildKitRun.message).toBe(`docker build of ${reference} failed (exit 1)`)
  })
})
