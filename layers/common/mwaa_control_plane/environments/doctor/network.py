"""The environment's network: two private subnets in two Availability Zones with a way out, and its security group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from mwaa_control_plane.environments.doctor.models import Check, failed, passed, warned
from mwaa_control_plane.errors import translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

    from mwaa_control_plane.environments.doctor.facts import EnvironmentFacts

# What an environment in subnets without a NAT route needs as VPC endpoints (MWAA user guide, private routing).
REQUIRED_ENDPOINT_SERVICES = (
    "airflow.api",
    "airflow.env",
    "airflow.ops",
    "sqs",
    "ecr.api",
    "ecr.dkr",
    "kms",
    "logs",
    "monitoring",
    "s3",
)
_DEFAULT_ROUTES = ("0.0.0.0/0", "::/0")


def _call(operation: str, call: Any, **arguments: Any) -> Any:
    try:
        return call(**arguments)
    except ClientError as exc:
        raise translate_client_error(exc, operation=operation) from exc


def _route_table(ec2: EC2Client, subnet_id: str, vpc_id: str) -> dict[str, Any] | None:
    """The subnet's own route table, else its VPC's main one."""
    tables = _call(
        "DescribeRouteTables",
        ec2.describe_route_tables,
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}],
    )["RouteTables"]
    if not tables:
        tables = _call(
            "DescribeRouteTables",
            ec2.describe_route_tables,
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}],
        )["RouteTables"]
    return dict(tables[0]) if tables else None


def _default_routes(table: dict[str, Any] | None) -> list[dict[str, Any]]:
    routes = table.get("Routes", []) if table else []
    return [
        r
        for r in routes
        if (r.get("DestinationCidrBlock") in _DEFAULT_ROUTES or r.get("DestinationIpv6CidrBlock") in _DEFAULT_ROUTES)
        and r.get("State", "active") == "active"
    ]


def _subnets(ec2: EC2Client, facts: EnvironmentFacts) -> tuple[list[dict[str, Any]], list[str]]:
    """The subnets EC2 knows, and the ids it does not."""
    try:
        found = ec2.describe_subnets(SubnetIds=facts.subnet_ids)["Subnets"]
    except ClientError as exc:
        if "NotFound" not in str(exc.response.get("Error", {}).get("Code", "")):
            raise translate_client_error(exc, operation="DescribeSubnets") from exc
        found = []
        for subnet_id in facts.subnet_ids:
            try:
                found.extend(ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"])
            except ClientError as inner:
                if "NotFound" not in str(inner.response.get("Error", {}).get("Code", "")):
                    raise translate_client_error(inner, operation="DescribeSubnets") from inner
    known = {s["SubnetId"] for s in found}
    return [dict(s) for s in found], [s for s in facts.subnet_ids if s not in known]


def network_checks(ec2: EC2Client, facts: EnvironmentFacts) -> list[Check]:
    """Rows subnets-availability-zones, subnets-private, subnets-egress."""
    subnets, unknown = _subnets(ec2, facts)
    if unknown:
        detail = f"EC2 does not know subnet(s) {', '.join(unknown)}"
        fix = "the subnets cannot change: recreate the environment in two existing private subnets"
        return [
            failed("subnets-availability-zones", "Two subnets in two Availability Zones", detail, fix),
            failed("subnets-private", "Subnets are private", detail, fix),
            failed("subnets-egress", "Subnets reach AWS through NAT or VPC endpoints", detail, fix),
        ]
    return [_zones(subnets), *_routing(ec2, subnets)]


def _zones(subnets: list[dict[str, Any]]) -> Check:
    title = "Two subnets in two Availability Zones"
    zones = {s["SubnetId"]: s.get("AvailabilityZone", "?") for s in subnets}
    listed = ", ".join(f"{subnet} in {zone}" for subnet, zone in zones.items())
    if len(zones) == 2 and len(set(zones.values())) == 2:
        return passed("subnets-availability-zones", title, listed)
    return failed(
        "subnets-availability-zones",
        title,
        f"{listed}: MWAA needs exactly two subnets, each in a different Availability Zone",
        "the subnets cannot change: recreate the environment with two private subnets in two Availability Zones",
    )


def _routing(ec2: EC2Client, subnets: list[dict[str, Any]]) -> list[Check]:
    public: list[str] = []
    nat: list[str] = []
    other: list[str] = []
    isolated: list[str] = []
    for subnet in subnets:
        subnet_id = subnet["SubnetId"]
        table = _route_table(ec2, subnet_id, subnet["VpcId"])
        table_id = table.get("RouteTableId", "?") if table else "no route table"
        defaults = _default_routes(table)
        gateways = [str(r.get("GatewayId", "")) for r in defaults]
        if any(g.startswith("igw-") for g in gateways) or subnet.get("MapPublicIpOnLaunch"):
            public.append(f"{subnet_id} ({table_id}: default route to {', '.join(gateways) or 'public IPs'})")
        elif any(r.get("NatGatewayId") for r in defaults):
            nat.append(f"{subnet_id} ({table_id}: default route to {defaults[0].get('NatGatewayId')})")
        elif defaults:
            target = next((str(v) for k, v in defaults[0].items() if k.endswith("Id") and v), "?")
            other.append(f"{subnet_id} ({table_id}: default route to {target})")
        else:
            isolated.append(subnet_id)
    rows: list[Check] = []
    title = "Subnets are private"
    if public:
        rows.append(
            failed(
                "subnets-private",
                title,
                f"public: {'; '.join(public)}; MWAA runs in private subnets only",
                "route the subnet's 0.0.0.0/0 to a NAT gateway instead of the internet gateway (or recreate the "
                "environment in private subnets)",
            )
        )
    else:
        rows.append(passed("subnets-private", title, "no route to an internet gateway"))
    rows.append(_egress(ec2, subnets, nat, other, isolated, public))
    return rows


def _egress(
    ec2: EC2Client,
    subnets: list[dict[str, Any]],
    nat: list[str],
    other: list[str],
    isolated: list[str],
    public: list[str],
) -> Check:
    title = "Subnets reach AWS through NAT or VPC endpoints"
    check_id = "subnets-egress"
    if not isolated and not other:
        if public:
            return passed(check_id, title, "through an internet gateway (which subnets-private fails)")
        return passed(check_id, title, "; ".join(nat))
    vpcs = sorted({s["VpcId"] for s in subnets})
    endpoints = _call("DescribeVpcEndpoints", ec2.describe_vpc_endpoints, Filters=[{"Name": "vpc-id", "Values": vpcs}])[
        "VpcEndpoints"
    ]
    services = {str(e.get("ServiceName", "")) for e in endpoints if e.get("State", "available") != "deleted"}
    missing = [s for s in REQUIRED_ENDPOINT_SERVICES if not any(name.endswith(f".{s}") for name in services)]
    if isolated and missing:
        return failed(
            check_id,
            title,
            f"{', '.join(isolated)}: no default route and VPC endpoints missing for {', '.join(missing)}",
            "add a 0.0.0.0/0 route to a NAT gateway in each subnet's route table, or create the VPC endpoints "
            + ", ".join(f"com.amazonaws.<region>.{s}" for s in missing),
        )
    if other:
        return warned(
            check_id,
            title,
            f"{'; '.join(other)}: not a NAT gateway; the doctor cannot tell whether it reaches AWS",
            "make sure that target reaches the internet or that the VPC endpoints exist",
        )
    return passed(
        check_id,
        title,
        f"{', '.join(isolated)} reach AWS through VPC endpoints" + (f"; {'; '.join(nat)}" if nat else ""),
    )


def security_group_check(ec2: EC2Client, facts: EnvironmentFacts) -> Check:
    title = "Security group references itself"
    check_id = "security-group-self-reference"
    groups = _call("DescribeSecurityGroups", ec2.describe_security_groups, GroupIds=facts.security_group_ids)[
        "SecurityGroups"
    ]
    referencing = [
        g["GroupId"]
        for g in groups
        if any(
            pair.get("GroupId") == g["GroupId"]
            for permission in g.get("IpPermissions", [])
            for pair in permission.get("UserIdGroupPairs", [])
        )
    ]
    if referencing:
        return passed(check_id, title, f"{', '.join(referencing)} allows inbound traffic from itself")
    first = facts.security_group_ids[0] if facts.security_group_ids else "<group>"
    return failed(
        check_id,
        title,
        f"none of {', '.join(facts.security_group_ids)} has an inbound rule from itself: MWAA's schedulers, workers "
        "and web server talk to each other through it",
        f"aws ec2 authorize-security-group-ingress --group-id {first} --ip-permissions "
        f"IpProtocol=-1,UserIdGroupPairs=[{{GroupId={first}}}]",
    )
