# Logs more through the driver's log4j than the small driver-log bound its e2e sets, then prints its id.
import sys

from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
log = spark.sparkContext._jvm.org.apache.logging.log4j.LogManager.getLogger("logs_a_lot")
for line in range(int(sys.argv[1])):
    log.info(f"line {line:06d} {'x' * 80}")
print("APP_ID", spark.sparkContext.applicationId)
spark.stop()
