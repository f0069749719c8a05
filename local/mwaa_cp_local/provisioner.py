"""Provision the real ``template.yaml`` into the local runtime.

The SAM translator turns the template into CloudFormation, exactly as ``sam deploy`` does;
this module then plays CloudFormation: it evaluates conditions and intrinsic functions,
orders resources by their references, and creates each one through boto3 (so moto sees
the same API calls a stack would make). ``DefinitionSubstitutions`` are applied to the ASL
files, functions are registered with the in-process dispatcher, and layers are attached
by putting their content on ``sys.path``. There is no second, hand-written copy of the
infrastructure: a resource type this module cannot create is an error, never skipped.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import itertools
import json
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mwaa_control_plane import clock as clock_module
from mwaa_control_plane.errors import ControlPlaneError
from mwaa_cp_local.lambda_dispatch import LambdaDispatcher, LocalFunction


class ProvisioningError(ControlPlaneError):
    """The template cannot be provisioned locally (unsupported resource, bad reference, failed call)."""


_NO_VALUE = object()
_ARTIFACT_BUCKET = "mwaa-cp-local-artifacts"
_SUB_REFERENCE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass
class Resource:
    logical_id: str
    type: str
    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class ProvisionedStack:
    """What the local stack consists of, by logical id, plus its outputs."""

    name: str
    region: str
    account_id: str
    resources: dict[str, Resource]
    outputs: dict[str, str]
    parameters: dict[str, str]

    def ref(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise KeyError(f"stack {self.name} has no resource {logical_id}")
        return self.resources[logical_id].ref

    def attribute(self, logical_id: str, name: str) -> str:
        return self.resources[logical_id].attributes[name]

    def of_type(self, resource_type: str) -> dict[str, Resource]:
        return {k: r for k, r in self.resources.items() if r.type == resource_type}


def _no_managed_policies() -> dict[str, str]:
    """The translator only needs names of AWS managed policies it bundles; no IAM call offline."""
    return {}


def pseudo_parameters(*, region: str, account_id: str, stack_name: str) -> dict[str, str]:
    """CloudFormation's pseudo parameters (``AWS::Region``, ``AWS::StackName``, ...) for the local stack."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


def load_template(path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    try:
        document = yaml_parse(path.read_text(encoding="utf-8"))
    except Exception as exc:
        raise ProvisioningError(f"{path} is not a readable template: {exc}") from exc
    if not isinstance(document, dict) or "Resources" not in document:
        raise ProvisioningError(f"{path} has no Resources section")
    return document


def translate(
    template: dict[str, Any],
    *,
    base_dir: Path,
    parameters: Mapping[str, str],
    region: str,
    account_id: str,
    stack_name: str,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """SAM -> CloudFormation. Local code paths become artifact URIs; returns the template and logical id -> folder."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    template = json.loads(json.dumps(template))  # a private copy
    local_paths: dict[str, Path] = {}
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            local_paths[logical_id] = (base_dir / props["CodeUri"]).resolve()
            props["CodeUri"] = f"s3://{_ARTIFACT_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            local_paths[logical_id] = (base_dir / props["ContentUri"]).resolve()
            props["ContentUri"] = f"s3://{_ARTIFACT_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            asl = base_dir / props.pop("DefinitionUri")
            try:
                props["Definition"] = json.loads(asl.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ProvisioningError(f"state machine {logical_id}: {asl} is not readable JSON: {exc}") from exc
    values = {**parameters, **pseudo_parameters(region=region, account_id=account_id, stack_name=stack_name)}
    try:
        # The translator asks a boto3 session for the region: hand it one, never the process environment.
        translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
        translated = translator.translate(
            template, parameter_values=values, get_managed_policy_map=_no_managed_policies
        )
    except Exception as exc:
        raise ProvisioningError(f"SAM translation failed: {exc}") from exc
    return translated, local_paths


class _Resolver:
    """Evaluates CloudFormation intrinsic functions against what has been created so far."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str], pseudo: dict[str, str]) -> None:
        self.template = template
        self.parameters = parameters
        self.pseudo = pseudo
        self.resources: dict[str, Resource] = {}
        self._conditions: dict[str, bool] = {}
        # A Ref to a list-typed parameter is a list, as in CloudFormation (SubnetIds: !Ref PrivateSubnetIds).
        self._list_parameters = {
            name
            for name, spec in template.get("Parameters", {}).items()
            if spec.get("Type") == "CommaDelimitedList" or str(spec.get("Type", "")).startswith("List<")
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions", {})
            if name not in definitions:
                raise ProvisioningError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(definitions[name]))
        return self._conditions[name]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            function = self._FUNCTIONS.get(key)
            if function is not None:
                return function(self, arg)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self._list_parameters:
            return [item.strip() for item in self.parameters[name].split(",")]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name].ref
        raise ProvisioningError(f"Ref to {name}, which is neither a parameter nor a created resource")

    def _get_att(self, arg: Any) -> str:
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else self.resolve(arg)
        resource = self.resources.get(logical_id)
        if resource is None:
            raise ProvisioningError(f"Fn::GetAtt {logical_id}.{attribute}: no such resource (yet)")
        if attribute not in resource.attributes:
            raise ProvisioningError(f"Fn::GetAtt {logical_id}.{attribute}: {resource.type} has no such attribute")
        return resource.attributes[attribute]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return self._get_att(name)
            return str(self._ref(name))

        return _SUB_REFERENCE.sub(replace, text).replace("${!", "${")

    def _if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, arg: list[Any]) -> Any:
        name, first, second = self.resolve(arg)
        return self.template["Mappings"][name][first][second]

    def _cidr(self, arg: list[Any]) -> list[str]:
        block, count, host_bits = self.resolve(arg)
        network = ipaddress.ip_network(str(block))
        # cidrBits counts host bits: 8 carves /24s out of an IPv4 block.
        subnets = network.subnets(new_prefix=network.max_prefixlen - int(host_bits))
        return [str(subnet) for subnet in itertools.islice(subnets, int(count))]

    _FUNCTIONS: dict[str, Callable[[_Resolver, Any], Any]] = {
        "Ref": lambda self, arg: self._ref(arg),
        "Fn::GetAtt": lambda self, arg: self._get_att(arg),
        "Fn::Sub": lambda self, arg: self._sub(arg),
        "Fn::Join": lambda self, arg: str(arg[0]).join(str(v) for v in self.resolve(arg[1])),
        "Fn::Select": lambda self, arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
        "Fn::Split": lambda self, arg: str(self.resolve(arg[1])).split(arg[0]),
        "Fn::If": lambda self, arg: self._if(arg),
        "Fn::Equals": lambda self, arg: self.resolve(arg[0]) == self.resolve(arg[1]),
        "Fn::Not": lambda self, arg: not self.resolve(arg[0]),
        "Fn::And": lambda self, arg: all(self.resolve(a) for a in arg),
        "Fn::Or": lambda self, arg: any(self.resolve(a) for a in arg),
        "Condition": lambda self, arg: self.condition(arg),
        "Fn::FindInMap": lambda self, arg: self._find_in_map(arg),
        "Fn::GetAZs": lambda self, _arg: [f"{self.pseudo['AWS::Region']}{z}" for z in "abc"],
        "Fn::Cidr": lambda self, arg: self._cidr(arg),
    }


def _references(node: Any) -> set[str]:
    """Logical ids a resource definition refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value.split(".")[0] if isinstance(value, str) else value[0])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                # A name bound by Sub's own variable map refers to that variable, not to a resource.
                found |= {m.split(".")[0] for m in _SUB_REFERENCE.findall(text) if m not in variables}
                found |= _references(variables)
            else:
                found |= _references(value)
    return found


def _creation_order(resources: dict[str, Any]) -> list[str]:
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(logical_id: str, path: tuple[str, ...]) -> None:
        if state.get(logical_id) == "done":
            return
        if state.get(logical_id) == "visiting":
            raise ProvisioningError(f"circular dependency: {' -> '.join((*path, logical_id))}")
        state[logical_id] = "visiting"
        definition = resources[logical_id]
        depends = definition.get("DependsOn", [])
        # Metadata counts too: a WaitConditionHandle names there what it waits for (DependsOn cannot
        # name a resource whose condition may be false).
        referenced = _references(definition.get("Properties", {})) | _references(definition.get("Metadata", {}))
        needed = referenced | set([depends] if isinstance(depends, str) else depends)
        for other in sorted(needed & resources.keys()):
            visit(other, (*path, logical_id))
        state[logical_id] = "done"
        order.append(logical_id)

    for logical_id in sorted(resources):
        visit(logical_id, ())
    return order


def _physical_name(stack: str, logical_id: str, limit: int, lower: bool = False) -> str:
    suffix = hashlib.sha256(f"{stack}/{logical_id}".encode()).hexdigest()[:12].upper()
    name = f"{stack}-{logical_id}"[: limit - 13] + f"-{suffix}"
    return name.lower() if lower else name


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Code runs in-process in the local runtime; see functions/.\n")
    return buffer.getvalue()


class Provisioner:
    """Creates a translated template's resources in the local AWS, in dependency order."""

    def __init__(
        self,
        *,
        template_path: Path,
        stack_name: str,
        region: str,
        account_id: str,
        parameters: Mapping[str, str],
        dispatcher: LambdaDispatcher,
    ) -> None:
        self.template_path = template_path.resolve()
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.parameters = dict(parameters)
        self.dispatcher = dispatcher
        # SAM logical id -> local folder of functions' code and layers' content; set by provision().
        self._local_paths: dict[str, Path] = {}
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        """A boto3 client per service, made on first use (after fault injection is installed)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        return self._clients[service]

    def provision(self) -> ProvisionedStack:
        sam = load_template(self.template_path)
        parameters = self._parameter_values(sam)
        cfn, local_paths = translate(
            sam,
            base_dir=self.template_path.parent,
            parameters=parameters,
            region=self.region,
            account_id=self.account_id,
            stack_name=self.stack_name,
        )
        self._local_paths = local_paths
        pseudo = pseudo_parameters(region=self.region, account_id=self.account_id, stack_name=self.stack_name)
        resolver = _Resolver(cfn, parameters, pseudo)
        resources: dict[str, Any] = cfn["Resources"]
        for logical_id in _creation_order(resources):
            definition = resources[logical_id]
            if "Condition" in definition and not resolver.condition(definition["Condition"]):
                continue
            kind = definition["Type"]
            create = self._CREATORS.get(kind)
            if create is None:
                raise ProvisioningError(
                    f"{logical_id}: resource type {kind} is not supported by the local runtime; "
                    "add a creator in mwaa_control_plane/local/provisioner.py"
                )
            properties = resolver.resolve(definition.get("Properties", {}))
            try:
                resolver.resources[logical_id] = create(self, logical_id, properties)
            except (ClientError, BotoCoreError) as exc:
                raise ProvisioningError(f"{logical_id} ({kind}): {exc}") from exc
        outputs = {
            name: str(resolver.resolve(output["Value"]))
            for name, output in cfn.get("Outputs", {}).items()
            if "Condition" not in output or resolver.condition(output["Condition"])
        }
        return ProvisionedStack(self.stack_name, self.region, self.account_id, resolver.resources, outputs, parameters)

    def _parameter_values(self, sam: dict[str, Any]) -> dict[str, str]:
        declared: dict[str, Any] = sam.get("Parameters", {})
        unknown = set(self.parameters) - set(declared)
        if unknown:
            raise ProvisioningError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
        values: dict[str, str] = {}
        for name, spec in declared.items():
            if name in self.parameters:
                value = str(self.parameters[name])
            elif "Default" in spec:
                value = str(spec["Default"])
            else:
                raise ProvisioningError(f"template parameter {name} has no default; pass a value")
            allowed = spec.get("AllowedValues")
            if allowed and value not in [str(a) for a in allowed]:
                raise ProvisioningError(f"parameter {name}={value!r} is not one of {allowed}")
            pattern = spec.get("AllowedPattern")
            if pattern and not re.fullmatch(pattern, value):
                raise ProvisioningError(f"parameter {name}={value!r} does not match {pattern}")
            values[name] = value
        return values

    # ------------------------------------------------------------------ creators
    def _bucket(self, logical_id: str, props: dict[str, Any]) -> Resource:
        s3 = self._client("s3")
        name = props.get("BucketName") or _physical_name(self.stack_name, logical_id, 63, lower=True)
        args: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**args)
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in props:
            # CloudFormation's ServerSideEncryptionByDefault is the S3 API's ApplyServerSideEncryptionByDefault.
            rules = [
                {
                    ("ApplyServerSideEncryptionByDefault" if k == "ServerSideEncryptionByDefault" else k): v
                    for k, v in rule.items()
                }
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        notification = props.get("NotificationConfiguration", {})
        if notification.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled") in (True, "true"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
        lifecycle = props.get("LifecycleConfiguration", {}).get("Rules")
        if lifecycle:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle]}
            )
        for key in props:
            if key.endswith("Configuration") and key not in _BUCKET_CONFIGURATIONS:
                raise ProvisioningError(f"{logical_id}: bucket property {key} is not supported locally")
        return Resource(
            logical_id,
            "AWS::S3::Bucket",
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            },
        )

    def _bucket_policy(self, logical_id: str, props: dict[str, Any]) -> Resource:
        # moto evaluates bucket policies without their conditions, so a TLS-only Deny would deny every request.
        # boto3 and the AWS CLI always use TLS against AWS; the local copy leaves those statements out.
        document = dict(props["PolicyDocument"])
        kept = [s for s in document.get("Statement", []) if not _is_tls_only_deny(s)]
        if kept:
            document["Statement"] = kept
            self._client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))
        return Resource(
            logical_id,
            "AWS::S3::BucketPolicy",
            props["Bucket"],
            {"LocallyOmittedStatements": str(len(document.get("Statement", [])) - len(kept))},
        )

    def _topic(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("TopicName") or _physical_name(self.stack_name, logical_id, 256)
        attributes = {k: str(props[k]) for k in ("DisplayName", "KmsMasterKeyId") if k in props}
        arn = self._client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        return Resource(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})

    def _subscription(self, logical_id: str, props: dict[str, Any]) -> Resource:
        arn = self._client("sns").subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
        )["SubscriptionArn"]
        return Resource(logical_id, "AWS::SNS::Subscription", arn)

    def _topic_policy(self, logical_id: str, props: dict[str, Any]) -> Resource:
        for topic in props["Topics"]:
            self._client("sns").set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"])
            )
        return Resource(logical_id, "AWS::SNS::TopicPolicy", logical_id)

    def _table(self, logical_id: str, props: dict[str, Any]) -> Resource:
        ddb = self._client("dynamodb")
        name = props.get("TableName") or _physical_name(self.stack_name, logical_id, 255)
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("GlobalSecondaryIndexes", "ProvisionedThroughput", "StreamSpecification"):
            if key in props:
                args[key] = props[key]
        if "SSESpecification" in props:
            args["SSESpecification"] = {"Enabled": props["SSESpecification"].get("SSEEnabled", False)}
        description = ddb.create_table(**args)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
            )
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        return Resource(logical_id, "AWS::DynamoDB::Table", name, {"Arn": description["TableArn"]})

    def _queue(self, logical_id: str, props: dict[str, Any]) -> Resource:
        sqs = self._client("sqs")
        name = props.get("QueueName") or _physical_name(self.stack_name, logical_id, 80)
        attributes = {
            k: json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in props.items()
            if k not in ("QueueName", "Tags")
        }
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"
        return Resource(logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _queue_policy(self, logical_id: str, props: dict[str, Any]) -> Resource:
        for url in props["Queues"]:
            self._client("sqs").set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
            )
        return Resource(logical_id, "AWS::SQS::QueuePolicy", logical_id)

    def _role(self, logical_id: str, props: dict[str, Any]) -> Resource:
        iam = self._client("iam")
        name = props.get("RoleName") or _physical_name(self.stack_name, logical_id, 64)
        role = iam.create_role(
            RoleName=name,
            Path=props.get("Path", "/"),
            AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
        )["Role"]
        for policy in props.get("Policies", []):
            # SAM's policy templates omit Version; IAM then assumes 2008-10-17, moto refuses. Same grants either way.
            document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document))
        managed = props.get("ManagedPolicyArns", [])
        return Resource(
            logical_id,
            "AWS::IAM::Role",
            name,
            {"Arn": role["Arn"], "RoleId": role["RoleId"], "ManagedPolicyArns": ",".join(managed)},
        )

    def _layer(self, logical_id: str, props: dict[str, Any]) -> Resource:
        paths = self._local_paths
        content = paths.get(logical_id) or paths.get(_sam_logical_id(logical_id, paths))
        if content is not None and str(content) not in sys.path:
            sys.path.insert(0, str(content))  # "attaching" the layer: its package becomes importable
        arn = self._client("lambda").publish_layer_version(
            LayerName=props.get("LayerName") or logical_id,
            Content={"ZipFile": _dummy_zip()},
            CompatibleRuntimes=props.get("CompatibleRuntimes", []),
        )["LayerVersionArn"]
        return Resource(logical_id, "AWS::Lambda::LayerVersion", arn)

    def _function(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("FunctionName") or _physical_name(self.stack_name, logical_id, 64)
        # CloudFormation writes JSON booleans as "true"/"false" (as for queue attributes below).
        environment = {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in props.get("Environment", {}).get("Variables", {}).items()
        }
        created = self._client("lambda").create_function(
            FunctionName=name,
            Runtime=props["Runtime"],
            Role=props["Role"],
            Handler=props["Handler"],
            Code={"ZipFile": _dummy_zip()},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=int(props.get("MemorySize", 128)),
            Environment={"Variables": environment},
            Layers=props.get("Layers", []),
            TracingConfig=props.get("TracingConfig", {"Mode": "PassThrough"}),
            Architectures=props.get("Architectures", ["x86_64"]),
        )
        code_dir = self._local_paths.get(logical_id)
        if code_dir is None:
            raise ProvisioningError(f"{logical_id}: only functions with a local CodeUri can run locally")
        self.dispatcher.register(
            LocalFunction(
                name=name,
                arn=created["FunctionArn"],
                code_dir=code_dir,
                handler=props["Handler"],
                environment=environment,
                timeout_seconds=int(props.get("Timeout", 3)),
                memory_mb=int(props.get("MemorySize", 128)),
            )
        )
        return Resource(logical_id, "AWS::Lambda::Function", name, {"Arn": created["FunctionArn"]})

    def _permission(self, logical_id: str, props: dict[str, Any]) -> Resource:
        args = {
            "FunctionName": props["FunctionName"],
            "StatementId": logical_id,
            "Action": props["Action"],
            "Principal": props["Principal"],
        }
        if "SourceArn" in props:
            args["SourceArn"] = props["SourceArn"]
        self._client("lambda").add_permission(**args)
        return Resource(logical_id, "AWS::Lambda::Permission", logical_id)

    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> Resource:
        if "DefinitionString" in props:
            definition = str(props["DefinitionString"])
        elif "Definition" in props:
            definition = json.dumps(props["Definition"])
        else:
            raise ProvisioningError(f"{logical_id}: state machine needs a local definition")
        substitutions: dict[str, Any] = props.get("DefinitionSubstitutions", {})
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", str(value))
        unresolved = sorted(set(_SUB_REFERENCE.findall(definition)))
        if unresolved:
            raise ProvisioningError(
                f"{logical_id}: DefinitionSubstitutions leaves ${{{', '.join(unresolved)}}} unbound"
            )
        name = props.get("StateMachineName") or _physical_name(self.stack_name, logical_id, 80)
        args: dict[str, Any] = {
            "name": name,
            "definition": definition,
            "roleArn": props["RoleArn"],
            "type": props.get("StateMachineType", "STANDARD"),
        }
        if "TracingConfiguration" in props:
            args["tracingConfiguration"] = {"enabled": bool(props["TracingConfiguration"].get("Enabled"))}
        arn = self._client("stepfunctions").create_state_machine(**args)["stateMachineArn"]
        return Resource(logical_id, "AWS::StepFunctions::StateMachine", arn, {"Arn": arn, "Name": name})

    def _rule(self, logical_id: str, props: dict[str, Any]) -> Resource:
        events = self._client("events")
        name = props.get("Name") or _physical_name(self.stack_name, logical_id, 64)
        args: dict[str, Any] = {"Name": name, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            args["EventPattern"] = json.dumps(props["EventPattern"])
        for key in ("ScheduleExpression", "Description", "EventBusName", "RoleArn"):
            if key in props:
                args[key] = props[key]
        arn = events.put_rule(**args)["RuleArn"]
        targets = props.get("Targets", [])
        if targets:
            put: dict[str, Any] = {"Rule": name, "Targets": targets}
            if "EventBusName" in props:
                put["EventBusName"] = props["EventBusName"]
            failed = events.put_targets(**put).get("FailedEntries", [])
            if failed:
                raise ProvisioningError(f"{logical_id}: targets rejected: {failed}")
        return Resource(logical_id, "AWS::Events::Rule", name, {"Arn": arn})

    def _schedule(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("Name") or _physical_name(self.stack_name, logical_id, 64)
        keys = (
            "ScheduleExpression",
            "FlexibleTimeWindow",
            "Target",
            "ScheduleExpressionTimezone",
            "Description",
            "State",
            "GroupName",
        )
        args: dict[str, Any] = {k: props[k] for k in keys if k in props}
        arn = self._client("scheduler").create_schedule(Name=name, **args)["ScheduleArn"]
        return Resource(logical_id, "AWS::Scheduler::Schedule", name, {"Arn": arn})

    def _log_group(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("LogGroupName") or _physical_name(self.stack_name, logical_id, 512)
        logs = self._client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}:*"
        return Resource(logical_id, "AWS::Logs::LogGroup", name, {"Arn": arn})

    def _alarm(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("AlarmName") or _physical_name(self.stack_name, logical_id, 255)
        args = {k: v for k, v in props.items() if k != "AlarmName"}
        for numeric in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if numeric in args:
                args[numeric] = int(args[numeric])
        if "Threshold" in args:
            args["Threshold"] = float(args["Threshold"])
        self._client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
        arn = f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"
        return Resource(logical_id, "AWS::CloudWatch::Alarm", name, {"Arn": arn})

    def _parameter(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("Name") or f"/{self.stack_name}/{logical_id}"
        self._client("ssm").put_parameter(
            Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"), Overwrite=True
        )
        return Resource(logical_id, "AWS::SSM::Parameter", name)

    def _iam_policy(self, logical_id: str, props: dict[str, Any]) -> Resource:
        # An inline policy of each role it names, as IAM stores it (the IAM check of flow tests reads it there).
        document = {"Version": "2012-10-17", **props["PolicyDocument"]}
        for role in props.get("Roles", []):
            self._client("iam").put_role_policy(
                RoleName=role, PolicyName=props["PolicyName"], PolicyDocument=json.dumps(document)
            )
        return Resource(logical_id, "AWS::IAM::Policy", logical_id)

    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> Resource:
        # moto keeps the key policy (the IAM check of flow tests reads it) but, like IAM, does not enforce it.
        kms = self._client("kms")
        args: dict[str, Any] = {"Policy": json.dumps(props["KeyPolicy"])} if "KeyPolicy" in props else {}
        if "Description" in props:
            args["Description"] = props["Description"]
        key = kms.create_key(**args)["KeyMetadata"]
        if props.get("EnableKeyRotation") in (True, "true"):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        return Resource(logical_id, "AWS::KMS::Key", key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})

    # ------------------------------------------------------------------ network
    def _vpc(self, logical_id: str, props: dict[str, Any]) -> Resource:
        ec2 = self._client("ec2")
        vpc = ec2.create_vpc(CidrBlock=props["CidrBlock"], **_tag_specification("vpc", props))["Vpc"]
        vpc_id = vpc["VpcId"]
        # The API sets one attribute per call.
        for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
            if attribute in props:
                ec2.modify_vpc_attribute(VpcId=vpc_id, **{attribute: {"Value": _flag(props[attribute])}})
        [default_group] = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"]
        return Resource(
            logical_id,
            "AWS::EC2::VPC",
            vpc_id,
            {"VpcId": vpc_id, "CidrBlock": vpc["CidrBlock"], "DefaultSecurityGroup": default_group["GroupId"]},
        )

    def _subnet(self, logical_id: str, props: dict[str, Any]) -> Resource:
        ec2 = self._client("ec2")
        args: dict[str, Any] = {"VpcId": props["VpcId"], "CidrBlock": props["CidrBlock"]}
        if "AvailabilityZone" in props:
            args["AvailabilityZone"] = props["AvailabilityZone"]
        subnet = ec2.create_subnet(**args, **_tag_specification("subnet", props))["Subnet"]
        if _flag(props.get("MapPublicIpOnLaunch", False)):
            ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
        return Resource(
            logical_id,
            "AWS::EC2::Subnet",
            subnet["SubnetId"],
            {
                "SubnetId": subnet["SubnetId"],
                "AvailabilityZone": subnet["AvailabilityZone"],
                "VpcId": subnet["VpcId"],
                "CidrBlock": subnet["CidrBlock"],
            },
        )

    def _internet_gateway(self, logical_id: str, props: dict[str, Any]) -> Resource:
        gateway = self._client("ec2").create_internet_gateway(**_tag_specification("internet-gateway", props))
        gateway_id = gateway["InternetGateway"]["InternetGatewayId"]
        return Resource(logical_id, "AWS::EC2::InternetGateway", gateway_id, {"InternetGatewayId": gateway_id})

    def _gateway_attachment(self, logical_id: str, props: dict[str, Any]) -> Resource:
        if "InternetGatewayId" not in props:
            raise ProvisioningError(f"{logical_id}: only internet gateway attachments are supported locally")
        self._client("ec2").attach_internet_gateway(InternetGatewayId=props["InternetGatewayId"], VpcId=props["VpcId"])
        return Resource(logical_id, "AWS::EC2::VPCGatewayAttachment", f"IGW|{props['VpcId']}")

    def _elastic_ip(self, logical_id: str, props: dict[str, Any]) -> Resource:
        address = self._client("ec2").allocate_address(
            Domain=props.get("Domain", "vpc"), **_tag_specification("elastic-ip", props)
        )
        return Resource(
            logical_id,
            "AWS::EC2::EIP",
            address["PublicIp"],
            {"AllocationId": address["AllocationId"], "PublicIp": address["PublicIp"]},
        )

    def _nat_gateway(self, logical_id: str, props: dict[str, Any]) -> Resource:
        args: dict[str, Any] = {"SubnetId": props["SubnetId"]}
        for key in ("AllocationId", "ConnectivityType"):
            if key in props:
                args[key] = props[key]
        gateway = self._client("ec2").create_nat_gateway(**args, **_tag_specification("natgateway", props))
        gateway_id = gateway["NatGateway"]["NatGatewayId"]
        return Resource(logical_id, "AWS::EC2::NatGateway", gateway_id, {"NatGatewayId": gateway_id})

    def _route_table(self, logical_id: str, props: dict[str, Any]) -> Resource:
        table = self._client("ec2").create_route_table(VpcId=props["VpcId"], **_tag_specification("route-table", props))
        table_id = table["RouteTable"]["RouteTableId"]
        return Resource(logical_id, "AWS::EC2::RouteTable", table_id, {"RouteTableId": table_id})

    def _route(self, logical_id: str, props: dict[str, Any]) -> Resource:
        targets = ("GatewayId", "NatGatewayId", "TransitGatewayId", "VpcEndpointId", "VpcPeeringConnectionId")
        args = {k: props[k] for k in ("RouteTableId", "DestinationCidrBlock", *targets) if k in props}
        self._client("ec2").create_route(**args)
        return Resource(logical_id, "AWS::EC2::Route", f"{props['RouteTableId']}|{props['DestinationCidrBlock']}")

    def _route_table_association(self, logical_id: str, props: dict[str, Any]) -> Resource:
        association = self._client("ec2").associate_route_table(
            SubnetId=props["SubnetId"], RouteTableId=props["RouteTableId"]
        )["AssociationId"]
        return Resource(logical_id, "AWS::EC2::SubnetRouteTableAssociation", association, {"Id": association})

    def _security_group(self, logical_id: str, props: dict[str, Any]) -> Resource:
        ec2 = self._client("ec2")
        name = props.get("GroupName") or _physical_name(self.stack_name, logical_id, 255)
        args: dict[str, Any] = {"GroupName": name, "Description": props["GroupDescription"]}
        if "VpcId" in props:
            args["VpcId"] = props["VpcId"]
        group_id = ec2.create_security_group(**args, **_tag_specification("security-group", props))["GroupId"]
        if props.get("SecurityGroupIngress"):
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[_ip_permission(rule, "Source") for rule in props["SecurityGroupIngress"]],
            )
        if "SecurityGroupEgress" in props:
            # As CloudFormation does: listed egress rules replace the default "all traffic out".
            ec2.revoke_security_group_egress(
                GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
            )
            if props["SecurityGroupEgress"]:
                ec2.authorize_security_group_egress(
                    GroupId=group_id,
                    IpPermissions=[_ip_permission(rule, "Destination") for rule in props["SecurityGroupEgress"]],
                )
        return Resource(
            logical_id,
            "AWS::EC2::SecurityGroup",
            group_id,
            {"GroupId": group_id, "VpcId": str(props.get("VpcId", ""))},
        )

    def _security_group_ingress(self, logical_id: str, props: dict[str, Any]) -> Resource:
        self._client("ec2").authorize_security_group_ingress(
            GroupId=props["GroupId"], IpPermissions=[_ip_permission(props, "Source")]
        )
        return Resource(logical_id, "AWS::EC2::SecurityGroupIngress", logical_id)

    def _wait_condition_handle(self, logical_id: str, props: dict[str, Any]) -> Resource:  # noqa: ARG002
        # Nothing to create: the handle exists to order resources (see _creation_order).
        url = f"https://cloudformation-waitcondition-{self.region}.s3.amazonaws.com/{self.stack_name}/{logical_id}"
        return Resource(logical_id, "AWS::CloudFormation::WaitConditionHandle", url)

    # ------------------------------------------------------------------ MWAA
    def _mwaa_environment(self, logical_id: str, props: dict[str, Any]) -> Resource:
        """CreateEnvironment, then wait as CloudFormation does: the resource exists once it is AVAILABLE."""
        mwaa = self._client("mwaa")
        args: dict[str, Any] = dict(props)
        args.setdefault("Name", _physical_name(self.stack_name, logical_id, 80))
        for key in _MWAA_INTEGER_PROPERTIES:
            if key in args:
                args[key] = int(args[key])
        if "LoggingConfiguration" in args:
            args["LoggingConfiguration"] = {
                module: {"Enabled": _flag(setting.get("Enabled", False)), "LogLevel": setting.get("LogLevel", "INFO")}
                for module, setting in args["LoggingConfiguration"].items()
            }
        if "AirflowConfigurationOptions" in args:
            args["AirflowConfigurationOptions"] = _flat_options(args["AirflowConfigurationOptions"])
        if "Tags" in args:
            args["Tags"] = {str(k): str(v) for k, v in args["Tags"].items()}
        name = args["Name"]
        mwaa.create_environment(**args)
        environment = self._wait_for_environment(name)
        attributes: dict[str, str] = {key: str(environment[key]) for key in _MWAA_ATTRIBUTES if key in environment}
        for module, setting in environment.get("LoggingConfiguration", {}).items():
            if "CloudWatchLogGroupArn" in setting:
                attributes[f"LoggingConfiguration.{module}.CloudWatchLogGroupArn"] = setting["CloudWatchLogGroupArn"]
        return Resource(logical_id, "AWS::MWAA::Environment", name, attributes)

    def _wait_for_environment(self, name: str) -> dict[str, Any]:
        mwaa = self._client("mwaa")
        sleeper = clock_module.get_clock()
        for _ in range(_MWAA_CREATE_POLLS):
            environment: dict[str, Any] = mwaa.get_environment(Name=name)["Environment"]
            status = environment["Status"]
            if status == "AVAILABLE":
                return environment
            if status != "CREATING":
                error = environment.get("LastUpdate", {}).get("Error", {})
                raise ProvisioningError(f"MWAA environment {name} ended {status}: {error.get('ErrorMessage', '')}")
            sleeper.sleep(_MWAA_POLL_SECONDS)
        raise ProvisioningError(f"MWAA environment {name} still CREATING after {_MWAA_CREATE_POLLS} polls")

    _CREATORS: dict[str, Callable[[Provisioner, str, dict[str, Any]], Resource]] = {
        "AWS::S3::Bucket": _bucket,
        "AWS::S3::BucketPolicy": _bucket_policy,
        "AWS::SNS::Topic": _topic,
        "AWS::SNS::Subscription": _subscription,
        "AWS::SNS::TopicPolicy": _topic_policy,
        "AWS::DynamoDB::Table": _table,
        "AWS::SQS::Queue": _queue,
        "AWS::SQS::QueuePolicy": _queue_policy,
        "AWS::IAM::Role": _role,
        "AWS::Lambda::LayerVersion": _layer,
        "AWS::Lambda::Function": _function,
        "AWS::Lambda::Permission": _permission,
        "AWS::StepFunctions::StateMachine": _state_machine,
        "AWS::Events::Rule": _rule,
        "AWS::Scheduler::Schedule": _schedule,
        "AWS::Logs::LogGroup": _log_group,
        "AWS::CloudWatch::Alarm": _alarm,
        "AWS::SSM::Parameter": _parameter,
        "AWS::KMS::Key": _kms_key,
        "AWS::IAM::Policy": _iam_policy,
        "AWS::EC2::VPC": _vpc,
        "AWS::EC2::Subnet": _subnet,
        "AWS::EC2::InternetGateway": _internet_gateway,
        "AWS::EC2::VPCGatewayAttachment": _gateway_attachment,
        "AWS::EC2::EIP": _elastic_ip,
        "AWS::EC2::NatGateway": _nat_gateway,
        "AWS::EC2::RouteTable": _route_table,
        "AWS::EC2::Route": _route,
        "AWS::EC2::SubnetRouteTableAssociation": _route_table_association,
        "AWS::EC2::SecurityGroup": _security_group,
        "AWS::EC2::SecurityGroupIngress": _security_group_ingress,
        "AWS::CloudFormation::WaitConditionHandle": _wait_condition_handle,
        "AWS::MWAA::Environment": _mwaa_environment,
    }


# Fn::GetAtt names of AWS::MWAA::Environment (besides LoggingConfiguration.<Module>.CloudWatchLogGroupArn).
_MWAA_ATTRIBUTES = (
    "Arn",
    "WebserverUrl",
    "CeleryExecutorQueue",
    "DatabaseVpcEndpointService",
    "WebserverVpcEndpointService",
)
_MWAA_INTEGER_PROPERTIES = ("MinWorkers", "MaxWorkers", "Schedulers", "MinWebservers", "MaxWebservers")
# CloudFormation polls a creating environment; creation takes 20-30 minutes on AWS (virtual time here).
_MWAA_POLL_SECONDS = 30.0
_MWAA_CREATE_POLLS = 240


def _flag(value: Any) -> bool:
    """A CloudFormation boolean: YAML true, or the string "true" a parameter reference gives."""
    return value is True or str(value).lower() == "true"


def _tag_specification(resource_type: str, props: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's Tags list as EC2's TagSpecifications argument (none when untagged)."""
    tags = props.get("Tags")
    return {"TagSpecifications": [{"ResourceType": resource_type, "Tags": tags}]} if tags else {}


def _ip_permission(rule: dict[str, Any], peer: str) -> dict[str, Any]:
    """A CloudFormation security group rule as the EC2 API's IpPermission; ``peer`` is Source or Destination."""
    permission: dict[str, Any] = {"IpProtocol": str(rule["IpProtocol"])}
    for key in ("FromPort", "ToPort"):
        if key in rule:
            permission[key] = int(rule[key])
    described = {"Description": rule["Description"]} if "Description" in rule else {}
    if "CidrIp" in rule:
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **described}]
    if "CidrIpv6" in rule:
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **described}]
    group = rule.get(f"{peer}SecurityGroupId")
    if group:
        permission["UserIdGroupPairs"] = [{"GroupId": group, **described}]
    prefix_list = rule.get(f"{peer}PrefixListId")
    if prefix_list:
        permission["PrefixListIds"] = [{"PrefixListId": prefix_list, **described}]
    return permission


def _flat_options(options: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """AirflowConfigurationOptions as the API takes them: ``section.key`` to a string (CloudFormation also nests)."""
    flat: dict[str, str] = {}
    for key, value in options.items():
        if isinstance(value, dict):
            flat.update(_flat_options(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


_BUCKET_CONFIGURATIONS = {
    "VersioningConfiguration",
    "PublicAccessBlockConfiguration",
    "NotificationConfiguration",
    "LifecycleConfiguration",
}


def _is_tls_only_deny(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition", {})
    return statement.get("Effect") == "Deny" and condition == {"Bool": {"aws:SecureTransport": "false"}}


def _sam_logical_id(logical_id: str, sam_ids: Iterable[str]) -> str:
    # The translator renames layers to "<LogicalId><hash>"; map back to the SAM logical id.
    for sam_id in sam_ids:
        if logical_id.startswith(sam_id):
            return sam_id
    return logical_id


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape -> the S3 API's."""
    converted: dict[str, Any] = {
        "ID": rule.get("Id", "rule"),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return converted
