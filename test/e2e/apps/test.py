# The classic README's test.py, as a Spark Connect program: the same Monte Carlo estimate of Pi,
# written with DataFrames (Connect has no RDD API), driven from this machine, computed in the cluster.
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.remote(os.environ["SPARK_REMOTE"]).getOrCreate()
samples = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
points = spark.range(samples, numPartitions=4).select(
    (F.rand(seed=1) * 2 - 1).alias("x"), (F.rand(seed=2) * 2 - 1).alias("y")
)
inside = points.where(points.x * points.x + points.y * points.y <= 1).count()
print("Pi is roughly %.4f" % (4.0 * inside / samples))
spark.stop()
