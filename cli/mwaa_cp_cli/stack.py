"""The deployed stack's outputs, for commands that need its table or a state machine ARN."""

from __future__ import annotations

from typing import Any

from mwaa_control_plane.errors import ControlPlaneError


def stack_output(cloudformation: Any, stack_name: str, key: str) -> str:
    """Output ``key`` of ``stack_name``; ControlPlaneError (one clear line) when there is none."""
    from botocore.exceptions import ClientError

    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except (ClientError, IndexError, KeyError):
        raise ControlPlaneError(f"stack {stack_name} not found: give its {key} with the option") from None
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise ControlPlaneError(f"stack {stack_name} has no output {key}")
