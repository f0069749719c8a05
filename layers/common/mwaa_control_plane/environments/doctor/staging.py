"""The control plane's side: the staging prefix of this environment routes to its source bucket's DAG folder."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from mwaa_control_plane.environments.doctor.models import Check, failed, passed, warned
from mwaa_control_plane.errors import translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from mwaa_control_plane.environments.doctor.facts import ControlPlaneWiring, EnvironmentFacts


def staging_check(s3: S3Client, facts: EnvironmentFacts, wiring: ControlPlaneWiring) -> Check:
    """Uploads to ``s3://<staging>/<env>/dags/`` reach ``s3://<source>/<DagS3Path>/`` when the staging bucket sends
    its events to EventBridge (dag-delivery starts on them) and the stack may write the source bucket."""
    title = "Control plane staging prefix is wired"
    check_id = "staging-wired"
    if wiring.staging_bucket is None:
        return warned(
            check_id,
            title,
            "the control plane's stack was not found, so its staging bucket is not known",
            "deploy the control plane (make deploy), or name its stack with --stack-name / its bucket with "
            "--staging-bucket",
        )
    staging = wiring.staging_bucket
    route = f"s3://{staging}/{facts.name}/dags/ -> s3://{facts.bucket}/{facts.dag_s3_path}/"
    problems: list[str] = []
    fixes: list[str] = []
    try:
        notifications = s3.get_bucket_notification_configuration(Bucket=staging)
    except ClientError as exc:
        raise translate_client_error(exc, operation="GetBucketNotificationConfiguration") from exc
    if "EventBridgeConfiguration" not in notifications:
        problems.append(f"s3://{staging} does not send its events to EventBridge, so no upload starts dag-delivery")
        fixes.append(
            f"aws s3api put-bucket-notification-configuration --bucket {staging} "
            "--notification-configuration '{\"EventBridgeConfiguration\": {}}'"
        )
    if not fnmatchcase(facts.bucket, wiring.source_bucket_pattern):
        problems.append(
            f"the source bucket {facts.bucket} is outside the stack's MwaaSourceBucketPattern "
            f"{wiring.source_bucket_pattern!r}, so the control plane may not write it"
        )
        fixes.append(
            "deploy the control plane with a MwaaSourceBucketPattern that matches "
            f"{facts.bucket} (e.g. sam deploy --parameter-overrides MwaaSourceBucketPattern=airflow-*)"
        )
    if not facts.dag_s3_path:
        problems.append("the environment has no DagS3Path")
        fixes.append(f"aws mwaa update-environment --name {facts.name} --dag-s3-path dags")
    if problems:
        return failed(check_id, title, f"{route}: " + "; ".join(problems), "; ".join(fixes))
    return passed(check_id, title, route)
