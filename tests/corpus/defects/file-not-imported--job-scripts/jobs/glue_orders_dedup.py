"""Removes duplicate orders. Runs on AWS Glue, started by the scheduler but never imported by it."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source_path", "target_path"])
glue = GlueContext(SparkContext.getOrCreate())
job = Job(glue)
job.init(args["JOB_NAME"], args)
orders = glue.spark_session.read.parquet(args["source_path"])
orders.dropDuplicates(["order_id"]).write.mode("overwrite").parquet(args["target_path"])
job.commit()
