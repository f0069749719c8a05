"""Playing CloudFormation locally: intrinsics, ordering, parameters, SAM translation, provisioning."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mwaa_cp_local import streams
from mwaa_cp_local.lambda_dispatch import LambdaDispatcher
from mwaa_cp_local.provisioner import (
    Provisioner,
    ProvisioningError,
    Resource,
    _creation_order,
    _Resolver,
    load_template,
    translate,
)

ACCOUNT = "123456789012"
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": "mwaa-cp",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
BUCKET_ARN = "arn:aws:s3:::mwaa-cp-staging"


@pytest.fixture
def resolver() -> _Resolver:
    template = {
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
        },
        "Mappings": {"Sizes": {"dev": {"Class": "mw1.small"}, "prod": {"Class": "mw1.large"}}},
    }
    resolver = _Resolver(template, {"Stage": "dev"}, PSEUDO)
    resolver.resources["StagingBucket"] = Resource(
        "StagingBucket", "AWS::S3::Bucket", "mwaa-cp-staging", {"Arn": BUCKET_ARN}
    )
    return resolver


# --------------------------------------------------------------------------- Ref and AWS::NoValue


@pytest.mark.parametrize(
    ("name", "value"),
    [("Stage", "dev"), ("AWS::Region", "us-east-1"), ("AWS::AccountId", ACCOUNT), ("StagingBucket", "mwaa-cp-staging")],
)
def test_ref_resolves_parameters_pseudo_parameters_and_created_resources(
    resolver: _Resolver, name: str, value: str
) -> None:
    assert resolver.resolve({"Ref": name}) == value


def test_ref_to_something_unknown_is_an_error_naming_it(resolver: _Resolver) -> None:
    with pytest.raises(ProvisioningError, match="Ref to NotificationTopic"):
        resolver.resolve({"Ref": "NotificationTopic"})


def test_a_property_set_to_no_value_is_removed_from_its_object(resolver: _Resolver) -> None:
    assert resolver.resolve({"Name": "a", "Description": {"Ref": "AWS::NoValue"}}) == {"Name": "a"}


def test_an_item_set_to_no_value_is_removed_from_its_list(resolver: _Resolver) -> None:
    assert resolver.resolve(["a", {"Ref": "AWS::NoValue"}, "b"]) == ["a", "b"]


def test_an_if_that_yields_no_value_removes_the_property(resolver: _Resolver) -> None:
    properties = {"Name": "a", "Alarm": {"Fn::If": ["IsProd", "page-someone", {"Ref": "AWS::NoValue"}]}}

    assert resolver.resolve(properties) == {"Name": "a"}


def test_nested_intrinsics_are_resolved_everywhere(resolver: _Resolver) -> None:
    properties = {"Tags": [{"Key": "stage", "Value": {"Ref": "Stage"}}], "Arn": {"Fn::GetAtt": "StagingBucket.Arn"}}

    assert resolver.resolve(properties) == {"Tags": [{"Key": "stage", "Value": "dev"}], "Arn": BUCKET_ARN}


# --------------------------------------------------------------------------- Fn::GetAtt


@pytest.mark.parametrize("argument", ["StagingBucket.Arn", ["StagingBucket", "Arn"]], ids=["string", "list"])
def test_get_att_accepts_both_forms(resolver: _Resolver, argument: Any) -> None:
    assert resolver.resolve({"Fn::GetAtt": argument}) == BUCKET_ARN


def test_get_att_of_a_resource_not_created_yet_is_an_error(resolver: _Resolver) -> None:
    with pytest.raises(ProvisioningError, match=r"Fn::GetAtt Topic\.TopicArn: no such resource"):
        resolver.resolve({"Fn::GetAtt": "Topic.TopicArn"})


def test_get_att_of_an_attribute_the_resource_lacks_is_an_error(resolver: _Resolver) -> None:
    with pytest.raises(ProvisioningError, match="AWS::S3::Bucket has no such attribute"):
        resolver.resolve({"Fn::GetAtt": ["StagingBucket", "WebsiteURL"]})


# --------------------------------------------------------------------------- Fn::Sub


def test_sub_replaces_parameters_pseudo_parameters_and_resources(resolver: _Resolver) -> None:
    text = "arn:${AWS::Partition}:s3:::${StagingBucket}/${Stage}/*"

    assert resolver.resolve({"Fn::Sub": text}) == "arn:aws:s3:::mwaa-cp-staging/dev/*"


def test_sub_replaces_a_resource_attribute(resolver: _Resolver) -> None:
    assert resolver.resolve({"Fn::Sub": "${StagingBucket.Arn}/reports/*"}) == f"{BUCKET_ARN}/reports/*"


def test_sub_list_form_uses_its_own_variables_first(resolver: _Resolver) -> None:
    argument = ["${Prefix}-${Stage}-${AWS::Region}", {"Prefix": {"Fn::Join": ["", ["mw", "aa"]]}, "Stage": "override"}]

    assert resolver.resolve({"Fn::Sub": argument}) == "mwaa-override-us-east-1"


def test_sub_keeps_an_escaped_literal_as_a_placeholder(resolver: _Resolver) -> None:
    assert resolver.resolve({"Fn::Sub": "${!Literal}-${Stage}"}) == "${Literal}-dev"


def test_sub_of_an_unknown_name_is_an_error(resolver: _Resolver) -> None:
    with pytest.raises(ProvisioningError, match="Ref to Missing"):
        resolver.resolve({"Fn::Sub": "${Missing}"})


# --------------------------------------------------------------------------- the other functions


def test_join_joins_resolved_values(resolver: _Resolver) -> None:
    assert resolver.resolve({"Fn::Join": [":", ["mwaa", {"Ref": "Stage"}, {"Ref": "AWS::NoValue"}]]}) == "mwaa:dev"


@pytest.mark.parametrize("index", [1, "1"])
def test_select_picks_by_index(resolver: _Resolver, index: Any) -> None:
    assert resolver.resolve({"Fn::Select": [index, ["a", "b", "c"]]}) == "b"


def test_split_splits_a_resolved_string(resolver: _Resolver) -> None:
    assert resolver.resolve({"Fn::Split": ["/", {"Fn::Sub": "${Stage}/dags/a.py"}]}) == ["dev", "dags", "a.py"]


def test_select_of_split_picks_a_part(resolver: _Resolver) -> None:
    arn_resource = {"Fn::Select": [5, {"Fn::Split": [":", "arn:aws:sns:us-east-1:123456789012:alerts"]}]}

    assert resolver.resolve(arn_resource) == "alerts"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Fn::Equals": [{"Ref": "Stage"}, "dev"]}, True),
        ({"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, False),
        ({"Fn::Not": [{"Fn::Equals": [{"Ref": "Stage"}, "prod"]}]}, True),
        ({"Fn::And": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]}, False),
        ({"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "a"]}]}, True),
        ({"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]}, True),
        ({"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "b"]}]}, False),
    ],
)
def test_condition_functions_evaluate_to_booleans(resolver: _Resolver, expression: Any, expected: bool) -> None:
    assert resolver.resolve(expression) is expected


@pytest.mark.parametrize(("condition", "expected"), [("IsDev", "small"), ("IsProd", "large")])
def test_if_picks_the_branch_of_its_condition(resolver: _Resolver, condition: str, expected: str) -> None:
    assert resolver.resolve({"Fn::If": [condition, "small", "large"]}) == expected


def test_an_unknown_condition_is_an_error(resolver: _Resolver) -> None:
    with pytest.raises(ProvisioningError, match="unknown condition IsStaging"):
        resolver.resolve({"Fn::If": ["IsStaging", "a", "b"]})


def test_find_in_map_looks_up_resolved_keys(resolver: _Resolver) -> None:
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Class"]}) == "mw1.small"


# --------------------------------------------------------------------------- creation order


def test_a_resource_is_created_after_what_it_refs() -> None:
    resources = {"Alpha": {"Properties": {"Topic": {"Ref": "Zulu"}}}, "Zulu": {"Properties": {}}}

    assert _creation_order(resources) == ["Zulu", "Alpha"]


@pytest.mark.parametrize(
    "properties",
    [
        pytest.param({"Arn": {"Fn::GetAtt": "Zulu.Arn"}}, id="GetAtt string"),
        pytest.param({"Arn": {"Fn::GetAtt": ["Zulu", "Arn"]}}, id="GetAtt list"),
        pytest.param({"Name": {"Fn::Sub": "${Zulu}-copy"}}, id="Sub reference"),
        pytest.param({"Name": {"Fn::Sub": "${Zulu.Arn}/*"}}, id="Sub attribute"),
        pytest.param({"Name": {"Fn::Sub": ["${X}", {"X": {"Ref": "Zulu"}}]}}, id="Sub variable"),
        pytest.param({"Deep": [{"Nested": {"Fn::Join": ["", [{"Ref": "Zulu"}]]}}]}, id="nested Ref"),
    ],
)
def test_references_through_get_att_and_sub_order_creation(properties: dict[str, Any]) -> None:
    resources = {"Alpha": {"Properties": properties}, "Zulu": {"Properties": {}}}

    assert _creation_order(resources) == ["Zulu", "Alpha"]


@pytest.mark.parametrize("depends_on", ["Zulu", ["Zulu"]], ids=["string", "list"])
def test_depends_on_orders_creation(depends_on: Any) -> None:
    resources = {"Alpha": {"DependsOn": depends_on, "Properties": {}}, "Zulu": {"Properties": {}}}

    assert _creation_order(resources) == ["Zulu", "Alpha"]


def test_references_to_parameters_and_escaped_literals_do_not_order_creation() -> None:
    resources = {
        "Alpha": {"Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-${Stage}-${!Zulu}"}}},
        "Zulu": {"Properties": {}},
    }

    assert _creation_order(resources) == ["Alpha", "Zulu"]


def test_independent_resources_are_created_in_logical_id_order() -> None:
    resources = {name: {"Properties": {}} for name in ("Topic", "Bucket", "Queue")}

    assert _creation_order(resources) == ["Bucket", "Queue", "Topic"]


def test_a_dependency_chain_is_created_from_its_end() -> None:
    resources = {
        "Alpha": {"Properties": {"A": {"Ref": "Bravo"}}},
        "Bravo": {"Properties": {"B": {"Fn::GetAtt": "Charlie.Arn"}}},
        "Charlie": {"Properties": {}},
    }

    assert _creation_order(resources) == ["Charlie", "Bravo", "Alpha"]


def test_a_circular_dependency_is_an_error_that_names_the_cycle() -> None:
    resources = {
        "Alpha": {"Properties": {"A": {"Ref": "Bravo"}}},
        "Bravo": {"Properties": {"B": {"Fn::Sub": "${Charlie.Arn}"}}},
        "Charlie": {"DependsOn": "Alpha", "Properties": {}},
    }

    with pytest.raises(ProvisioningError, match="circular dependency: Alpha -> Bravo -> Charlie -> Alpha"):
        _creation_order(resources)


def test_a_resource_that_refers_to_itself_is_a_circular_dependency() -> None:
    with pytest.raises(ProvisioningError, match="circular dependency: Alpha -> Alpha"):
        _creation_order({"Alpha": {"Properties": {"Name": {"Fn::GetAtt": "Alpha.Arn"}}}})


def test_a_sub_variable_named_like_a_resource_is_not_a_reference_to_it() -> None:
    resources = {
        "Alpha": {"Properties": {"Name": {"Fn::Sub": ["${Zulu}-suffix", {"Zulu": "a-literal"}]}}},
        "Zulu": {"DependsOn": "Alpha", "Properties": {}},
    }

    assert _creation_order(resources) == ["Alpha", "Zulu"]


# --------------------------------------------------------------------------- parameters


def provisioner(tmp_path: Path, dispatcher: LambdaDispatcher | None = None, **parameters: str) -> Provisioner:
    return Provisioner(
        template_path=tmp_path / "template.yaml",
        stack_name="tiny",
        region="us-east-1",
        account_id=ACCOUNT,
        parameters=parameters,
        dispatcher=dispatcher or LambdaDispatcher(region="us-east-1", base_environment={}),
    )


DECLARED = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "test", "prod"]},
        "Prefix": {"Type": "String", "Default": "mwaa", "AllowedPattern": "[a-z][a-z0-9-]*"},
        "RetentionDays": {"Type": "Number", "Default": 14},
    }
}


def test_parameters_take_their_defaults_as_strings(tmp_path: Path) -> None:
    assert provisioner(tmp_path)._parameter_values(DECLARED) == {
        "Stage": "dev",
        "Prefix": "mwaa",
        "RetentionDays": "14",
    }


def test_a_passed_parameter_overrides_its_default(tmp_path: Path) -> None:
    values = provisioner(tmp_path, Stage="prod", Prefix="team-a")._parameter_values(DECLARED)

    assert (values["Stage"], values["Prefix"]) == ("prod", "team-a")


def test_an_unknown_parameter_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ProvisioningError, match=r"unknown template parameter\(s\): Stagee"):
        provisioner(tmp_path, Stagee="prod")._parameter_values(DECLARED)


def test_a_parameter_without_default_or_value_is_an_error_naming_it(tmp_path: Path) -> None:
    declared = {"Parameters": {"AlertEmail": {"Type": "String"}}}

    with pytest.raises(ProvisioningError, match="template parameter AlertEmail has no default"):
        provisioner(tmp_path)._parameter_values(declared)


def test_a_value_outside_allowed_values_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProvisioningError, match=r"parameter Stage='staging' is not one of"):
        provisioner(tmp_path, Stage="staging")._parameter_values(DECLARED)


@pytest.mark.parametrize("prefix", ["Team", "team_a", "team-a!"])
def test_a_value_that_does_not_wholly_match_the_allowed_pattern_is_an_error(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(ProvisioningError, match=rf"parameter Prefix='{prefix}' does not match"):
        provisioner(tmp_path, Prefix=prefix)._parameter_values(DECLARED)


# --------------------------------------------------------------------------- a tiny SAM template

HANDLER = """\
import os


def handler(event, context):
    return {"hello": event.get("name", "world"), "stage": os.environ["STAGE"]}
"""

ASL = {
    "Comment": "Say hello in ${Stage}",
    "StartAt": "Say hello",
    "States": {"Say hello": {"Type": "Task", "Resource": "${HelloFunctionArn}", "End": True}},
}


def tiny_template(tmp_path: Path, *, asl: dict[str, Any] = ASL, **extra_resources: Any) -> Path:
    """A function with a local CodeUri and a state machine with DefinitionUri + DefinitionSubstitutions."""
    (tmp_path / "functions" / "hello").mkdir(parents=True)
    (tmp_path / "functions" / "hello" / "app.py").write_text(HANDLER, encoding="utf-8")
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "statemachines" / "hello.asl.json").write_text(json.dumps(asl), encoding="utf-8")
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": {"Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}},
        "Resources": {
            "HelloFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "functions/hello/",
                    "Handler": "app.handler",
                    "Runtime": "python3.12",
                    "Environment": {"Variables": {"STAGE": {"Ref": "Stage"}}},
                },
            },
            "HelloFlow": {
                "Type": "AWS::Serverless::StateMachine",
                "Properties": {
                    "DefinitionUri": "statemachines/hello.asl.json",
                    "DefinitionSubstitutions": {
                        "HelloFunctionArn": {"Fn::GetAtt": "HelloFunction.Arn"},
                        "Stage": {"Ref": "Stage"},
                    },
                    "Policies": [{"LambdaInvokePolicy": {"FunctionName": {"Ref": "HelloFunction"}}}],
                },
            },
            **extra_resources,
        },
        "Outputs": {"HelloFlowArn": {"Value": {"Ref": "HelloFlow"}}},
    }
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(template, indent=2), encoding="utf-8")  # JSON is YAML
    return path


def translate_tiny(tmp_path: Path, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Path]]:
    return translate(
        load_template(tiny_template(tmp_path, **kwargs)),
        base_dir=tmp_path,
        parameters={"Stage": "dev"},
        region="us-east-1",
        account_id=ACCOUNT,
        stack_name="tiny",
    )


def test_translate_maps_a_functions_local_code_uri_to_its_folder(tmp_path: Path) -> None:
    _, local_paths = translate_tiny(tmp_path)

    assert local_paths == {"HelloFunction": (tmp_path / "functions" / "hello").resolve()}


def test_translate_turns_sam_resources_into_cloudformation_ones(tmp_path: Path) -> None:
    cfn, _ = translate_tiny(tmp_path)

    types = {logical_id: resource["Type"] for logical_id, resource in cfn["Resources"].items()}
    assert types["HelloFunction"] == "AWS::Lambda::Function"
    assert types["HelloFlow"] == "AWS::StepFunctions::StateMachine"
    assert types["HelloFunctionRole"] == types["HelloFlowRole"] == "AWS::IAM::Role"


def test_translate_inlines_the_definition_file_and_keeps_the_substitutions(tmp_path: Path) -> None:
    cfn, _ = translate_tiny(tmp_path)

    flow = cfn["Resources"]["HelloFlow"]["Properties"]
    separator, lines = flow["DefinitionString"]["Fn::Join"]
    assert json.loads(separator.join(lines)) == ASL
    assert flow["DefinitionSubstitutions"]["Stage"] == {"Ref": "Stage"}


def test_translate_does_not_change_the_template_it_is_given(tmp_path: Path) -> None:
    template = load_template(tiny_template(tmp_path))
    before = json.dumps(template, sort_keys=True)

    translate(template, base_dir=tmp_path, parameters={}, region="us-east-1", account_id=ACCOUNT, stack_name="t")

    assert json.dumps(template, sort_keys=True) == before


def test_a_missing_definition_file_is_an_error_naming_the_state_machine(tmp_path: Path) -> None:
    template = load_template(tiny_template(tmp_path))
    (tmp_path / "statemachines" / "hello.asl.json").unlink()

    with pytest.raises(ProvisioningError, match=r"state machine HelloFlow: .*hello\.asl\.json is not readable JSON"):
        translate(template, base_dir=tmp_path, parameters={}, region="us-east-1", account_id=ACCOUNT, stack_name="t")


def test_a_template_sam_cannot_translate_is_a_provisioning_error(tmp_path: Path) -> None:
    template = load_template(tiny_template(tmp_path))
    del template["Resources"]["HelloFunction"]["Properties"]["Handler"]

    with pytest.raises(ProvisioningError, match="SAM translation failed"):
        translate(template, base_dir=tmp_path, parameters={}, region="us-east-1", account_id=ACCOUNT, stack_name="t")


@pytest.mark.parametrize("text", ["just a string\n", "Parameters: {}\n"])
def test_a_template_without_resources_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(ProvisioningError, match="has no Resources section"):
        load_template(tmp_path / "template.yaml")


# --------------------------------------------------------------------------- provisioning in moto


@pytest.fixture
def dispatcher() -> Iterator[LambdaDispatcher]:
    with mock_aws():
        yield LambdaDispatcher(region="us-east-1", base_environment={})
    streams.uninstall()


def test_provisioning_applies_the_definition_substitutions(tmp_path: Path, dispatcher: LambdaDispatcher) -> None:
    tiny_template(tmp_path)

    stack = provisioner(tmp_path, dispatcher).provision()

    definition = boto3.client("stepfunctions", region_name="us-east-1").describe_state_machine(
        stateMachineArn=stack.ref("HelloFlow")
    )["definition"]
    assert json.loads(definition) == {
        **ASL,
        "Comment": "Say hello in dev",
        "States": {"Say hello": {"Type": "Task", "Resource": stack.attribute("HelloFunction", "Arn"), "End": True}},
    }


def test_provisioning_resolves_the_outputs(tmp_path: Path, dispatcher: LambdaDispatcher) -> None:
    tiny_template(tmp_path)

    stack = provisioner(tmp_path, dispatcher, Stage="prod").provision()

    assert stack.outputs == {"HelloFlowArn": stack.ref("HelloFlow")}
    assert stack.parameters == {"Stage": "prod"}
    assert set(stack.of_type("AWS::IAM::Role")) == {"HelloFunctionRole", "HelloFlowRole"}


def test_a_provisioned_function_runs_its_local_code_with_its_environment(
    tmp_path: Path, dispatcher: LambdaDispatcher
) -> None:
    tiny_template(tmp_path)
    stack = provisioner(tmp_path, dispatcher, Stage="prod").provision()

    function = dispatcher.lookup(stack.attribute("HelloFunction", "Arn"))
    assert function is not None
    invocation = dispatcher.invoke(function, {"name": "MWAA"})

    assert invocation.result == {"hello": "MWAA", "stage": "prod"}


def test_a_placeholder_left_unbound_by_the_substitutions_is_an_error(
    tmp_path: Path, dispatcher: LambdaDispatcher
) -> None:
    asl = {**ASL, "Comment": "notify ${NotificationTopicArn}"}
    tiny_template(tmp_path, asl=asl)

    with pytest.raises(
        ProvisioningError, match=r"HelloFlow: DefinitionSubstitutions leaves \$\{NotificationTopicArn\}"
    ):
        provisioner(tmp_path, dispatcher).provision()


def test_an_unsupported_resource_type_is_an_error_not_skipped(tmp_path: Path, dispatcher: LambdaDispatcher) -> None:
    tiny_template(tmp_path, Images={"Type": "AWS::ECR::Repository", "Properties": {}})

    with pytest.raises(
        ProvisioningError, match="Images: resource type AWS::ECR::Repository is not supported by the local runtime"
    ):
        provisioner(tmp_path, dispatcher).provision()


def test_a_resource_whose_condition_is_false_is_not_created(tmp_path: Path, dispatcher: LambdaDispatcher) -> None:
    path = tiny_template(tmp_path, Alerts={"Type": "AWS::SNS::Topic", "Condition": "IsProd", "Properties": {}})
    template = json.loads(path.read_text(encoding="utf-8"))
    template["Conditions"] = {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}}
    path.write_text(json.dumps(template), encoding="utf-8")

    stack = provisioner(tmp_path, dispatcher).provision()

    assert "Alerts" not in stack.resources
    assert boto3.client("sns", region_name="us-east-1").list_topics()["Topics"] == []


def test_a_boolean_environment_variable_reaches_the_function_as_cloudformation_writes_it(
    tmp_path: Path, dispatcher: LambdaDispatcher
) -> None:
    path = tiny_template(tmp_path)
    template = json.loads(path.read_text(encoding="utf-8"))
    template["Resources"]["HelloFunction"]["Properties"]["Environment"]["Variables"]["DRY_RUN"] = True
    path.write_text(json.dumps(template), encoding="utf-8")

    stack = provisioner(tmp_path, dispatcher).provision()

    function = dispatcher.lookup(stack.attribute("HelloFunction", "Arn"))
    assert function is not None
    assert function.environment["DRY_RUN"] == "true"


def test_a_kms_key_keeps_its_policy_and_a_role_policy_becomes_an_inline_policy_of_each_role(
    tmp_path: Path, dispatcher: LambdaDispatcher
) -> None:
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::GetAtt": "HelloFunctionRole.Arn"}},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ],
    }
    read = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    tiny_template(
        tmp_path,
        Key={"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": key_policy, "EnableKeyRotation": True}},
        Read={
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyName": "read", "Roles": [{"Ref": "HelloFunctionRole"}], "PolicyDocument": read},
        },
    )

    stack = provisioner(tmp_path, dispatcher).provision()

    kms = boto3.client("kms", region_name="us-east-1")
    stored = json.loads(kms.get_key_policy(KeyId=stack.ref("Key"), PolicyName="default")["Policy"])
    assert stored["Statement"][0]["Principal"]["AWS"] == stack.attribute("HelloFunctionRole", "Arn")
    assert kms.get_key_rotation_status(KeyId=stack.ref("Key"))["KeyRotationEnabled"] is True
    assert stack.attribute("Key", "Arn").endswith(f":key/{stack.ref('Key')}")
    iam = boto3.client("iam", region_name="us-east-1")
    role = stack.ref("HelloFunctionRole")
    assert iam.get_role_policy(RoleName=role, PolicyName="read")["PolicyDocument"] == read
