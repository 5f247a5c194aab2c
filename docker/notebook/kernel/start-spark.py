# Runs in the notebook's namespace as the kernel starts: `spark` and `sc` are a driver on the
# cluster, configured by PYSPARK_SUBMIT_ARGS (the manifest) and $SPARK_CONF_DIR (the cluster's
# authentication and encryption).
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
sc = spark.sparkContext


# What a startup file prints reaches no notebook (none is listening yet): the line goes at the top
# of the first cell's output instead. The master proxies every application's UI (spark.ui.reverseProxy).
def _on_first_cell_say_where_spark_is(events):
    def say(_cell):
        events.unregister("pre_run_cell", say)
        print(f"spark: application {sc.applicationId} on {sc.master}; its UI: `npm run ui`, then /proxy/{sc.applicationId}/ on the master's page")

    events.register("pre_run_cell", say)


_on_first_cell_say_where_spark_is(get_ipython().events)  # noqa: F821 (IPython's builtin)
del _on_first_cell_say_where_spark_is
