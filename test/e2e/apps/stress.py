# Memory stress for the durability tests: fills the executors' heaps with cached, incompressible
# blocks, then runs Python UDFs that allocate in the Python workers while the cache is held.
# Prints the answer of the UDF job and the fullest executor heap the driver saw, as a fraction of
# the executor's -Xmx (spark.executor.memory).
#   stress.py CACHE_MIB
import json
import os
import sys
import time
import urllib.request

from pyspark.sql import SparkSession
from pyspark.sql.functions import col, sum as total, udf

cache_mib = int(sys.argv[1])
spark = SparkSession.builder.appName("stress").getOrCreate()
sc = spark.sparkContext

# 1 MiB random blocks: pickled as they are, so the cached bytes are as large as asked for.
partitions = max(1, cache_mib // 32)
blocks = sc.parallelize(range(partitions), partitions).flatMap(lambda _: [os.urandom(1 << 20) for _ in range(32)])
blocks.persist()
print("CACHED_BLOCKS", blocks.count(), flush=True)


@udf("long")
def churn(n):
    # A few MiB per row in the Python worker, freed at once: the Python side of the executor's memory.
    scratch = bytearray(4 << 20)
    scratch[-1] = n % 251
    return n * 2 + scratch[-1] - n % 251


rows = spark.range(0, 40_000, numPartitions=16)
answer = rows.select(churn(col("id")).alias("v")).agg(total("v")).first()[0]
print("CACHED_AFTER", blocks.count(), flush=True)
print("RESULT", answer, flush=True)

time.sleep(12)  # one more executor heartbeat, so the driver has the last peaks
heap = sc.getConf().get("spark.executor.memory", "1g")
executor_bytes = int(heap[:-1]) << {"m": 20, "g": 30}[heap[-1].lower()]
url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/allexecutors"
executors = [e for e in json.load(urllib.request.urlopen(url)) if e["id"] != "driver"]
peaks = [e.get("peakMemoryMetrics", {}).get("JVMHeapMemory", 0) for e in executors]
print("HEAP_PEAK_FRACTION", round(max(peaks) / executor_bytes, 3), flush=True)
spark.stop()
