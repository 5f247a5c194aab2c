import { uiPort } from '../manifests.ts'
import type { MasterUi } from '../master-ui.ts'
import { fetchMasterState, fetchUiPath } from '../spark-ui.ts'
import type { Target } from '../target.ts'

/** Docker publishes the UI's NodePort on 127.0.0.1 (see planContainer): it answers as it is. */
export function dockerUi(target: Target): MasterUi {
  const url = `http://127.0.0.1:${uiPort(target.manifests).nodePort}`
  return {
    via: url,
    readState: () => fetchMasterState(url),
    get: (path, timeoutMs) => fetchUiPath(url, path, timeoutMs),
    link: async () => ({ url }),
    forward: async () => ({ url, how: 'published on loopback by Docker; nothing to keep running', keepsRunning: false, close: async () => {} }),
  }
}
