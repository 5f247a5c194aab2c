# A submitted app on the user's data: reads the CSV the host wrote into the data folder, on the
# driver and the executors, and writes Parquet back for the host to read.
import json
import sys

from pyspark.sql import SparkSession, functions as F

data = sys.argv[1]
spark = SparkSession.builder.appName("data-app").getOrCreate()
people = spark.read.csv(f"{data}/people.csv", header=True, inferSchema=True)
by_city = people.groupBy("city").agg(F.count("*").alias("people"), F.sum("age").alias("age_sum")).orderBy("city")
by_city.write.mode("overwrite").parquet(f"{data}/{sys.argv[2]}")
print("DATA " + json.dumps({"rows": people.count(), "cities": [row.asDict() for row in by_city.collect()]}))
spark.stop()
