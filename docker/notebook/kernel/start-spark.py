# Runs in the notebook's namespace as the kernel starts: `spark` and `sc` are a driver on the
# cluster, configured by PYSPARK_SUBMIT_ARGS (the manifest) and $SPARK_CONF_DIR (the cluster's
# authentication and encryption).
import traceback

from pyspark.sql import SparkSession


# The folder this kernel's driver keeps its log in (the image's driver-log4j2.properties): each kernel
# names its own, as every kernel of this pod is a driver JVM of its own. In a function: the imports
# stay out of the notebook's namespace.
def _name_driver_log():
    import os
    import socket
    import time

    os.environ["SPARK_DRIVER_LOG_NAME"] = f"{socket.gethostname()}-kernel-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"


_name_driver_log()

try:
    spark = SparkSession.builder.getOrCreate()
    sc = spark.sparkContext
    _spark_line = f"spark: application {sc.applicationId} on {sc.master}; its UI: `npm run ui`, then /proxy/{sc.applicationId}/ on the master's page"
except Exception as _error:  # noqa: BLE001 (whatever stopped the driver, the user must see it)
    # Otherwise only the pod's log would say why, and every cell would just find no `spark`.
    _spark_line = "spark: the driver did not start, so there is no `spark` or `sc`:\n" + "".join(traceback.format_exception_only(type(_error), _error)).strip()


# What a startup file prints reaches no notebook (none is listening yet): the line goes at the top
# of the first cell's output instead. The master proxies every application's UI (spark.ui.reverseProxy).
def _on_first_cell_say(line, events):
    def say(_cell):
        events.unregister("pre_run_cell", say)
        print(line)

    events.register("pre_run_cell", say)


_on_first_cell_say(_spark_line, get_ipython().events)  # noqa: F821 (IPython's builtin)
del _name_driver_log, _on_first_cell_say, _spark_line
