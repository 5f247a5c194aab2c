import { withAuthConf } from './cluster-secret.ts'
import { podTemplate, renderServer, type ServerManifests } from './manifests.ts'
import type { ClusterServer } from './server.ts'
import { withStorage, type ClusterStorage } from './storage.ts'
import type { Target } from './target.ts'

/**
 * JupyterLab (manifests/notebook/): a Deployment + ClusterIP Service reached by port-forward on
 * Kubernetes, a container published on loopback on Docker; its kernel is a PySpark driver.
 */
export interface NotebookServer extends ClusterServer {
  /**
   * Its Deployment and Service on JupyterLab's image, with the cluster's conf (by digest: a new conf
   * restarts it, as the token is in it) and storage; its own notebooks claim when the data holds none.
   */
  render(image: string, authConf: string, storage: ClusterStorage): ServerManifests
  /** Where its notebooks live, in the user's words: the data's notebooks/, or its own volume or claim. */
  notebooksHome(storage: ClusterStorage): string
}

export function notebookServer(target: Target): NotebookServer {
  const { notebook } = target.manifests
  const server = target.runtime.server({ manifests: notebook, what: 'JupyterLab', scheme: 'http' })
  return {
    ...server,
    render: (image, authConf, storage) => {
      const rendered = renderServer(storage.data ? notebook : { ...notebook, claims: [notebook.claim] }, { image, namespace: target.config.namespace })
      withStorage(podTemplate(withAuthConf(rendered.deployment, authConf)), storage)
      return rendered
    },
    notebooksHome: (storage) => (storage.data ? `${storage.data.what}, its notebooks/` : `${target.runtime.claimNoun} ${notebook.claim.metadata!.name}`),
  }
}
