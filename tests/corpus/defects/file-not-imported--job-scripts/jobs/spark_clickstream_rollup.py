"""Weekly page counts of the clickstream, submitted to EMR Serverless."""

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.appName("clickstream-rollup").getOrCreate()
events = spark.read.json("s3://example-clickstream/raw/")
weekly = events.groupBy(F.window("ts", "7 days"), "page").count()
weekly.write.mode("overwrite").parquet("s3://example-clickstream/weekly/")
