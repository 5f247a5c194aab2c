# A job that takes a while and shuffles, for the durability tests: a map stage whose tasks each
# sleep, a shuffle, and a reduce stage that sleeps too. Prints the sum of 0..N-1, computed the
# long way, so a lost or doubled partition shows in the result.
#   durable.py PARTITIONS SECONDS_PER_TASK
import sys
import time

from pyspark.sql import SparkSession

partitions, seconds = int(sys.argv[1]), float(sys.argv[2])
spark = SparkSession.builder.appName("durable").getOrCreate()
sc = spark.sparkContext
rows_per_partition = 1000


def slow_rows(index):
    time.sleep(seconds)
    start = index * rows_per_partition
    return [(n % 10, n) for n in range(start, start + rows_per_partition)]


def slow_partition(rows):
    time.sleep(seconds)
    return rows


sums = (
    sc.parallelize(range(partitions), partitions)
    .flatMap(slow_rows)
    .reduceByKey(lambda a, b: a + b, numPartitions=partitions)
    .mapPartitions(slow_partition)
    .collect()
)
print("APP_ID", sc.applicationId, flush=True)
print("RESULT", sum(value for _, value in sums), flush=True)
spark.stop()
