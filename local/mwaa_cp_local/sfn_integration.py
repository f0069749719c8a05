"""The ``states:startExecution`` service integration as AWS runs it.

State machines write the integration's parameters and read its result in the API's PascalCase
(``StateMachineArn``, ``Input``; ``ExecutionArn``, ``Output``). moto's interpreter hands the
parameters to boto3 unchanged (boto3 wants ``stateMachineArn``, ``input``) and returns boto3's
camelCase answer; these two functions translate both ways for the Step Functions integration only.
"""

from __future__ import annotations

from typing import Any


def normalise_parameters(original: Any) -> Any:
    def patched(self: Any, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original(self, parameters, *args, **kwargs)  # serialises ``Input`` to a JSON string, as AWS does
        for key in list(parameters):
            if key[:1].isupper():
                parameters[key[0].lower() + key[1:]] = parameters.pop(key)

    return patched


def normalise_response(original: Any) -> Any:
    def patched(self: Any, response: Any, *args: Any, **kwargs: Any) -> None:
        original(self, response, *args, **kwargs)
        if isinstance(response, dict):
            for key in list(response):
                if key[:1].islower():
                    response[key[0].upper() + key[1:]] = response.pop(key)

    return patched
