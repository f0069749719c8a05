"""Shared payload types and the one way handlers parse their input.

Every payload that crosses a boundary is a pydantic model; constraints live in the types
below, so a malformed event fails in one place with one clear message.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mwaa_control_plane.errors import InvalidInputError

# CreateEnvironment's rule for names (botocore model: [a-zA-Z][0-9a-zA-Z-_]*, at most 80).
EnvironmentName = Annotated[str, Field(pattern=r"^[a-zA-Z][0-9a-zA-Z\-_]*$", min_length=1, max_length=80)]
# The same rule for text that is not a payload field (an S3 key's first part, a variables file's section).
ENVIRONMENT_NAME = re.compile(r"[a-zA-Z][0-9a-zA-Z\-_]{0,79}\Z")  # \Z: "$" would accept a trailing newline


class Payload(BaseModel):
    """Base of step inputs and outputs: unknown keys are ignored, so Step Functions may pass context along."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def validation_problems(exc: ValidationError) -> str:
    """'field.path: what is wrong; ...', never the offending values (they may be secrets)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(input)'}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    )


def parse_input[P: BaseModel](model: type[P], event: Any) -> P:
    """Validate ``event`` into ``model`` or raise InvalidInputError that says what is wrong and where."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        raise InvalidInputError(f"invalid {model.__name__}: {validation_problems(exc)}") from None
