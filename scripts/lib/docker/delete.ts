import type { DeletableRole } from '../config.ts'
import { ourLabels, selectorOf } from '../manifests.ts'
import type { StepOutcome } from '../outcome.ts'
import { withDataKept, withNotebooksKept } from '../storage.ts'
import type { Target } from '../target.ts'
import { engineContainers, engineEndpoint, engineExpect, labelQuery } from './engine.ts'

/**
 * Containers, and (when deleting everything) the network and any volumes, found by label: on the
 * engine's API, what `docker rm --force --volumes`, `network rm` and `volume rm` would do. The
 * notebooks volume stays unless --delete-notebooks asks for it.
 */
export async function deleteOnDocker(target: Target, role: DeletableRole | undefined): Promise<StepOutcome> {
  const labels = { ...ourLabels(target.manifests), ...(role ? { role } : {}) }
  const timeoutMs = target.config.timeoutSeconds * 1000
  const engine = engineEndpoint()
  const ours = labelQuery(ourLabels(target.manifests))
  const notebookRole = target.manifests.notebook.claim.metadata!.labels!.role
  const list = <T>(path: string) => engineExpect<T>(engine, 'GET', path).then((found) => found!)
  const call = (method: string, path: string, body?: unknown) => engineExpect(engine, method, path, { missingOk: true, timeoutMs, body })
  // Everything is listed at once.
  const [containers, networks, found] = await Promise.all([
    // Containers and networks are addressed by id (names are for the report): a container may have several names, and networks may share one.
    engineContainers(labels, engine),
    labels.role ? ([] as { id: string; name: string }[]) : list<{ Id: string; Name: string }[]>(`/networks?${ours}`).then((found) => found.map((n) => ({ id: n.Id, name: n.Name })).sort((a, b) => a.name.localeCompare(b.name))),
    // Volumes go with the whole cluster, and JupyterLab's (its notebooks) with it alone.
    labels.role && labels.role !== notebookRole ? ([] as string[]) : list<{ Volumes: { Name: string }[] | null }>(`/volumes?${labelQuery(labels)}`).then((found) => (found.Volumes ?? []).map((v) => v.Name).sort()),
  ])
  const notebooks = target.manifests.notebook.claim.metadata!.name!
  const keptNotebooks = !target.config.deleteNotebooks && found.includes(notebooks)
  const volumes = found.filter((name) => !keptNotebooks || name !== notebooks)
  // The containers leave the network first, so it goes while they are being removed instead of
  // after (a network's removal takes ~0.2 s; measured ~0.1 s less in all). Volumes wait for their containers.
  const networkIds = new Set(networks.map((network) => network.id))
  await Promise.all(containers.flatMap(({ id, networks: on }) => on.filter((network) => networkIds.has(network.id)).map((network) => call('POST', `/networks/${network.id}/disconnect`, { Container: id, Force: true }))))
  await Promise.all([
    Promise.all(containers.map(({ id }) => call('DELETE', `/containers/${id}?force=1&v=1`))).then(() => Promise.all(volumes.map((name) => call('DELETE', `/volumes/${name}`)))),
    ...networks.map(({ id }) => call('DELETE', `/networks/${id}`)),
  ])
  const deleted = [...containers.map(({ name }) => name), ...networks.map(({ name }) => `network ${name}`), ...volumes.map((name) => `volume ${name}`)]
  const master = containers.find((c) => c.labels.role === 'master')
  const outcome = withDataKept(deleted.length > 0 ? { done: `deleted ${deleted.join(', ')}` } : { skipped: `nothing labelled ${selectorOf(labels)} on this Docker engine` }, master?.labels)
  return withNotebooksKept(outcome, keptNotebooks ? `volume ${notebooks}` : undefined)
}

