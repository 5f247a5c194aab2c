import { authVolume, sparkAuthConf } from './cluster-secret.ts'
import { ensureLabelledVolume } from './docker.ts'
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
  if (!(await ensureLabelledVolume(name, { role: 'auth' }, ourLabels(manifests)))) return false
  // The file goes in through stdin (never a command line or env var), written by root and handed to
  // the image's Spark user (uid 185, group 0), readable by it alone.
  const write = `umask 077 && cat > /auth/${file} && chown 185:0 /auth/${file} && chmod 0400 /auth/${file}`
  await run({ input: sparkAuthConf() })`docker run --rm --interactive --network none --user 0:0 --volume ${`${name}:/auth`} --entrypoint sh ${image} -c ${write}`
  return true
}

/** The cluster's spark-defaults.conf as the volume holds it, read by the Spark user in a throwaway container. */
export async function volumeAuthConf(manifests: ClusterManifests, image: string): Promise<string> {
  const { name, file } = authVolume(manifests)
  // Checked first: `docker run --mount` would quietly create a missing volume, unlabelled.
  if ((await run({ nothrow: true })`docker volume inspect ${name}`).exitCode !== 0) throw new StepError(`no Docker volume ${name} (the cluster's secret): run \`npm run cluster:up\` first`)
  const read = await run({ nothrow: true })`docker run --rm --network none --user 185:0 --mount ${`type=volume,source=${name},target=/auth,readonly`} --entrypoint cat ${image} ${`/auth/${file}`}`
  if (read.exitCode !== 0) throw new StepError(`could not read the cluster's secret from Docker volume ${name}: ${read.stderr.trim().split('\n').pop()}; run \`npm run cluster:up\` first`)
  return read.stdout
}
