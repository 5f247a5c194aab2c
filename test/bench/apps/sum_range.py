# The job of the bench's "first cell vs submit": submitted as a file, and sent as the source of a
# notebook's first cell (where getOrCreate returns the kernel's `spark`). It times the action alone,
# so the two sides compare the job, not the driver's start; and says when its executors came, for
# where the time goes (a kernel holds none until a job asks: dynamic allocation).
import time

from pyspark.sql import SparkSession

ROWS = 3_000_000_000
spark = SparkSession.builder.getOrCreate()
executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # minus the driver
started_ms = time.time() * 1000
started = time.perf_counter()
total = spark.range(ROWS, numPartitions=4).selectExpr("sum(id)").collect()[0][0]
seconds = time.perf_counter() - started
try:
    # The driver's own record of its executors (the UI's): when each was added, from the action's start.
    listed = spark.sparkContext._jsc.sc().statusStore().executorList(True)
    added = sorted((listed.apply(i).addTime().getTime() - started_ms) / 1000 for i in range(listed.size()) if listed.apply(i).id() != "driver")
    came = ", ".join(f"{a:+.1f}" for a in added) + " s"
except Exception as error:  # a diagnosis only: the timing above stands without it
    came = f"unknown ({type(error).__name__})"
print(f"bench job: {seconds:.3f} s, sum {total}, executors at start {executors}, added at {came}")
