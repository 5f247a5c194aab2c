# An app as users write them, for `npm run submit`: reads its arguments, a --files input by name
# and a helper module from --py-files; a groupBy in the cluster; prints a checksum of the result.
import hashlib
import json
import sys

from pyspark.sql import SparkSession

from words import split_words

spark = SparkSession.builder.appName("e2e-wordcount").getOrCreate()
args = sys.argv[1:]
with open("lines.txt") as lines:
    text = lines.read().splitlines() + args
frame = spark.createDataFrame([(word,) for word in split_words(text)], ["word"])
counts = sorted([row["word"], row["count"]] for row in frame.groupBy("word").count().collect())
encoded = json.dumps(counts, separators=(",", ":"))
print("ARGS " + json.dumps(args))
print("COUNTS " + encoded)
print("CHECKSUM " + hashlib.sha256(encoded.encode()).hexdigest())
spark.stop()
