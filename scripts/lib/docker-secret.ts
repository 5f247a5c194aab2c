import { authVolume, sparkAuthConf } from './cluster-secret.ts'
import { StepError } from './errors.ts'
import { ourLabels, type ClusterManifests } from './manifests.ts'
import { run } from './proc.ts'

/**
 * Docker's home for the cluster's secret: a volume named like the Secret, labelled ours, holding
 * spark-defaults.conf readable by the Spark user only. Kept while it exists (a second `cluster:up`
 * keeps the secret); `cluster:down` removes it with the other labelled volumes.
 */
export async function ensureAuthVolume(manifests: ClusterManifests, image: string): Promise<boolean> {
  const { name, file } = authVolume(manifests)
  const labels = ourLabels(manifests)
  const found = await run({ nothrow: true })`docker volume inspect --format ${'{{json .Labels}}'} ${name}`
  if (found.exitCode === 0) {
    const theirs = JSON.parse(found.stdout || 'null') as Record<string, string> | null
    if (Object.entries(labels).every(([key, value]) => theirs?.[key] === value)) return false
    throw new StepError(`a Docker volume ${name} exists without our labels: refusing to use it`, '  - it belongs to someone else: remove or rename it')
  }
  const labelArgs = Object.entries({ ...labels, role: 'auth' }).flatMap(([key, value]) => ['--label', `${key}=${value}`])
  await run`docker volume create ${labelArgs} ${name}`
  // The file goes in through stdin (never a command line or env var), written by root and handed to
  // the image's Spark user (uid 185, group 0), readable by it alone.
  const write = `umask 077 && cat > /auth/${file} && chown 185:0 /auth/${file} && chmod 0400 /auth/${file}`
  await run({ input: sparkAuthConf() })`docker run --rm --interactive --network none --user 0:0 --volume ${`${name}:/auth`} --entrypoint sh ${image} -c ${write}`
  return true
}
