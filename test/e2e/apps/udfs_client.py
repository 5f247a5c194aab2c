# A laptop's Spark Connect client running real user code on the executors: a Python UDF, a
# pandas_udf and mapInPandas (both through Arrow), and toPandas back on this machine.
import json
import sys

import pandas as pd
from pyspark.sql import SparkSession, functions as F

spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
numbers = spark.range(1000)

plus_one = F.udf(lambda x: x + 1, "long")


@F.pandas_udf("long")
def doubled(values: pd.Series) -> pd.Series:
    return values * 2


def squared(batches):
    for batch in batches:
        yield batch.assign(id=batch.id**2)


sums = numbers.select(F.sum(plus_one("id")).alias("udf"), F.sum(doubled("id")).alias("pandas_udf")).first()
print(json.dumps({
    "python": "%d.%d" % sys.version_info[:2],
    "udf": sums.udf,
    "pandas_udf": sums.pandas_udf,
    "map_in_pandas": numbers.mapInPandas(squared, "id long").agg(F.sum("id")).first()[0],
    "to_pandas": int(numbers.where("id < 10").toPandas().id.sum()),
}))
