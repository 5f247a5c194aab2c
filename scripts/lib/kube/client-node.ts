// The parts of @kubernetes/client-node this tool uses, named: the bundle keeps only these (and
// what they need), which makes the library ~5× faster to load than its whole index. Its KubeConfig
// comes with a deadline on every call (deadline-config.ts).
export { DeadlineKubeConfig } from './deadline-config.ts'
export {
  AppsV1Api,
  Attach,
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  Log,
  PatchStrategy,
  PortForward,
  VersionApi,
  Watch,
} from '@kubernetes/client-node'
