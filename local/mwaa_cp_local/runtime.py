"""The embedded local AWS: moto plus this project's plugins, provisioned with the real stack.

``LocalAws`` starts moto in-process, installs the plugins (MWAA backend, in-process Lambda
dispatch, EventBridge delivery, virtual time, fault injection) through :mod:`.patches`,
provisions ``template.yaml`` and hands out clients. ``time_scale`` is the real seconds a
virtual second of waiting lasts (None: real time); Lambda invocations cost no virtual time.
Flow tests, ``mwaa-cp local demo`` and ``mwaa-cp local up`` all run on it::

    with LocalAws() as aws:
        arn = aws.start_execution("environment-health", {"environment_name": "dev"})
        result = aws.wait_for_execution(arn)
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

from mwaa_control_plane import clients, config
from mwaa_control_plane import clock as clock_module
from mwaa_control_plane.airflow import transport
from mwaa_control_plane.errors import InvalidInputError, NotFoundError
from mwaa_cp_local import eventbridge, faults, lambda_dispatch, patches, streams, timewarp, usage
from mwaa_cp_local.provisioner import ProvisionedStack, Provisioner

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"

# moto needs credentials to sign with; these never leave the process.
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}
# What every in-process function sees on top of its template environment (Lambda's runtime
# variables; X-Ray has no daemon here).
_LAMBDA_RUNTIME_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
}


# Step Functions execution statuses that never change again.
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class LocalAws:
    """One offline AWS account with the control-plane stack deployed in it."""

    def __init__(
        self,
        *,
        template: Path = DEFAULT_TEMPLATE,
        stack_name: str = "mwaa-control-plane",
        region: str = "us-east-1",
        parameters: Mapping[str, str] | None = None,
        time_scale: float | None = 0.001,
        meter: usage.UsageMeter | None = None,
        clock_start: datetime | None = None,
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.parameters = dict(parameters or {})
        self.time_scale = time_scale
        # Virtual time (None: real time): compressed waits, and it stands still while a Lambda runs.
        # clock_start moves the virtual clock's origin (a test that must not cross midnight); default: now.
        self.clock = timewarp.VirtualClock(time_scale, clock_start) if time_scale is not None else None
        self.faults = faults.FaultInjector()
        self.lambdas = lambda_dispatch.LambdaDispatcher(
            region=region, base_environment={**_FAKE_CREDENTIALS, **_LAMBDA_RUNTIME_ENVIRONMENT}, clock=self.clock
        )
        self.events = eventbridge.EventDelivery(account_id=ACCOUNT_ID, region=region, dispatcher=self.lambdas)
        # Off unless given: counts what the stack would be billed for (mwaa_cp_local.usage).
        self.meter = meter
        if meter is not None:
            self.lambdas.on_invocation(meter.record_invocation)
        # Every moto and botocore patch of this runtime, while it runs (see mwaa_cp_local.patches).
        self.patches: patches.Patches | None = None
        self._stack: ProvisionedStack | None = None
        self._undo: list[Callable[[], None]] = []
        self._clients: dict[str, Any] = {}
        self._mock: Any = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        from moto import mock_aws

        from mwaa_cp_local import mwaa

        # First, so that a moto version the patches were not written for stops the runtime before anything runs.
        self.patches = patches.install(
            clock=self.clock, dispatcher=self.lambdas, delivery=self.events, injector=self.faults
        )
        self._undo.append(self._forget_patches)
        if self.meter is not None:
            self._undo.append(usage.install(self.meter, self.patches))
        if self.clock is not None:
            previous_clock = clock_module.get_clock()
            clock_module.set_clock(self.clock)
            self._undo.append(lambda: clock_module.set_clock(previous_clock))
        saved_environment = {k: os.environ.get(k) for k in (*_FAKE_CREDENTIALS, "AWS_DEFAULT_REGION", "AWS_REGION")}
        os.environ.update(_FAKE_CREDENTIALS)
        os.environ["AWS_DEFAULT_REGION"] = self.region
        os.environ["AWS_REGION"] = self.region
        self._undo.append(lambda: _restore_environment(saved_environment))
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        self._undo.append(self._mock.stop)
        mwaa.reset()  # emulator settings and armed failures never leak from one runtime to the next
        self._undo.append(mwaa.reset)
        streams.install()
        self._undo.append(streams.uninstall)
        transport.set_default_transport(_EmulatedCliTransport())
        self._undo.append(lambda: transport.set_default_transport(None))
        # The interpreter logs every JSONPath probe it recovers from; executions' histories say what matters.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        config.clear_settings_cache()
        clients.clear_client_cache()
        self._undo.append(clients.clear_client_cache)
        self._undo.append(config.clear_settings_cache)
        try:
            self._stack = Provisioner(
                template_path=self.template,
                stack_name=self.stack_name,
                region=self.region,
                account_id=ACCOUNT_ID,
                parameters=self.parameters,
                dispatcher=self.lambdas,
            ).provision()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.events.drain(timeout=5)
        if self._stack is not None:
            self._end_executions()
            self.events.drain(timeout=5)
        self._clients.clear()
        while self._undo:
            undo = self._undo.pop()
            undo()
        self.events.shutdown()
        self._stack = None

    def _end_executions(self, timeout: float = 30.0) -> None:
        """Stop the executions still running and wait for their threads: none may outlive this runtime.

        moto runs each execution in a thread of its own. One left running (a flow a test started and never
        waited for) would go on after the runtime stops, writing into the next runtime's moto state and
        counting in its usage meter.
        """
        from moto.stepfunctions.parser.utils import TMP_THREADS

        sfn = self.client("stepfunctions")
        running = [
            execution["executionArn"]
            for machine in sfn.list_state_machines()["stateMachines"]
            for page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
            )
            for execution in page["executions"]
        ]
        for arn in running:
            try:
                sfn.stop_execution(executionArn=arn, cause="the local runtime stopped")
            except ClientError:  # it ended in between
                continue
        deadline = time.monotonic() + timeout
        for thread in list(TMP_THREADS):
            thread.join(max(0.0, deadline - time.monotonic()))
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]

    def _forget_patches(self) -> None:
        if self.patches is not None:
            self.patches.undo()
            self.patches = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ access
    @property
    def stack(self) -> ProvisionedStack:
        if self._stack is None:
            raise RuntimeError("the local runtime is not started")
        return self._stack

    def deploy(self, template: Path, stack_name: str, parameters: Mapping[str, str] | None = None) -> ProvisionedStack:
        """Provision one more stack (an example environment, say) next to the control plane's, which stays as it is."""
        if stack_name == self.stack.name:
            raise InvalidInputError(f"stack {stack_name} is the control plane's own stack")
        return Provisioner(
            template_path=template,
            stack_name=stack_name,
            region=self.region,
            account_id=ACCOUNT_ID,
            parameters=parameters or {},
            dispatcher=self.lambdas,
        ).provision()

    def client(self, service: str) -> Any:
        """A boto3 client of the local account (cached: creating clients dominates a flow's run time)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        return self._clients[service]

    def flows(self) -> list[str]:
        """The stack's flows, sorted: its state machines' names without the ``<stack>-`` prefix."""
        return sorted(
            r.attributes["Name"].removeprefix(f"{self.stack_name}-")
            for r in self.stack.of_type("AWS::StepFunctions::StateMachine").values()
        )

    def state_machine_arn(self, flow: str) -> str:
        """The ARN of flow ``flow`` (state machines are named ``<stack>-<flow>``)."""
        wanted = f"{self.stack_name}-{flow}"
        for resource in self.stack.of_type("AWS::StepFunctions::StateMachine").values():
            if resource.attributes["Name"] in (wanted, flow):
                return resource.ref
        raise NotFoundError(f"no flow named {flow!r}; flows: {', '.join(self.flows())}")

    # ------------------------------------------------------------------ executions
    def start_execution(self, flow: str, payload: Any, name: str | None = None) -> str:
        args: dict[str, Any] = {"stateMachineArn": self.state_machine_arn(flow), "input": json.dumps(payload)}
        if name:
            args["name"] = name
        return str(self.client("stepfunctions").start_execution(**args)["executionArn"])

    def wait_for_execution(self, execution_arn: str, timeout: float = 120.0) -> dict[str, Any]:
        """Poll until the execution ends (real seconds); return DescribeExecution's answer."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] in TERMINAL_STATUSES:
                return description
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still {description['status']} after {timeout} s")
            time.sleep(0.02)

    def executions(self, flow: str) -> list[dict[str, Any]]:
        paginator = self.client("stepfunctions").get_paginator("list_executions")
        found: list[dict[str, Any]] = []
        for page in paginator.paginate(stateMachineArn=self.state_machine_arn(flow)):
            found.extend(page["executions"])
        return found

    def wait_for_executions(self, flow: str, count: int, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Wait until ``flow`` has at least ``count`` executions and all of them ended."""
        deadline = time.monotonic() + timeout
        while True:
            self.events.drain(timeout=max(0.1, deadline - time.monotonic()))
            found = self.executions(flow)
            if len(found) >= count and all(e["status"] in TERMINAL_STATUSES for e in found):
                return found
            if time.monotonic() > deadline:
                states = [e["status"] for e in found]
                raise TimeoutError(f"{flow}: wanted {count} finished executions, have {states}")
            # Listing executions competes with them for the interpreter: poll less often the more there are.
            time.sleep(min(0.5, 0.02 + len(found) / 1000))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        paginator = self.client("stepfunctions").get_paginator("get_execution_history")
        events: list[dict[str, Any]] = []
        for page in paginator.paginate(executionArn=execution_arn):
            events.extend(page["events"])
        return events

    # ------------------------------------------------------------------ schedules
    def fire(self, schedule: str) -> None:
        """Fire a schedule of the stack now: logical id or name of an AWS::Scheduler::Schedule or scheduled rule."""
        for logical_id, resource in self.stack.resources.items():
            if schedule in (logical_id, resource.ref):
                if resource.type == "AWS::Scheduler::Schedule":
                    self.events.fire_schedule(resource.ref)
                    return
                if resource.type == "AWS::Events::Rule":
                    self.events.fire_rule(resource.ref)
                    return
        raise InvalidInputError(f"{schedule!r} is not a schedule or scheduled rule of stack {self.stack_name}")


class _EmulatedCliTransport:
    """MWAA's CLI endpoint (https://<web server>/aws_mwaa/cli), answered in-process by the emulator."""

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> tuple[int, bytes]:  # noqa: ARG002
        from mwaa_cp_local.mwaa import handle_cli_request

        host = urlsplit(url).netloc
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        status, answer = handle_cli_request(host, authorization, body.decode("utf-8", errors="replace"))
        return status, json.dumps(answer).encode()


def _restore_environment(saved: Mapping[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
