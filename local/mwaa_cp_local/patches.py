"""Every change the local runtime makes to moto and botocore, made here and undone when the runtime stops.

The plugins (:mod:`.timewarp`, :mod:`.lambda_dispatch`, :mod:`.eventbridge`, :mod:`.ssm`,
:mod:`.stepfunctions`, :mod:`.faults`, :mod:`.mwaa`) write the replacement functions; this module is the
only one that puts them in place, each through :meth:`Patches.replace` with a one-line why, so the list below is the
whole surface the runtime depends on. Several targets are private names of moto's, which is why moto
is pinned (``pyproject.toml``) and :class:`Patches` refuses to start on any other version.

:class:`Patches` records what each target held before and restores it in reverse order, so after
:meth:`Patches.undo` every patched attribute is the original object again.
"""

from __future__ import annotations

import functools
import importlib.metadata
import sys
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from mwaa_control_plane.errors import ConfigurationError

if TYPE_CHECKING:
    from mwaa_cp_local.eventbridge import EventDelivery
    from mwaa_cp_local.faults import FaultInjector
    from mwaa_cp_local.lambda_dispatch import LambdaDispatcher
    from mwaa_cp_local.timewarp import VirtualClock

# The version pyproject.toml pins in the `local` extra; every patch below was checked against it.
PINNED_MOTO_VERSION = "5.2.5"


class UnsupportedMotoError(ConfigurationError):
    """The installed moto is not the version whose internals this runtime patches."""


def installed_moto_version() -> str:
    return importlib.metadata.version("moto")


def require_pinned_moto(installed: str | None = None) -> None:
    """Refuse any moto but the pinned one: a patched private name may have changed or gone in another."""
    found = installed if installed is not None else installed_moto_version()
    if found != PINNED_MOTO_VERSION:
        raise UnsupportedMotoError(
            f"the local runtime patches moto's internals and supports moto {PINNED_MOTO_VERSION} only, "
            f"but moto {found} is installed. Install the pinned version with "
            f"`.venv/bin/pip install -e '.[local]'` (or `pip install 'moto=={PINNED_MOTO_VERSION}'`). "
            "To move to another moto, check every patch in mwaa_cp_local/patches.py against it first, "
            "then change PINNED_MOTO_VERSION and the pin in pyproject.toml together."
        )


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Patch:
    """One replaced attribute (or mapping item): what it held, what it holds now, and why."""

    owner: Any
    name: str
    original: Any  # what reading it gave before (ABSENT: nothing)
    replacement: Any
    why: str
    item: bool = False  # owner[name] rather than owner.name
    own_value: Any = ABSENT  # what the owner itself held (ABSENT: inherited or missing, so deleted on undo)

    def current(self) -> Any:
        """What reading the target gives now."""
        if self.item:
            return self.owner.get(self.name, ABSENT)
        return getattr(self.owner, self.name, ABSENT)

    def undo(self) -> None:
        if self.item:
            if self.own_value is ABSENT:
                self.owner.pop(self.name, None)
            else:
                self.owner[self.name] = self.own_value
        elif self.own_value is ABSENT:
            delattr(self.owner, self.name)
        else:
            setattr(self.owner, self.name, self.own_value)


class Patches:
    """The patches one runtime applied, newest last; :meth:`undo` puts every original back."""

    def __init__(self) -> None:
        require_pinned_moto()
        self.applied: list[Patch] = []

    def replace(self, owner: Any, name: str, replacement: Any, *, why: str) -> None:
        """Set ``owner.name`` to ``replacement``, remembering what was there."""
        own = vars(owner).get(name, ABSENT) if hasattr(owner, "__dict__") else ABSENT
        patch = Patch(owner, name, getattr(owner, name, ABSENT), replacement, why, own_value=own)
        setattr(owner, name, replacement)
        self.applied.append(patch)

    def wrap(self, owner: Any, name: str, make: Callable[[Any], Any], *, why: str) -> None:
        """Set ``owner.name`` to ``make(original)``: for replacements that call what they replace."""
        self.replace(owner, name, make(getattr(owner, name)), why=why)

    def put(self, mapping: MutableMapping[str, Any], key: str, value: Any, *, why: str) -> None:
        """Set ``mapping[key]`` to ``value``, remembering what was there."""
        original = mapping.get(key, ABSENT)
        mapping[key] = value
        self.applied.append(Patch(mapping, key, original, value, why, item=True, own_value=original))

    def undo(self) -> None:
        """Restore every original, newest patch first (so a target patched twice ends as it began)."""
        while self.applied:
            self.applied.pop().undo()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.undo()


# ---------------------------------------------------------------------------------------- the patches
def install_mwaa(patches: Patches) -> None:
    """Serve MWAA from :mod:`mwaa_cp_local.mwaa` (before ``mock_aws`` starts, so ``requests`` calls reach it too)."""
    from moto import backend_index
    from moto.s3.models import FakeDeleteMarker, FakeKey

    from mwaa_cp_local.mwaa import models, s3, urls

    patches.put(
        sys.modules, "moto.mwaa", models, why="moto imports a service's backends from moto.<service>; it has no MWAA"
    )
    patches.replace(
        backend_index,
        "backend_url_patterns",
        [*((urls.SERVICE, pattern) for pattern in urls.URL_PATTERNS), *backend_index.backend_url_patterns],
        why="requests to airflow.* hosts go to the MWAA backend, ahead of any other service's pattern",
    )
    patches.wrap(FakeKey, "__init__", s3.stamping, why="object versions carry the clock time MWAA's sync reads")
    patches.wrap(FakeDeleteMarker, "__init__", s3.stamping, why="delete markers carry the clock time too")


def install_time(patches: Patches, clock: VirtualClock) -> None:
    """Make the interpreter's and botocore's waits wait on ``clock``."""
    import botocore.endpoint
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    from mwaa_cp_local import timewarp

    patches.replace(
        WaitFunction, "_wait_interval", timewarp.wait_interval(clock), why="ASL Wait states end by the virtual clock"
    )
    patches.replace(
        Timestamp,
        "_get_wait_seconds",
        timewarp.timestamp_wait_seconds(clock),
        why="a Wait until a Timestamp counts from the virtual now, not from the wall clock",
    )
    patches.replace(
        retrier_decl, "time", timewarp.time_module(clock), why="ASL Retry intervals sleep on the virtual clock"
    )
    patches.replace(
        botocore.endpoint, "time", timewarp.time_module(clock), why="botocore's retry backoff sleeps on virtual time"
    )


def install_lambda_dispatch(patches: Patches, dispatcher: LambdaDispatcher) -> None:
    """Run the stack's functions in-process."""
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from mwaa_cp_local import lambda_dispatch

    make = functools.partial(lambda_dispatch.dispatching_invoke, dispatcher)
    patches.wrap(LambdaBackend, "invoke", make, why="the stack's functions run in-process, not in Docker")
    patches.wrap(LambdaSimpleBackend, "invoke", make, why="the same for moto's Docker-less Lambda backend")


def install_eventbridge(patches: Patches, delivery: EventDelivery) -> None:
    """Deliver rules' events to Lambda, Step Functions and SNS; emit S3 events with S3's shape."""
    from moto.events import models as events_models
    from moto.s3 import models as s3_models
    from moto.s3 import notifications as s3_notifications

    from mwaa_cp_local import eventbridge

    patches.wrap(
        events_models.Rule,
        "send_to_targets",
        functools.partial(eventbridge.delivering_send_to_targets, delivery),
        why="moto delivers only to logs, SQS and buses; the stack's rules target Lambda, Step Functions and SNS",
    )
    patches.replace(
        s3_notifications,
        "_send_event_bridge_message",
        eventbridge.real_shaped_object_created(delivery),
        why="S3 events carry etag, version-id, an increasing sequencer and reason, as S3 sends them",
    )
    from moto.s3 import responses as s3_responses

    patches.wrap(
        s3_responses.S3Response,
        "get_bucket_notification",
        eventbridge.reporting_eventbridge_configuration,
        why="S3 returns a bucket's EventBridgeConfiguration; moto stores it but leaves it out of the answer",
    )
    patches.wrap(
        s3_models.S3Backend,
        "delete_object",
        functools.partial(eventbridge.announcing_delete_object, delivery),
        why="S3 sends Object Deleted (with its deletion-type) to EventBridge; moto does not",
    )


def install_ssm(patches: Patches, delivery: EventDelivery) -> None:
    """SSM's Parameter Store Change events, and the Parameter Store limits moto does not check."""
    from moto.ssm.models import SimpleSystemManagerBackend as Ssm

    from mwaa_cp_local import ssm

    # One patch per method (checks inside, events outside), so that undo leaves every target as it found it.
    def announce(make: Callable[..., Any], check: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda original: make(delivery, check(original))

    patches.wrap(
        Ssm,
        "put_parameter",
        announce(ssm.announcing_put_parameter, ssm.checking_put_parameter),
        why="SSM refuses oversized values, bad names, >15 levels, String<->SecureString overwrites, and sends "
        "Parameter Store Change events; moto does neither",
    )
    patches.wrap(
        Ssm,
        "delete_parameters",
        announce(ssm.announcing_delete_parameters, ssm.checking_delete_parameters),
        why="DeleteParameters takes at most 10 names and sends one Delete event per deleted name",
    )
    patches.wrap(
        Ssm,
        "label_parameter_version",
        announce(ssm.announcing_label_parameter_version, ssm.leaving_no_empty_entry),
        why="labelling sends LabelParameterVersion, and a missing name must not leave an entry that breaks listings",
    )
    patches.wrap(
        Ssm,
        "delete_parameter",
        functools.partial(ssm.announcing_delete_parameter, delivery),
        why="SSM sends a Delete event; moto sends none",
    )
    for name in ("unlabel_parameter_version", "get_parameter_history"):
        patches.wrap(
            Ssm,
            name,
            ssm.leaving_no_empty_entry,
            why="a call for a missing name must not leave an empty entry that breaks DescribeParameters",
        )


def install_stepfunctions(patches: Patches, publish: Callable[[dict[str, Any]], None]) -> None:
    """AWS's execution names, status-change events and SDK-integration error names."""
    import moto.stepfunctions.parser.models  # imports every module of the interpreter that holds boto_client_for
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk,
    )
    from moto.stepfunctions.parser.asl.utils import boto_client
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    from mwaa_cp_local import stepfunctions

    patches.wrap(
        moto.stepfunctions.parser.models.StepFunctionsParserBackend,
        "start_execution",
        functools.partial(stepfunctions.naming_start_execution, publish=publish),
        why="an unnamed execution gets a UUID name (moto puts 'None' in the ARN) and a RUNNING status event",
    )
    patches.wrap(
        BaseExecutionWorkerCommunication,
        "terminated",
        functools.partial(stepfunctions.announcing_terminated, publish=publish),
        why="an ended execution sends its status-change event, which the failed-execution rule matches",
    )
    patches.wrap(
        StateTaskServiceAwsSdk,
        "_from_error",
        stepfunctions.aws_error_names,
        why="SDK-integration errors are named <Service>.<Code>Exception as on AWS, so ASL Retry can match them",
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    from mwaa_cp_local import sfn_integration

    patches.wrap(
        StateTaskServiceSfn,
        "_normalise_parameters",
        sfn_integration.normalise_parameters,
        why="states:startExecution takes PascalCase parameters (StateMachineArn, Input) as on AWS",
    )
    patches.wrap(
        StateTaskServiceSfn,
        "_normalise_response",
        sfn_integration.normalise_response,
        why="states:startExecution(.sync) results are PascalCase (ExecutionArn, Output) as on AWS",
    )
    patches.replace(
        moto.stepfunctions.parser.models.StepFunctionsParserBackend,
        "_validate_definition",
        _remembered_validation(),
        why="a definition is parsed once per process for CreateStateMachine, not once per local runtime",
    )
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    patches.replace(
        ExecutionWorker,
        "_get_evaluation_entrypoint",
        _remembered_programs(),
        why="an execution reuses its state machine's parsed program instead of parsing the definition again",
    )
    original = boto_client.boto_client_for
    shared = stepfunctions.shared_client_for(original)
    for module in [m for m in list(sys.modules.values()) if getattr(m, "boto_client_for", None) is original]:
        patches.replace(
            module, "boto_client_for", shared, why="one boto3 client per service, not a new one for every task"
        )


@functools.cache
def _remembered_validation() -> Any:
    import moto.stepfunctions.parser.models

    from mwaa_cp_local import stepfunctions

    return stepfunctions.remembering_validation(
        moto.stepfunctions.parser.models.StepFunctionsParserBackend._validate_definition
    )


@functools.cache
def _remembered_programs() -> Any:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    from mwaa_cp_local import stepfunctions

    return stepfunctions.remembering_programs(ExecutionWorker._get_evaluation_entrypoint)


def install_faults(patches: Patches, injector: FaultInjector) -> None:
    """Answer armed faults before moto sees the request."""
    import boto3
    import botocore.handlers
    import moto.core.models  # noqa: F401  # appends moto's stubber to BUILTIN_HANDLERS: it must be in the copy

    patches.replace(
        botocore.handlers,
        "BUILTIN_HANDLERS",
        [("before-send", injector), *botocore.handlers.BUILTIN_HANDLERS],
        why="every new botocore session asks the fault injector first, ahead of moto's stubber",
    )
    patches.replace(
        boto3, "DEFAULT_SESSION", None, why="the default session was built without the injector; rebuild it"
    )
    from moto.core.botocore_stubber import BotocoreStubber

    from mwaa_cp_local import faults

    patches.wrap(
        BotocoreStubber,
        "__call__",
        faults.skipping_faulted,
        why="botocore runs every before-send handler: moto must not also process a request a fault answered",
    )


def _not_emulated(error: type[Exception], operation: str) -> Callable[[Any], Any]:
    def answer(self: Any) -> Any:  # noqa: ARG001
        raise error("NotImplemented", f"{operation} is not emulated by the local runtime")

    return answer


def install_unsupported(patches: Patches) -> None:
    """Operations moto lacks answer as AWS answers an operation it refuses (a ClientError), not with a crash.

    moto raises NotImplementedError in process and an HTML 500 over HTTP; code written for AWS should
    not have to know either. The callers fall back as they would on any refusal.
    """
    from moto.cloudwatch.exceptions import CloudWatchException
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.iam.exceptions import IAMException
    from moto.iam.responses import IamResponse

    patches.replace(
        IamResponse,
        "simulate_principal_policy",
        _not_emulated(IAMException, "SimulatePrincipalPolicy"),
        why="moto has no IAM policy simulator: the doctor reads the role's policy documents instead",
    )
    patches.replace(
        CloudWatchResponse,
        "get_metric_widget_image",
        _not_emulated(CloudWatchException, "GetMetricWidgetImage"),
        why="moto renders no metric images: the worker analysis draws its chart itself",
    )


def install(
    *,
    clock: VirtualClock | None,
    dispatcher: LambdaDispatcher,
    delivery: EventDelivery,
    injector: FaultInjector,
) -> Patches:
    """Every patch of the local runtime (without ``clock``, waits keep real time); undo with ``.undo()``."""
    patches = Patches()
    try:
        install_mwaa(patches)
        install_faults(patches, injector)
        install_lambda_dispatch(patches, dispatcher)
        install_eventbridge(patches, delivery)
        install_ssm(patches, delivery)
        install_unsupported(patches)
        install_stepfunctions(patches, delivery.publish)
        if clock is not None:
            install_time(patches, clock)
    except BaseException:
        patches.undo()
        raise
    return patches
