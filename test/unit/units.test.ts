import { describe, expect, it } from 'vitest'
import {
  formatMebibytes,
  kubeCpuToCores,
  kubeQuantityToBytes,
  kubeQuantityToMebibytes,
  sparkMemoryPattern,
  sparkMemoryToMebibytes,
} from '../../scripts/lib/units.ts'

describe('sparkMemoryToMebibytes', () => {
  it.each([
    ['512m', 512],
    ['1g', 1024],
    ['4g', 4096],
    ['1536m', 1536],
    ['2048k', 2],
    ['1t', 1024 * 1024],
    ['2G', 2048],
    ['512M', 512],
    [' 1g ', 1024],
  ])('%s → %d MiB', (text, mebibytes) => {
    expect(sparkMemoryToMebibytes(text)).toBe(mebibytes)
  })

  it.each(['', 'lots', '1', '1.5g', '0m', '-1g', '1gb', '1 g', '01g', 'g'])('rejects %j', (text) => {
    expect(() => sparkMemoryToMebibytes(text)).toThrow(/not a Spark memory size/)
  })

  it('the pattern agrees with the converter', () => {
    expect(sparkMemoryPattern.test('4g')).toBe(true)
    expect(sparkMemoryPattern.test('4gb')).toBe(false)
    expect(sparkMemoryPattern.test('0g')).toBe(false)
  })
})

describe('kubeQuantityToBytes', () => {
  it.each([
    ['1073741824', 1024 ** 3],
    ['1Ki', 1024],
    ['1Mi', 1024 ** 2],
    ['2Gi', 2 * 1024 ** 3],
    ['1Ti', 1024 ** 4],
    ['1536Mi', 1536 * 1024 ** 2],
    ['1k', 1000],
    ['1M', 1e6],
    ['1G', 1e9],
    ['1T', 1e12],
    ['1.5Gi', 1.5 * 1024 ** 3],
    [' 2Gi ', 2 * 1024 ** 3],
  ])('%s → %d bytes', (text, bytes) => {
    expect(kubeQuantityToBytes(text)).toBe(bytes)
  })

  it.each(['', 'lots', '1g', '1gi', '1GB', 'Gi', '-1Gi', '1 Gi'])('rejects %j', (text) => {
    expect(() => kubeQuantityToBytes(text)).toThrow(/not a Kubernetes memory quantity/)
  })
})

describe('kubeQuantityToMebibytes', () => {
  it.each([
    ['2Gi', 2048],
    ['1536Mi', 1536],
    ['1024Ki', 1],
    ['1G', 1e9 / 1024 ** 2],
  ])('%s → %d MiB', (text, mebibytes) => {
    expect(kubeQuantityToMebibytes(text)).toBe(mebibytes)
  })

  it('throws on garbage', () => {
    expect(() => kubeQuantityToMebibytes('two gigs')).toThrow()
  })
})

describe('formatMebibytes', () => {
  it.each([
    [1024, '1Gi'],
    [5120, '5Gi'],
    [2560, '2560Mi'],
    [1536, '1536Mi'],
    [512, '512Mi'],
    [512.25, '513Mi'],
  ])('%d → %s', (mebibytes, text) => {
    expect(formatMebibytes(mebibytes)).toBe(text)
  })

  it('round-trips through kubeQuantityToMebibytes', () => {
    for (const mebibytes of [512, 1024, 1536, 2048, 2560, 5120, 65536]) {
      expect(kubeQuantityToMebibytes(formatMebibytes(mebibytes))).toBe(mebibytes)
    }
  })
})

describe('kubeCpuToCores', () => {
  it.each([
    ['1', 1],
    ['3', 3],
    ['0.5', 0.5],
    ['250m', 0.25],
    ['1500m', 1.5],
    [2, 2],
    [' 500m ', 0.5],
  ] as Array<[string | number, number]>)('%j → %d cores', (value, cores) => {
    expect(kubeCpuToCores(value)).toBe(cores)
  })

  it('gives NaN (not a number of cores) for garbage', () => {
    expect(kubeCpuToCores('lots')).toBeNaN()
  })
})
