"""SSM Parameter Store in the local runtime: Parameter Store Change events, and the limits moto does not check.

Events. SSM sends a ``Parameter Store Change`` event to EventBridge for every change of a
parameter; moto sends none. The wrappers below (installed on moto's
``SimpleSystemManagerBackend`` by :func:`mwaa_cp_local.patches.install_ssm`) publish them
through :meth:`mwaa_cp_local.eventbridge.EventDelivery.publish`, after the call succeeded:

* ``PutParameter``: ``Create`` for a name that did not exist, ``Update`` for an overwrite;
* ``DeleteParameter``: ``Delete``; ``DeleteParameters``: one ``Delete`` per name actually deleted
  (names in ``InvalidParameters`` send nothing);
* ``LabelParameterVersion``: ``LabelParameterVersion`` when at least one label was attached
  (a call whose labels are all invalid changes nothing and sends nothing).

A failed call publishes nothing. The event is ``source: aws.ssm``, ``detail-type: Parameter
Store Change``, ``resources: [arn:aws:ssm:<region>:<account>:parameter/<name without its
leading slash>]`` and ``detail: {operation, name, type, description}`` (``name`` as the caller
gave it, ``description`` "" when there is none). Matching is immediate, delivery asynchronous.

Fidelity. moto accepts several requests SSM refuses; each check below raises the error SSM
raises, before moto changes anything:

* a Standard value over 4,096 bytes, an Advanced one over 8,192 (``ValidationException``);
  ``Intelligent-Tiering`` is stored as the tier it picks (Standard up to 4 KB, else Advanced);
  an Advanced parameter overwritten with ``Tier=Standard`` (``ValidationException``: no downgrade);
* names: only ``a-zA-Z0-9_.-/``, a name with a path must start with "/", at most 1,011
  characters (``ValidationException``); more than 15 levels
  (``HierarchyLevelLimitExceededException``);
* an overwrite that turns a String/StringList into a SecureString or back
  (``HierarchyTypeMismatchException``, as the PutParameter reference documents it);
* ``DeleteParameters`` with more than 10 names (``ValidationException``);
* moto's parameter table is a defaultdict: a ``LabelParameterVersion`` (or unlabel, or history)
  call for a missing name left an empty entry behind that broke every later
  ``DescribeParameters`` and ``GetParametersByPath`` with an IndexError. It is removed again.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.ssm.exceptions import SSMException, ValidationException

if TYPE_CHECKING:
    from mwaa_cp_local.eventbridge import EventDelivery

STANDARD_VALUE_LIMIT = 4096
ADVANCED_VALUE_LIMIT = 8192
MAX_HIERARCHY_LEVELS = 15
MAX_NAME_LENGTH = 1011
MAX_NAMES_PER_DELETE = 10
_NAME_CHARACTERS = re.compile(r"[a-zA-Z0-9_.\-/]+")
_INVALID_NAME = (
    'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can '
    "consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers "
    "and the following 3 symbols .-_"
)


class HierarchyLevelLimitExceededException(SSMException):  # type: ignore[misc, unused-ignore]  # moto is untyped
    def __init__(self) -> None:
        super().__init__(
            "HierarchyLevelLimitExceededException",
            "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and "
            "constraints for parameter names in the Amazon Web Services Systems Manager User Guide.",
        )


class HierarchyTypeMismatchException(SSMException):  # type: ignore[misc, unused-ignore]  # moto is untyped
    def __init__(self) -> None:
        super().__init__(
            "HierarchyTypeMismatchException",
            "Parameter Store doesn't support changing a parameter type in a hierarchy. For example, you can't "
            "change a parameter from a String type to a SecureString type. You must create a new, unique parameter.",
        )


def _latest(backend: Any, name: str) -> Any | None:
    """The current version of ``name``, without creating an entry in moto's defaultdict."""
    versions = dict.get(backend._parameters, backend._parameters.normalize_name(name))
    return versions[-1] if versions else None


def _forget_if_empty(backend: Any, name: str) -> None:
    key = backend._parameters.normalize_name(name)
    if dict.get(backend._parameters, key, None) == []:
        dict.pop(backend._parameters, key, None)


def parameter_arn(account_id: str, region: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:parameter/{name.removeprefix('/')}"


def change_event(backend: Any, operation: str, name: str, parameter: Any) -> dict[str, Any]:
    """The ``Parameter Store Change`` event SSM sends for ``operation`` on ``name``."""
    from mwaa_cp_local.eventbridge import event_envelope

    return event_envelope(
        detail_type="Parameter Store Change",
        source="aws.ssm",
        account=backend.account_id,
        region=backend.region_name,
        resources=[parameter_arn(backend.account_id, backend.region_name, name)],
        detail={
            "operation": operation,
            "name": name,
            "type": parameter.parameter_type,
            "description": parameter.description or "",
        },
    )


# ---------------------------------------------------------------------------------------------- events
def announcing_put_parameter(delivery: EventDelivery, original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``put_parameter`` that publishes ``Create`` (new name) or ``Update`` (overwrite)."""

    @functools.wraps(original)
    def put_parameter(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        existed = _latest(self, name) is not None
        parameter = original(self, name, *args, **kwargs)
        delivery.publish(change_event(self, "Update" if existed else "Create", name, parameter))
        return parameter

    return put_parameter


def announcing_delete_parameter(delivery: EventDelivery, original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``delete_parameter`` that publishes ``Delete``."""

    @functools.wraps(original)
    def delete_parameter(self: Any, name: str) -> Any:
        parameter = _latest(self, name)
        result = original(self, name)
        if parameter is not None:
            delivery.publish(change_event(self, "Delete", name, parameter))
        return result

    return delete_parameter


def announcing_delete_parameters(delivery: EventDelivery, original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``delete_parameters`` that publishes one ``Delete`` per name it deleted."""

    @functools.wraps(original)
    def delete_parameters(self: Any, names: list[str]) -> list[str]:
        before = {name: _latest(self, name) for name in names}
        deleted: list[str] = original(self, names)
        for name in deleted:
            parameter = before.get(name)
            if parameter is not None:
                delivery.publish(change_event(self, "Delete", name, parameter))
        return deleted

    return delete_parameters


def announcing_label_parameter_version(delivery: EventDelivery, original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``label_parameter_version`` that publishes ``LabelParameterVersion`` when a label was attached."""

    @functools.wraps(original)
    def label_parameter_version(self: Any, name: str, version: int, labels: list[str]) -> tuple[list[str], int]:
        invalid, labelled = original(self, name, version, labels)
        parameter = _latest(self, name)
        if parameter is not None and len(set(invalid)) < len(set(labels)):
            delivery.publish(change_event(self, "LabelParameterVersion", name, parameter))
        return invalid, labelled

    return label_parameter_version


# ---------------------------------------------------------------------------------------------- fidelity
def _check_name(name: str) -> None:
    if not name or not _NAME_CHARACTERS.fullmatch(name):
        raise ValidationException(_INVALID_NAME)
    if "/" in name and not name.startswith("/"):
        raise ValidationException("Parameter name must be a fully qualified name.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationException(
            f"Parameter name: the maximum length of a fully qualified parameter name is {MAX_NAME_LENGTH} characters."
        )
    if len(name.strip("/").split("/")) > MAX_HIERARCHY_LEVELS:
        raise HierarchyLevelLimitExceededException()


def _effective_tier(requested: str | None, previous: Any | None, size: int) -> str | None:
    if requested == "Intelligent-Tiering":
        advanced = size > STANDARD_VALUE_LIMIT or (previous is not None and previous.tier == "Advanced")
        return "Advanced" if advanced else "Standard"
    return requested


def _check_value(value: str | None, tier: str, previous: Any | None, requested: str | None) -> None:
    if previous is not None and previous.tier == "Advanced" and requested == "Standard":
        raise ValidationException(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
            "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced "
            "parameter and recreate it as a standard parameter."
        )
    size = len((value or "").encode())
    if tier == "Advanced" and size > ADVANCED_VALUE_LIMIT:
        raise ValidationException(
            "1 validation error detected: Value at 'value' failed to satisfy constraint: "
            f"Member must have length less than or equal to {ADVANCED_VALUE_LIMIT}."
        )
    if tier != "Advanced" and size > STANDARD_VALUE_LIMIT:
        raise ValidationException(
            f"Standard tier parameters support a maximum parameter value of {STANDARD_VALUE_LIMIT} characters. "
            "To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more "
            "information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/"
            "parameter-store-advanced-parameters.html"
        )


def checking_put_parameter(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``put_parameter`` with SSM's name, size, tier and type rules checked first."""

    @functools.wraps(original)
    def put_parameter(
        self: Any,
        name: str,
        description: str,
        value: str,
        parameter_type: str,
        allowed_pattern: str,
        keyid: str,
        overwrite: bool,
        tags: list[dict[str, str]],
        data_type: str,
        tier: str | None = None,
        policies: str | None = None,
    ) -> Any:
        # moto's own checks (reserved aws/ssm prefixes, empty value, tags with overwrite) come first, as on SSM.
        reserved = name.lower().lstrip("/").startswith(("aws", "ssm"))
        previous = _latest(self, name)
        if not reserved:
            _check_name(name)
            if previous is not None and overwrite:
                secure_before = previous.parameter_type == "SecureString"
                if parameter_type and (parameter_type == "SecureString") != secure_before:
                    raise HierarchyTypeMismatchException()
            if value:
                size = len(value.encode())
                tier = _effective_tier(tier, previous if overwrite else None, size)
                inherited = previous.tier if previous is not None and overwrite else None
                effective = tier or inherited or self.default_parameter_tier or "Standard"
                _check_value(value, effective, previous if overwrite else None, tier)
        return original(
            self,
            name,
            description,
            value,
            parameter_type,
            allowed_pattern,
            keyid,
            overwrite,
            tags,
            data_type,
            tier=tier,
            policies=policies,
        )

    return put_parameter


def checking_delete_parameters(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``delete_parameters`` refusing more than 10 names, as SSM does."""

    @functools.wraps(original)
    def delete_parameters(self: Any, names: list[str]) -> list[str]:
        if len(names) > MAX_NAMES_PER_DELETE:
            raise ValidationException(
                f"1 validation error detected: Value '[{', '.join(names)}]' at 'names' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_NAMES_PER_DELETE}"
            )
        result: list[str] = original(self, names)
        return result

    return delete_parameters


def leaving_no_empty_entry(original: Callable[..., Any]) -> Callable[..., Any]:
    """A moto SSM method taking ``name`` first that may leave an empty defaultdict entry for a missing name."""

    @functools.wraps(original)
    def method(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, name, *args, **kwargs)
        finally:
            _forget_if_empty(self, name)

    return method
