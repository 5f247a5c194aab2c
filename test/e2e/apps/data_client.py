# A laptop's Spark Connect client on the cluster's data folder: the paths are the cluster's, so the
# CSV the host wrote is read there and the Parquet written there.
import json
import sys

from pyspark.sql import SparkSession, functions as F

spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
data = sys.argv[2]
people = spark.read.csv(f"{data}/people.csv", header=True, inferSchema=True)
by_city = people.groupBy("city").agg(F.count("*").alias("people"), F.sum("age").alias("age_sum")).orderBy("city")
by_city.write.mode("overwrite").parquet(f"{data}/{sys.argv[3]}")
print(json.dumps({"rows": people.count(), "cities": [row.asDict() for row in by_city.collect()]}))
