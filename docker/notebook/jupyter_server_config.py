# The notebook server's settings (the venv's config dir: jupyter lab reads it on start).
# The token comes from the cluster's secret conf, never from the command line or environment
# (both show in `ps` and the pod spec); without one the server does not start at all.
import os
import sys

conf = os.path.join(os.environ.get("SPARK_CONF_DIR", "/etc/spark/auth"), "spark-defaults.conf")
token = ""
try:
    with open(conf) as lines:
        for line in lines:
            # Spark's properties syntax: "key value" or "key=value"; the last one counts.
            key, _, value = line.strip().replace("=", " ", 1).partition(" ")
            if key == "spark.notebook.token":
                token = value.strip()
except OSError:
    pass
if not token:
    print(f"jupyter: refusing to start: {conf} has no spark.notebook.token (`npm run cluster:up` adds one to the cluster's secret)", file=sys.stderr)
    sys.exit(1)

c = get_config()  # noqa: F821 (traitlets provides it)
c.IdentityProvider.token = token
# Inside the pod/container; only a port-forward or a loopback publish reaches it.
c.ServerApp.ip = "0.0.0.0"
c.ServerApp.port = 8888
c.ServerApp.port_retries = 0
c.ServerApp.open_browser = False
c.ServerApp.root_dir = "/opt/spark/notebooks"
# A shell in the driver's pod is one more way in, with the cluster's secret readable: off.
c.ServerApp.terminals_enabled = False
# Extensions come with the image, never installed from the browser; no update checks leave the cluster.
c.LabApp.extension_manager = "readonly"
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
# Only the PySpark kernel: a plain Python one would have no `spark`.
c.KernelSpecManager.ensure_native_kernel = False
c.KernelSpecManager.allowed_kernelspecs = {"pyspark"}
c.MultiKernelManager.default_kernel_name = "pyspark"
