"""rest-json request handling for the fake MWAA: moto's BaseResponse parses, the backend decides.

moto parses each request against the botocore model (``automated_parameter_parsing``) and
serializes each result and error from it, so shapes, status codes and the
``x-amzn-ErrorType`` header match what botocore expects.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import ActionResult, BaseResponse, EmptyResult

from mwaa_cp_local.mwaa.models import MwaaBackend, handle_cli_request, mwaa_backends


class MwaaResponse(BaseResponse):  # type: ignore[misc, unused-ignore]  # moto is untyped
    def __init__(self) -> None:
        super().__init__(service_name="mwaa")
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> MwaaBackend:
        backend: MwaaBackend = mwaa_backends[self.current_account][self.region]
        return backend

    def _request(self) -> dict[str, Any]:
        request = dict(self.params)
        request["Name"] = self._get_param("Name")
        return request

    def create_environment(self) -> ActionResult:
        return ActionResult({"Arn": self.backend.create_environment(self._request())})

    def get_environment(self) -> ActionResult:
        return ActionResult({"Environment": self.backend.get_environment(self._get_param("Name"))})

    def update_environment(self) -> ActionResult:
        return ActionResult({"Arn": self.backend.update_environment(self._request())})

    def delete_environment(self) -> ActionResult:
        self.backend.delete_environment(self._get_param("Name"))
        return EmptyResult()

    def list_environments(self) -> ActionResult:
        names, token = self.backend.list_environments(self._get_param("MaxResults"), self._get_param("NextToken"))
        result: dict[str, Any] = {"Environments": names}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    def tag_resource(self) -> ActionResult:
        self.backend.tag_resource(self._get_param("ResourceArn"), self._get_param("Tags") or {})
        return EmptyResult()

    def untag_resource(self) -> ActionResult:
        self.backend.untag_resource(self._get_param("ResourceArn"), self._get_param("tagKeys") or [])
        return EmptyResult()

    def list_tags_for_resource(self) -> ActionResult:
        return ActionResult({"Tags": self.backend.list_tags_for_resource(self._get_param("ResourceArn"))})

    def create_cli_token(self) -> ActionResult:
        token, hostname = self.backend.create_cli_token(self._get_param("Name"))
        return ActionResult({"CliToken": token, "WebServerHostname": hostname})

    def create_web_login_token(self) -> ActionResult:
        return ActionResult(self.backend.create_web_login_token(self._get_param("Name")))

    def invoke_rest_api(self) -> ActionResult:
        status, body = self.backend.invoke_rest_api(self._request())
        return ActionResult({"RestApiStatusCode": status, "RestApiResponse": body})

    def publish_metrics(self) -> ActionResult:
        # Deprecated by AWS; accepted and dropped, as MWAA no longer uses it either.
        return EmptyResult()


def cli_dispatch(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:  # noqa: ARG001
    """moto handler for the web server's CLI endpoint (reached through ``requests`` inside mock_aws)."""
    host = str(request.headers.get("Host") or full_url.split("/")[2])
    body = request.data.decode("utf-8", "replace") if isinstance(request.data, bytes) else str(request.data or "")
    status, answer = handle_cli_request(host, str(request.headers.get("Authorization") or ""), body)
    return status, {"Content-Type": "application/json"}, json.dumps(answer)
