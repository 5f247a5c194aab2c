#!/usr/bin/env -S npx tsx
// README step "Install the required software", checked instead of assumed: no Python on the host.
import type { V1ResourceRule } from '@kubernetes/client-node'
import { parseConfig, type Config, type Platform } from './lib/config.ts'
import { errorMessage, StepError } from './lib/errors.ts'
import { engineAnswers } from './lib/docker/engine.ts'
import { connectKube } from './lib/kube/kube.ts'
import { runIfMain } from './lib/main.ts'
import { resolvePlatform } from './lib/platform.ts'
import { onPath } from './lib/proc.ts'

export interface Requirement {
  what: string
  ok: boolean
  fix: string
}

const minimumNode = [20, 11]

type AccessConfig = Pick<Config, 'context' | 'namespace' | 'workerRange'>

/** One right in the namespace, as a SelfSubjectAccessReview asks it. */
type Right = { verb: string; group: string; resource: string; subresource?: string }

/** What the commands do in the namespace; all within the built-in `admin` (or `edit`) role bound there. */
export const neededRights = [
  { verb: 'get', group: 'apps', resource: 'deployments' },
  { verb: 'create', group: 'apps', resource: 'deployments' },
  { verb: 'patch', group: 'apps', resource: 'deployments' },
  { verb: 'delete', group: 'apps', resource: 'deployments' },
  { verb: 'get', group: '', resource: 'services' },
  { verb: 'create', group: '', resource: 'services' },
  { verb: 'patch', group: '', resource: 'services' },
  { verb: 'delete', group: '', resource: 'services' },
  { verb: 'get', group: '', resource: 'persistentvolumeclaims' },
  { verb: 'create', group: '', resource: 'persistentvolumeclaims' },
  { verb: 'patch', group: '', resource: 'persistentvolumeclaims' },
  { verb: 'delete', group: '', resource: 'persistentvolumeclaims' },
  { verb: 'get', group: 'policy', resource: 'poddisruptionbudgets' },
  { verb: 'create', group: 'policy', resource: 'poddisruptionbudgets' },
  { verb: 'patch', group: 'policy', resource: 'poddisruptionbudgets' },
  { verb: 'delete', group: 'policy', resource: 'poddisruptionbudgets' },
  { verb: 'get', group: 'networking.k8s.io', resource: 'networkpolicies' },
  { verb: 'create', group: 'networking.k8s.io', resource: 'networkpolicies' },
  { verb: 'patch', group: 'networking.k8s.io', resource: 'networkpolicies' },
  { verb: 'delete', group: 'networking.k8s.io', resource: 'networkpolicies' },
  { verb: 'get', group: '', resource: 'secrets' },
  { verb: 'create', group: '', resource: 'secrets' },
  { verb: 'patch', group: '', resource: 'secrets' },
  { verb: 'create', group: '', resource: 'configmaps' },
  { verb: 'update', group: '', resource: 'configmaps' },
  { verb: 'delete', group: '', resource: 'configmaps' },
  { verb: 'create', group: 'batch', resource: 'jobs' },
  { verb: 'delete', group: 'batch', resource: 'jobs' },
  { verb: 'list', group: '', resource: 'pods' },
  { verb: 'create', group: '', resource: 'pods' },
  { verb: 'get', group: '', resource: 'pods' },
  { verb: 'create', group: '', resource: 'pods', subresource: 'attach' },
  { verb: 'delete', group: '', resource: 'pods' },
  { verb: 'get', group: '', resource: 'pods', subresource: 'log' },
  { verb: 'get', group: '', resource: 'services', subresource: 'proxy' },
  { verb: 'create', group: '', resource: 'pods', subresource: 'portforward' },
] as const

/**
 * What `cluster:up --workers MIN..MAX` does besides (manifests/elastic/): the controller's ServiceAccount,
 * Role and RoleBinding, which the built-in admin role may make and edit may not, and `status` reads its Events.
 */
export const elasticRights = [
  ...['get', 'create', 'patch', 'delete'].map((verb) => ({ verb, group: '', resource: 'serviceaccounts' })),
  ...['roles', 'rolebindings'].flatMap((resource) => ['get', 'create', 'patch', 'delete'].map((verb) => ({ verb, group: 'rbac.authorization.k8s.io', resource }))),
  { verb: 'list', group: '', resource: 'events' },
]

/**
 * Undefined when the context answers and may do all of `neededRights` (and `elasticRights` for a range) in the namespace; else why
 * not, in one line. Only namespaced questions are asked (SelfSubjectRulesReview, SelfSubjectAccessReview
 * and /version are open to every signed-in user), so a user bound to one namespace passes.
 */
export async function kubeAccessProblem(context: string | undefined, namespace: string, elastic = false): Promise<string | undefined> {
  const rights: readonly Right[] = elastic ? [...neededRights, ...elasticRights] : neededRights
  try {
    const kube = await connectKube(context)
    await kube.config.makeApiClient(kube.k8s.VersionApi).getCode()
    // One question first: the rules the user holds in the namespace (what `kubectl auth can-i --list`
    // reads). They may be incomplete (not every authorizer can list them), so a right they do not
    // show is then asked about alone.
    const rules = await kube.authorization.createSelfSubjectRulesReview({ body: { spec: { namespace } } }).catch(() => ({ status: { resourceRules: [] } }))
    const unshown = rights.filter((right) => !rulesGrant(rules.status?.resourceRules ?? [], right))
    const answers = await Promise.all(
      unshown.map(async (right) => {
        const review = await kube.authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, ...right } } } })
        return review.status?.allowed ? undefined : `${right.verb} ${right.resource}${right.subresource ? `/${right.subresource}` : ''}`
      }),
    )
    const denied = answers.filter(Boolean)
    if (denied.length === 0) return undefined
    return `not allowed in namespace ${namespace}: ${denied.join(', ')}; the tool needs the built-in ${elastic ? 'admin role there for elastic workers' : 'admin (or edit) role there'} (\`kubectl auth can-i --list -n ${namespace}\`)`
  } catch (error) {
    return errorMessage(error)
  }
}

/** Whether RBAC rules grant a right throughout the namespace (a rule limited to named objects does not). */
export function rulesGrant(rules: V1ResourceRule[], right: Right): boolean {
  const listed = (values: string[] | undefined, value: string) => (values ?? []).some((v) => v === '*' || v === value)
  const subresource = right.subresource
  // As RBAC matches: `*`, the exact resource, or `*/<subresource>` (never `<resource>/*`).
  const resources = subresource ? [`${right.resource}/${subresource}`, `*/${subresource}`] : [right.resource]
  return rules.some(
    (rule) =>
      !rule.resourceNames?.length &&
      listed(rule.verbs, right.verb) &&
      listed(rule.apiGroups, right.group) &&
      (rule.resources ?? []).some((r) => r === '*' || resources.includes(r)),
  )
}

export function nodeIsRecentEnough(version: string = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number)
  return major > minimumNode[0] || (major === minimumNode[0] && minor >= minimumNode[1])
}

/** Every requirement of the platform, checked at once so one message can list all that is missing. */
export async function checkRequirements(platform: Platform, { context, namespace, workerRange }: AccessConfig): Promise<Requirement[]> {
  const hasDocker = await onPath('docker')
  const requirements: Requirement[] = [
    { what: `Node.js >= ${minimumNode.join('.')} (have ${process.versions.node})`, ok: nodeIsRecentEnough(), fix: 'install Node 20 LTS from nodejs.org or your package manager' },
  ]
  // Every platform builds the image with the local Docker engine.
  requirements.push(
    { what: 'docker CLI', ok: hasDocker, fix: 'install Docker (Docker Desktop, or `apt-get install docker.io`)' },
    { what: 'a reachable Docker daemon', ok: hasDocker && (await engineAnswers()), fix: 'start Docker Desktop or `sudo systemctl start docker`; check DOCKER_HOST' },
  )
  if (platform === 'minikube') {
    requirements.push({ what: 'minikube', ok: await onPath('minikube'), fix: 'install minikube: https://minikube.sigs.k8s.io/docs/start/' })
  }
  if (platform === 'kubernetes') {
    const problem = await kubeAccessProblem(context, namespace, Boolean(workerRange))
    requirements.push({ what: `kube context ${context ?? '(current)'} reachable, with the tool's rights in namespace ${namespace}`, ok: !problem, fix: problem ?? '' })
  }
  return requirements
}

export async function checkDependencies(platform: Platform, access: AccessConfig): Promise<string> {
  const requirements = await checkRequirements(platform, access)
  const missing = requirements.filter((r) => !r.ok)
  if (missing.length > 0) {
    throw new StepError(
      `missing ${missing.map((r) => r.what).join(', ')}`,
      missing.map((r) => `  - ${r.what}: ${r.fix}`).join('\n'),
    )
  }
  return requirements.map((r) => r.what).join(', ')
}

runIfMain(import.meta.url, async () => {
  const config = parseConfig('up', process.argv.slice(2))
  const { platform } = await resolvePlatform(config)
  console.log(`${platform}: ${await checkDependencies(platform, config)}`)
})
