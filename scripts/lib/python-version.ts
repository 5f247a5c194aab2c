/**
 * Which Python the cluster's executors run. A Python UDF is pickled by the client's interpreter
 * and unpickled by the executor's, and Spark refuses any two minor versions that differ
 * (PYTHON_VERSION_MISMATCH), so the image is built for one minor version and says which in its tag.
 */
/**
 * The minor versions an image can run for a Spark release. Spark 3.5 stops at 3.11: Python 3.12
 * support (no distutils, a newer cloudpickle) came with Spark 4.
 */
export function imagePythons(sparkVersion: string): readonly string[] {
  return Number(sparkVersion.split('.')[0]) >= 4 ? ['3.10', '3.11', '3.12', '3.13'] : ['3.10', '3.11']
}

/** When neither --python nor this machine's python3 says: Debian 12's, the default base's own. */
export const fallbackPython = '3.11'

/**
 * The base image that gives a minor version: Debian's own python3 where a stable release carries it
 * (bookworm 3.11, trixie 3.13), else Docker Hub's official python image, which is Debian 12 too.
 */
export function baseImageFor(python: string): string {
  if (python === '3.11') return 'debian:bookworm-slim'
  if (python === '3.13') return 'debian:trixie-slim'
  return `python:${python}-slim-bookworm`
}

/** The image's Python: --python, else this machine's python3 when the image can run it, else the fallback. */
export function imagePython(config: { python?: string; sparkVersion: string }, host: () => string | undefined): string {
  if (config.python) return config.python
  const found = host()
  return found && imagePythons(config.sparkVersion).includes(found) ? found : fallbackPython
}

/** An image reference's tag (after the last path part's colon, so a registry's port is not it, and before a pinned @digest); '' without one. */
export function imageTag(image: string): string {
  return image.slice(image.lastIndexOf('/') + 1).split('@')[0].split(':')[1] ?? ''
}

/** The Python minor version in the tag of an image this tool built (<spark>-py<python>-<hash>), if it says. */
export function pythonVersionOf(image: string): string | undefined {
  return /^\d+\.\d+\.\d+-py(\d+\.\d+)-[0-9a-f]+$/.exec(imageTag(image))?.[1]
}
