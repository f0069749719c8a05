"""What MWAA's environment statuses (GetEnvironment ``Status``) mean to the control plane.

Kept apart from the environments package: the Airflow adapter classifies its errors by them, and
the adapter sits below the domain.
"""

from __future__ import annotations

# Environment states the web server answers in.
USABLE_STATES = frozenset({"AVAILABLE", "UPDATE_FAILED"})
# States no retry gets out of.
TERMINAL_STATES = frozenset({"CREATE_FAILED", "DELETING", "DELETED"})
