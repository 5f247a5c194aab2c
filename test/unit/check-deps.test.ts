import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { V1ResourceRule } from '@kubernetes/client-node'
import { checkDependencies, neededRights, nodeIsRecentEnough, rulesGrant } from '../../scripts/check-deps.ts'
import { StepError } from '../../scripts/lib/errors.ts'
import { fake, onPath } from './fake-proc.ts'

vi.mock('../../scripts/lib/proc.ts', () => import('./fake-proc.ts'))
const { connectKube } = vi.hoisted(() => ({ connectKube: vi.fn() }))
vi.mock('../../scripts/lib/kube/kube.ts', () => ({ connectKube }))
const { engineAnswers } = vi.hoisted(() => ({ engineAnswers: vi.fn() }))
vi.mock('../../scripts/lib/docker/engine.ts', () => ({ engineAnswers }))

/** Fakes the host: which tools are on PATH and whether the Docker engine answers its ping. */
function host(options: { onPath: string[]; dockerAnswers: boolean }) {
  onPath.mockImplementation(async (name: string) => options.onPath.includes(name))
  engineAnswers.mockImplementation(async () => options.dockerAnswers)
}

async function stepError(promise: Promise<unknown>): Promise<StepError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(StepError)
  return error as StepError
}

const access = (context?: string) => ({ context, namespace: 'dev' })

/**
 * A kube client whose /version answers, whose SelfSubjectRulesReview shows `rules` (none: as an
 * authorizer that cannot list them), and whose SelfSubjectAccessReviews allow all but `denied` ("verb resource[/sub]").
 */
function fakeKube(denied: string[] = [], rules: V1ResourceRule[] = []) {
  const getCode = vi.fn(async () => ({ gitVersion: 'v1.33.13' }))
  const reviews: Array<Record<string, string>> = []
  const createSelfSubjectAccessReview = vi.fn(async ({ body }: { body: { spec: { resourceAttributes: Record<string, string> } } }) => {
    const right = body.spec.resourceAttributes
    reviews.push(right)
    const name = `${right.verb} ${right.resource}${right.subresource ? `/${right.subresource}` : ''}`
    return { status: { allowed: !denied.includes(name) } }
  })
  const createSelfSubjectRulesReview = vi.fn(async () => ({ status: { resourceRules: rules, incomplete: rules.length === 0 } }))
  const kube = { k8s: { VersionApi: 'VersionApi' }, config: { makeApiClient: () => ({ getCode }) }, authorization: { createSelfSubjectAccessReview, createSelfSubjectRulesReview } }
  return { kube, getCode, reviews }
}

beforeEach(() => {
  fake.reset()
  onPath.mockReset()
  engineAnswers.mockReset()
})

describe('nodeIsRecentEnough', () => {
  it.each([
    ['20.11.0', true],
    ['20.11.1', true],
    ['20.19.2', true],
    ['21.0.0', true],
    ['22.3.0', true],
    ['24.0.0', true],
    ['20.10.9', false],
    ['20.0.0', false],
    ['18.20.4', false],
    ['16.20.2', false],
  ])('%s → %s', (version, ok) => {
    expect(nodeIsRecentEnough(version)).toBe(ok)
  })

  it('accepts the Node running these tests', () => {
    expect(nodeIsRecentEnough()).toBe(true)
  })
})

describe('checkDependencies', () => {
  it('passes when everything is present, naming what it checked', async () => {
    host({ onPath: ['docker', 'minikube'], dockerAnswers: true })
    const said = await checkDependencies('minikube', access())
    expect(said).toContain('docker CLI')
    expect(said).toContain('a reachable Docker daemon')
    expect(said).toContain('minikube')
    expect(said).toMatch(/Node\.js >= 20\.11/)
    expect(fake.calls).toEqual([])
  })

  it('reports every missing piece in one StepError, with a fix for each', async () => {
    host({ onPath: [], dockerAnswers: false })
    const error = await stepError(checkDependencies('minikube', access()))
    expect(error.message).toMatch(/^missing /)
    expect(error.message).toContain('docker CLI')
    expect(error.message).toContain('a reachable Docker daemon')
    expect(error.message).toContain('minikube')
    expect(error.message).not.toMatch(/\n/)
    const details = error.details!.split('\n')
    expect(details).toHaveLength(3)
    expect(details[0]).toMatch(/^ {2}- docker CLI: install Docker/)
    expect(details[1]).toMatch(/^ {2}- a reachable Docker daemon: .*start/)
    expect(details[2]).toMatch(/^ {2}- minikube: install minikube: https:\/\/minikube\.sigs\.k8s\.io/)
    expect(error.exitCode).toBe(1)
  })

  it('reports only the daemon when the CLI is there but the engine does not answer', async () => {
    host({ onPath: ['docker', 'minikube'], dockerAnswers: false })
    const error = await stepError(checkDependencies('minikube', access()))
    expect(error.message).toBe('missing a reachable Docker daemon')
    expect(error.details).toMatch(/DOCKER_HOST/)
  })

  it('requires minikube only on the minikube platform', async () => {
    host({ onPath: ['docker'], dockerAnswers: true })
    await expect(checkDependencies('docker', access())).resolves.not.toContain('minikube')
    connectKube.mockResolvedValueOnce(fakeKube().kube)
    await expect(checkDependencies('kubernetes', access())).resolves.not.toContain('minikube')
    const error = await stepError(checkDependencies('minikube', access()))
    expect(error.message).toBe('missing minikube')
    expect(onPath).toHaveBeenCalledWith('minikube')
  })

  it('does not probe for minikube on other platforms', async () => {
    host({ onPath: ['docker'], dockerAnswers: true })
    await checkDependencies('docker', access())
    expect(onPath.mock.calls.map(([name]) => name)).not.toContain('minikube')
  })

  it('reports docker missing on the docker platform too', async () => {
    host({ onPath: ['minikube'], dockerAnswers: false })
    const error = await stepError(checkDependencies('docker', access()))
    expect(error.message).toBe('missing docker CLI, a reachable Docker daemon')
  })

  it('on kubernetes, checks that the kube context answers and says why when it does not', async () => {
    host({ onPath: ['docker'], dockerAnswers: true })
    connectKube.mockRejectedValueOnce(new Error('kube context "nope" is not in your kubeconfig (known: a, b)'))
    const error = await stepError(checkDependencies('kubernetes', access('nope')))
    expect(error.message).toBe("missing kube context nope reachable, with the tool's rights in namespace dev")
    expect(error.details).toContain('kube context "nope" is not in your kubeconfig (known: a, b)')
    expect(connectKube).toHaveBeenCalledWith('nope')
  })

  it('on kubernetes, an API error is one line with the server message, not an HTTP dump', async () => {
    host({ onPath: ['docker'], dockerAnswers: true })
    const { kube, getCode } = fakeKube()
    const body = JSON.stringify({ kind: 'Status', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 })
    getCode.mockRejectedValueOnce(Object.assign(new Error(`HTTP-Code: 401\nMessage: Unknown API Status Code!\nBody: ${JSON.stringify(body)}\nHeaders: {}`), { code: 401, body }))
    connectKube.mockResolvedValueOnce(kube)
    const error = await stepError(checkDependencies('kubernetes', access('lab')))
    expect(error.details).toBe("  - kube context lab reachable, with the tool's rights in namespace dev: Unauthorized (Unauthorized, HTTP 401); hint: your credentials were rejected: log in again or refresh the kubeconfig")
  })

  it('on kubernetes, passes for a user allowed everything in the namespace, asking only namespaced questions', async () => {
    host({ onPath: ['docker'], dockerAnswers: true })
    const { kube, getCode, reviews } = fakeKube()
    connectKube.mockResolvedValueOnce(kube)
    await expect(checkDependencies('kubernetes', access('lab'))).resolves.toContain("kube context lab reachable, with the tool's rights in namespace dev")
    expect(getCode).toHaveBeenCalled()
    expect(reviews.length).toBeGreaterThanOrEqual(17)
    expect(reviews.every((right) => right.namespace === 'dev')).toBe(true)
  })

  it("on kubernetes, one SelfSubjectRulesReview settles every right the rules show; only the others are asked alone", async () => {
    host({ onPath: ['docker'], dockerAnswers: true })
    // The built-in admin role's shape, minus port-forward.
    const rules: V1ResourceRule[] = [
      { verbs: ['*'], apiGroups: ['', 'apps', 'batch', 'policy'], resources: ['deployments', 'services', 'persistentvolumeclaims', 'poddisruptionbudgets', 'secrets', 'configmaps', 'jobs', 'pods', 'pods/attach', 'pods/log', 'services/proxy'] },
      { verbs: ['*'], apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'] },
    ]
    const { kube, reviews } = fakeKube([], rules)
    connectKube.mockResolvedValueOnce(kube)
    await expect(checkDependencies('kubernetes', access('lab'))).resolves.toContain('namespace dev')
    expect(reviews).toEqual([{ namespace: 'dev', verb: 'create', group: '', resource: 'pods', subresource: 'portforward' }])
  })

  it("on kubernetes, asks for the rights to manage the master's NetworkPolicy, and names them when a role lacks them", async () => {
    expect(neededRights.filter((right) => right.resource === 'networkpolicies')).toEqual(
      ['get', 'create', 'patch', 'delete'].map((verb) => ({ verb, group: 'networking.k8s.io', resource: 'networkpolicies' })),
    )
    host({ onPath: ['docker'], dockerAnswers: true })
    connectKube.mockResolvedValueOnce(fakeKube(['create networkpolicies', 'patch networkpolicies']).kube)
    const error = await stepError(checkDependencies('kubernetes', access('lab')))
    expect(error.details).toContain('not allowed in namespace dev: create networkpolicies, patch networkpolicies;')
  })

  it("on kubernetes with a range of workers, also asks for the controller's ServiceAccount, Role and RoleBinding, which edit lacks", async () => {
    host({ onPath: ['docker'], dockerAnswers: true })
    const fixed = fakeKube(['create roles', 'create rolebindings'])
    connectKube.mockResolvedValueOnce(fixed.kube)
    await expect(checkDependencies('kubernetes', access('lab'))).resolves.toContain('namespace dev')
    expect(fixed.reviews.some((right) => right.resource === 'roles')).toBe(false)
    connectKube.mockResolvedValueOnce(fakeKube(['create roles', 'create rolebindings']).kube)
    const error = await stepError(checkDependencies('kubernetes', { ...access('lab'), workerRange: { min: 1, max: 3 } }))
    expect(error.details).toContain('not allowed in namespace dev: create roles, create rolebindings; the tool needs the built-in admin role there for elastic workers')
  })

  it('on kubernetes, names every right the user lacks in the namespace before anything is applied', async () => {
    host({ onPath: ['docker'], dockerAnswers: true })
    connectKube.mockResolvedValueOnce(fakeKube(['create deployments', 'create pods/portforward']).kube)
    const error = await stepError(checkDependencies('kubernetes', access('lab')))
    expect(error.details).toBe(
      "  - kube context lab reachable, with the tool's rights in namespace dev: not allowed in namespace dev: create deployments, create pods/portforward; the tool needs the built-in admin (or edit) role there (`kubectl auth can-i --list -n dev`)",
    )
  })
})

describe('rulesGrant', () => {
  const right = (verb: string, resource: string, subresource?: string) => neededRights.find((r) => r.verb === verb && r.resource === resource && ('subresource' in r ? r.subresource : undefined) === subresource)!

  it('reads wildcards for verbs, groups, resources and subresources as RBAC does (`pods/*` is no wildcard there)', () => {
    expect(rulesGrant([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], right('create', 'pods', 'portforward'))).toBe(true)
    expect(rulesGrant([{ verbs: ['create'], apiGroups: [''], resources: ['pods/*'] }], right('create', 'pods', 'portforward'))).toBe(false)
    expect(rulesGrant([{ verbs: ['create'], apiGroups: [''], resources: ['*/portforward'] }], right('create', 'pods', 'portforward'))).toBe(true)
    expect(rulesGrant([{ verbs: ['create'], apiGroups: [''], resources: ['pods'] }], right('create', 'pods', 'portforward'))).toBe(false)
    expect(rulesGrant([{ verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] }], right('patch', 'deployments'))).toBe(false)
    expect(rulesGrant([{ verbs: ['patch'], apiGroups: [''], resources: ['deployments'] }], right('patch', 'deployments'))).toBe(false)
  })

  it('does not count a rule limited to named objects', () => {
    expect(rulesGrant([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], resourceNames: ['spark-master'] }], right('delete', 'deployments'))).toBe(false)
  })
})
