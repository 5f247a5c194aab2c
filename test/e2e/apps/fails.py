# An app that fails after starting its SparkSession: submit must exit non-zero and show the traceback.
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("e2e-fails").getOrCreate()
spark.range(3).count()
raise ValueError("raised on purpose by fails.py")
