// Certificates and the admin kubeconfig of the test cluster, made with openssl once and reused.
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { $ } from 'zx'
import { stringify } from 'yaml'

export interface PkiLayout {
  dir: string
  ca: string
  caKey: string
  apiserverCert: string
  apiserverKey: string
  adminCert: string
  adminKey: string
  serviceAccountKey: string
  serviceAccountPub: string
}

export function pkiLayout(dir: string): PkiLayout {
  const at = (name: string) => join(dir, name)
  return {
    dir,
    ca: at('ca.crt'),
    caKey: at('ca.key'),
    apiserverCert: at('apiserver.crt'),
    apiserverKey: at('apiserver.key'),
    adminCert: at('admin.crt'),
    adminKey: at('admin.key'),
    serviceAccountKey: at('sa.key'),
    serviceAccountPub: at('sa.pub'),
  }
}

/** A CA, the API server's serving cert (its service IP, node IP and names), an admin client cert, the SA key pair. */
export async function ensurePki(dir: string, names: { nodeIp: string; serviceIp: string }): Promise<PkiLayout> {
  const pki = pkiLayout(dir)
  if (existsSync(pki.serviceAccountPub)) return pki
  await mkdir(dir, { recursive: true })
  const ssl = $({ cwd: dir, quiet: true })
  await ssl`openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=spark-standalone-k8s-ground-ca -keyout ${pki.caKey} -out ${pki.ca}`
  const sans = [
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
    'DNS:localhost',
    `IP:${names.serviceIp}`,
    `IP:${names.nodeIp}`,
    'IP:127.0.0.1',
  ].join(',')
  const sign = async (name: string, subject: string, extensions: string) => {
    const ext = join(dir, `${name}.ext`)
    await writeFile(ext, extensions)
    await ssl`openssl req -newkey rsa:2048 -nodes -subj ${subject} -keyout ${join(dir, `${name}.key`)} -out ${join(dir, `${name}.csr`)}`
    await ssl`openssl x509 -req -days 3650 -in ${join(dir, `${name}.csr`)} -CA ${pki.ca} -CAkey ${pki.caKey} -CAcreateserial -extfile ${ext} -out ${join(dir, `${name}.crt`)}`
  }
  await sign('apiserver', '/CN=kube-apiserver', `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`)
  await sign('admin', '/O=system:masters/CN=spark-standalone-k8s-admin', 'extendedKeyUsage=clientAuth\n')
  await ssl`openssl genrsa -out ${pki.serviceAccountKey} 2048`
  await ssl`openssl rsa -in ${pki.serviceAccountKey} -pubout -out ${pki.serviceAccountPub}`
  return pki
}

/** The admin kubeconfig, with a context of its own so it never hijacks anyone's current context. */
export async function writeKubeconfig(path: string, pki: PkiLayout, server: string, context: string): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server, 'certificate-authority': pki.ca } }],
    users: [{ name: `${context}-admin`, user: { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey } }],
    contexts: [{ name: context, context: { cluster: context, user: `${context}-admin`, namespace: 'default' } }],
    'current-context': context,
  }
  await writeFile(path, stringify(config))
}
