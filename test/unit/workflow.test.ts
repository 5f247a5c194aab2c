// The smoke workflow users copy into their CI: valid against GitHub's workflow schema, and it
// really runs the three commands on minikube and keeps diagnostics when something fails.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateWorkflow } from '@action-validator/core'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { repoRoot } from '../../scripts/lib/paths.ts'

const text = readFileSync(join(repoRoot, '.github/workflows/smoke.yml'), 'utf8')
const workflow = parse(text) as { jobs: Record<string, { steps: Array<Record<string, any>> }> }
const steps = Object.values(workflow.jobs)[0].steps
const runs = steps.map((s) => String(s.run ?? ''))
const indexOfRun = (pattern: RegExp) => runs.findIndex((run) => pattern.test(run))

describe('.github/workflows/smoke.yml', () => {
  it('validates against the GitHub workflow schema', () => {
    expect(validateWorkflow(text).errors).toEqual([])
  })

  it('the validator does reject a broken workflow (so the check above can fail)', () => {
    expect(validateWorkflow(text.replace('runs-on:', 'runs-onn:')).errors.length).toBeGreaterThan(0)
  })

  it('installs a pinned, checksummed minikube, then npm ci, then runs cluster:up, pi and cluster:down in that order', () => {
    const install = steps.find((s) => s.name === 'Install minikube')!
    expect(install.env.MINIKUBE_VERSION).toMatch(/^v\d+\.\d+\.\d+$/)
    expect(install.run).toMatch(/sha256sum --check/)
    // The tool starts minikube itself (the default path), so nothing else may start it first.
    expect(steps.some((s) => /setup-minikube|minikube start/.test(`${s.uses ?? ''} ${s.run ?? ''}`))).toBe(false)
    const order = [/^Install minikube$/, /^npm ci$/, /npm run cluster:up/, /npm run pi/, /npm run cluster:down/].map((pattern) =>
      steps.findIndex((s) => pattern.test(s.name ?? '') || pattern.test(s.run ?? '')),
    )
    expect(order.every((i) => i >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
  })

  it('collects diagnostics on failure before tearing down, and uploads them as an artifact', () => {
    const collect = steps.findIndex((s) => s.if === 'failure()' && /kubectl logs/.test(String(s.run)))
    const upload = steps.findIndex((s) => s.if === 'failure()' && String(s.uses).startsWith('actions/upload-artifact@'))
    const down = indexOfRun(/npm run cluster:down/)
    expect(collect).toBeGreaterThanOrEqual(0)
    expect(upload).toBeGreaterThan(collect)
    expect(down).toBeGreaterThan(upload)
    expect(steps[down].if).toBe('always()')
  })
})
