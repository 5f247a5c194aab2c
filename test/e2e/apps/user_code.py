# A submitted app that needs what cluster:up --pip and --packages add: a pip package (tabulate)
# on the driver, pandas on driver and executors, and a JDBC driver (H2, from Maven Central)
# loaded by the driver for the schema and by the executors for the rows.
import json

import pandas as pd
import tabulate
from pyspark.sql import SparkSession, functions as F

spark = SparkSession.builder.getOrCreate()
rows = (
    spark.read.format("jdbc")
    .option("driver", "org.h2.Driver")
    .option("url", "jdbc:h2:mem:e2e")
    .option("query", "SELECT X AS N FROM SYSTEM_RANGE(1, 10)")
    .load()
)


@F.pandas_udf("long")
def cubed(values: pd.Series) -> pd.Series:
    return values**3


frame = rows.select(F.col("N").cast("long").alias("n"), cubed(F.col("N").cast("long")).alias("cube")).orderBy("n").toPandas()
print(tabulate.tabulate(frame.tail(3), headers="keys", showindex=False))
print("USER_CODE " + json.dumps({"jdbc_sum": int(frame.n.sum()), "cube_sum": int(frame.cube.sum()), "pandas": pd.__version__, "tabulate": tabulate.__version__}))
