# An app whose task raises in an executor (in its Python worker), which fails the driver too: submit
# must exit non-zero and show the traceback, and the executor's own log (npm run logs) keeps it.
from pyspark.sql import SparkSession

# One attempt: the task's traceback is in one executor's log, and the app fails at once.
spark = SparkSession.builder.appName("e2e-fails").config("spark.task.maxFailures", "1").getOrCreate()
print(f"APP_ID {spark.sparkContext.applicationId}", flush=True)
spark.range(3).count()


def fail(_):
    raise ValueError("raised on purpose by fails.py")


spark.sparkContext.parallelize([1], 1).foreach(fail)
