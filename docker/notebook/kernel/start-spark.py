# Runs in the notebook's namespace as the kernel starts: `spark` and `sc` are a driver on the
# cluster, configured by PYSPARK_SUBMIT_ARGS (the manifest) and $SPARK_CONF_DIR (the cluster's
# authentication and encryption).
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
sc = spark.sparkContext
# The master proxies every application's UI (spark.ui.reverseProxy): no port of the kernel's to forward.
print(f"spark: application {sc.applicationId} on {sc.master}; its UI: `npm run ui`, then /proxy/{sc.applicationId}/ on the master's page")
