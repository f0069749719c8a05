"""Failure callbacks: imported by DAG files, never parsed as DAGs."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def notify_failure(context):
    task_instance = context["task_instance"]
    log.error("task %s failed in run %s", task_instance.task_id, context["run_id"])


DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "on_failure_callback": notify_failure,
}
