"""Estimates Pi by Monte Carlo sampling on a Spark cluster.

Environment:
  PI_PARTITIONS             number of partitions (tasks), default 2
  PI_SAMPLES_PER_PARTITION  random points drawn per partition, default 2000000

Prints a human line and one machine-readable line for tools to parse:
  Pi is roughly 3.141592
  PI_RESULT {"pi": 3.141592, "partitions": 2, "samples": 4000000}
"""

import json
import os
import random
import re
import socket
import sys
from operator import add

from pyspark.sql import SparkSession


def positive_int(name, default):
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) <= 0:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


def count_inside(samples):
    def count(index):
        # One generator per partition, seeded by its index, so a run is reproducible
        # whichever executor computes which partition.
        rng = random.Random(index)
        inside = 0
        for _ in range(samples):
            x = rng.random() * 2 - 1
            y = rng.random() * 2 - 1
            if x * x + y * y <= 1:
                inside += 1
        return inside

    return count


def main():
    try:
        partitions = positive_int("PI_PARTITIONS", 2)
        samples = positive_int("PI_SAMPLES_PER_PARTITION", 2000000)
    except ValueError as error:
        # Checked before Spark starts: a bad setting fails fast without touching the cluster.
        sys.exit(f"pi.py: error: {error}")

    # Executors dial the driver back. A pod's name is not in cluster DNS, so advertise the IP
    # this host name maps to (the pod's or container's own), unless told otherwise.
    driver_host = os.environ.get("SPARK_DRIVER_HOST") or socket.gethostbyname(socket.gethostname())
    spark = SparkSession.builder.appName("PythonPi").config("spark.driver.host", driver_host).getOrCreate()
    try:
        sc = spark.sparkContext
        inside = sc.parallelize(range(partitions), partitions).map(count_inside(samples)).reduce(add)
    finally:
        spark.stop()

    total = partitions * samples
    pi = 4.0 * inside / total
    print(f"Pi is roughly {pi:f}", flush=True)
    print("PI_RESULT " + json.dumps({"pi": pi, "partitions": partitions, "samples": total}), flush=True)


if __name__ == "__main__":
    main()
