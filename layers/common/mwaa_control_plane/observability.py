"""The one place that builds Powertools' Logger, Tracer and Metrics.

Service name, metrics namespace and log level come from the ``POWERTOOLS_*`` variables
that ``template.yaml`` sets in ``Globals``; Powertools reads them itself.
Never log a variable's value, a connection, a token or an AirflowConfigurationOptions value.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "instrumented", "logger", "metrics", "tracer"]


def instrumented[**P, R](handler: Callable[P, R]) -> Callable[P, R]:
    """Every handler's Powertools stack: Lambda context in the logs, an X-Ray segment, metrics flushed."""
    return logger.inject_lambda_context(tracer.capture_lambda_handler(metrics.log_metrics(handler)))
