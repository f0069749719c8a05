"""The environment's network: two private subnets in two Availability Zones with a way out, and its security group."""

from __future__ import annotations

from dataclasses import dataclass
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
# Endpoint states that give no way to the service.
_GONE = frozenset({"deleting", "deleted", "rejected", "failed", "expired"})


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


def _target(route: dict[str, Any]) -> str:
    """What a route sends its traffic to (igw-, nat-, tgw-, eni-, pcx-, ...)."""
    return next(
        (
            str(v)
            for k, v in route.items()
            if (k.endswith("Id") or k == "CoreNetworkArn") and not k.startswith("Destination") and v
        ),
        "?",
    )


@dataclass(frozen=True)
class _Way:
    """One subnet's way out, as its route table and its attributes say."""

    subnet_id: str
    vpc_id: str
    table_id: str
    """Empty when EC2 gives the subnet no route table at all."""
    table: str
    """The table as the rows name it: its id, and whether it is the VPC's main one used implicitly."""
    internet_gateway: dict[str, Any] | None
    """The default route to an internet gateway, if any."""
    nat: str
    other: str
    public_ips: bool

    @property
    def label(self) -> str:
        return f"{self.subnet_id} ({self.table})"


def _way(ec2: EC2Client, subnet: dict[str, Any]) -> _Way:
    table = _route_table(ec2, subnet["SubnetId"], subnet["VpcId"])
    table_id = str(table.get("RouteTableId", "")) if table else ""
    own = table is not None and any(
        a.get("SubnetId") == subnet["SubnetId"] for a in table.get("Associations", []) if isinstance(a, dict)
    )
    defaults = _default_routes(table)
    igw = next((r for r in defaults if str(r.get("GatewayId", "")).startswith("igw-")), None)
    nat = next((str(r["NatGatewayId"]) for r in defaults if r.get("NatGatewayId")), "")
    other = next(
        (_target(r) for r in defaults if r is not igw and not r.get("NatGatewayId") and r.get("DestinationCidrBlock")),
        "",
    )
    described = "no route table" if not table else table_id if own else f"{table_id}, the VPC's main route table"
    return _Way(
        subnet_id=subnet["SubnetId"],
        vpc_id=subnet["VpcId"],
        table_id=table_id,
        table=described,
        internet_gateway=igw,
        nat=nat,
        other=other,
        public_ips=bool(subnet.get("MapPublicIpOnLaunch")),
    )


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
    ways = [_way(ec2, subnet) for subnet in subnets]
    return [_zones(subnets), _private(ways), _egress(ec2, ways, facts.region or "<region>")]


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


def _private(ways: list[_Way]) -> Check:
    """A subnet is public when it routes the internet to an internet gateway, or gives new interfaces public IPs."""
    title = "Subnets are private"
    found: list[str] = []
    fixes: list[str] = []
    for way in ways:
        route = way.internet_gateway
        if route is not None:
            ipv6 = route.get("DestinationIpv6CidrBlock") in _DEFAULT_ROUTES and not route.get("DestinationCidrBlock")
            destination = str(route.get("DestinationIpv6CidrBlock") if ipv6 else route.get("DestinationCidrBlock"))
            found.append(f"{way.label}: default route {destination} to {route['GatewayId']}")
            flag = "--destination-ipv6-cidr-block" if ipv6 else "--destination-cidr-block"
            fixes.append(
                f"route the subnet's {destination} to a NAT gateway instead of the internet gateway "
                f"(aws ec2 replace-route --route-table-id {way.table_id} {flag} {destination} --nat-gateway-id "
                "<nat-gateway>; give the subnet a route table of its own first if public subnets share this one), "
                "or recreate the environment in private subnets"
            )
        if way.public_ips:
            routed = "" if route is not None else f", though {way.table} has no route to an internet gateway"
            found.append(
                f"{way.subnet_id}: assigns a public IP to each new network interface (MapPublicIpOnLaunch){routed}"
            )
            fixes.append(f"aws ec2 modify-subnet-attribute --subnet-id {way.subnet_id} --no-map-public-ip-on-launch")
    if not found:
        return passed("subnets-private", title, "no route to an internet gateway and no public IPs on launch")
    return failed(
        "subnets-private", title, f"public: {'; '.join(found)}; MWAA runs in private subnets only", "; ".join(fixes)
    )


def _endpoints(ec2: EC2Client, vpcs: list[str]) -> list[dict[str, Any]]:
    found = _call("DescribeVpcEndpoints", ec2.describe_vpc_endpoints, Filters=[{"Name": "vpc-id", "Values": vpcs}])[
        "VpcEndpoints"
    ]
    return [dict(e) for e in found if str(e.get("State", "available")).lower() not in _GONE]


def _service(endpoint: dict[str, Any]) -> str:
    return next((s for s in REQUIRED_ENDPOINT_SERVICES if str(endpoint.get("ServiceName", "")).endswith(f".{s}")), "")


def _reachable(way: _Way, endpoints: list[dict[str, Any]]) -> set[str]:
    """The required services the subnet reaches through endpoints: interface endpoints of its VPC, and gateway
    endpoints (S3) only when they are associated with the subnet's route table."""
    reached: set[str] = set()
    for endpoint in endpoints:
        service = _service(endpoint)
        if not service or endpoint.get("VpcId", way.vpc_id) != way.vpc_id:
            continue
        if str(endpoint.get("VpcEndpointType", "Interface")) == "Gateway":
            if way.table_id and way.table_id in endpoint.get("RouteTableIds", []):
                reached.add(service)
        else:
            reached.add(service)
    return reached


def _egress(ec2: EC2Client, ways: list[_Way], region: str) -> Check:
    title = "Subnets reach AWS through NAT or VPC endpoints"
    check_id = "subnets-egress"
    routed: list[str] = []
    other: list[str] = []
    isolated = [w for w in ways if w.internet_gateway is None and not w.nat and not w.other]
    for way in ways:
        if way.internet_gateway is not None:
            routed.append(f"{way.label}: through {way.internet_gateway['GatewayId']} (which subnets-private fails)")
        elif way.nat:
            routed.append(f"{way.label}: default route to {way.nat}")
        elif way.other:
            other.append(f"{way.label}: default route to {way.other}")
    if not isolated:
        if other:
            return warned(
                check_id,
                title,
                f"{'; '.join(other)}: not a NAT gateway; the doctor cannot tell whether it reaches AWS",
                "make sure that target reaches the internet or that the VPC endpoints exist",
            )
        return passed(check_id, title, "; ".join(routed))
    endpoints = _endpoints(ec2, sorted({w.vpc_id for w in isolated}))
    groups: dict[tuple[str, ...], list[_Way]] = {}
    for way in isolated:
        reached = _reachable(way, endpoints)
        groups.setdefault(tuple(s for s in REQUIRED_ENDPOINT_SERVICES if s not in reached), []).append(way)
    failing = {missing: members for missing, members in groups.items() if missing}
    if not failing:
        through = f"{', '.join(w.label for w in isolated)}: no default route, every required VPC endpoint reachable"
        if other:
            return warned(
                check_id,
                title,
                f"{'; '.join(other)}: not a NAT gateway; the doctor cannot tell whether it reaches AWS; {through}",
                "make sure that target reaches the internet or that the VPC endpoints exist",
            )
        return passed(check_id, title, "; ".join([through, *routed]))
    problems: list[str] = []
    create: list[str] = []
    associate: list[str] = []
    for missing, members in failing.items():
        labels = ", ".join(w.label for w in members)
        problem = f"{labels}: no default route and VPC endpoints missing for {', '.join(missing)}"
        gateways = [
            e
            for e in endpoints
            if _service(e) == "s3" and e.get("VpcEndpointType") == "Gateway" and e.get("VpcId") == members[0].vpc_id
        ]
        if "s3" in missing and gateways:
            # The S3 gateway endpoint exists but routes only the tables it is associated with.
            for gateway in gateways:
                tables = ", ".join(gateway.get("RouteTableIds", [])) or "no route table"
                problem += f" (S3 gateway endpoint {gateway['VpcEndpointId']} is associated with {tables} only)"
            associate.extend(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {gateways[0]['VpcEndpointId']} "
                f"--add-route-table-ids {table}"
                for table in sorted({w.table_id for w in members if w.table_id})
            )
            missing = tuple(s for s in missing if s != "s3")
        create.extend(s for s in missing if s not in create)
        problems.append(problem)
    remedies = []
    if create:
        remedies.append("create the VPC endpoints " + ", ".join(f"com.amazonaws.{region}.{s}" for s in create))
    if associate:
        remedies.append(
            "associate the S3 gateway endpoint with the subnets' route table (" + "; ".join(associate) + ")"
        )
    return failed(
        check_id,
        title,
        "; ".join(problems + other),
        "add a 0.0.0.0/0 route to a NAT gateway in each subnet's route table, or " + ", and ".join(remedies),
    )


# MWAA user guide: the group needs a self-referencing inbound rule for all traffic, or for HTTPS 443 (web server)
# and TCP 5432 (metadata database); outbound, the same ports at least (all traffic is what the guide sets up).
SELF_PORTS = (443, 5432)


def _groups(ec2: EC2Client, group_ids: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The security groups EC2 knows, and the ids it does not (deleted, or never existed)."""

    def unknown(exc: ClientError) -> bool:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return "NotFound" in code or code == "InvalidGroupId.Malformed"

    try:
        found = ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
    except ClientError as exc:
        if not unknown(exc):
            raise translate_client_error(exc, operation="DescribeSecurityGroups") from exc
        found = []
        for group_id in group_ids:
            try:
                found.extend(ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"])
            except ClientError as inner:
                if not unknown(inner):
                    raise translate_client_error(inner, operation="DescribeSecurityGroups") from inner
    known = {g["GroupId"] for g in found}
    return [dict(g) for g in found], [g for g in group_ids if g not in known]


def _covers(permission: dict[str, Any], port: int) -> bool:
    protocol = str(permission.get("IpProtocol", ""))
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    return int(permission.get("FromPort", 0)) <= port <= int(permission.get("ToPort", 65535))


def _rule(permission: dict[str, Any]) -> str:
    protocol = str(permission.get("IpProtocol", ""))
    if protocol == "-1":
        return "all traffic"
    low, high = permission.get("FromPort"), permission.get("ToPort")
    ports = "" if low is None or low == -1 else f" {low}" if low == high else f" {low}-{high}"
    return f"{protocol}{ports}"


def _missing(permissions: list[dict[str, Any]]) -> list[int]:
    return [port for port in SELF_PORTS if not any(_covers(p, port) for p in permissions)]


def _ports(ports: list[int]) -> str:
    return "TCP " + " and ".join(str(p) for p in ports)


def security_group_check(ec2: EC2Client, facts: EnvironmentFacts) -> Check:
    """Row security-group-self-reference: the groups exist in the subnets' VPC, allow MWAA's ports from
    themselves, and let traffic out."""
    title = "Security group references itself"
    check_id = "security-group-self-reference"
    groups, unknown = _groups(ec2, facts.security_group_ids)
    first = facts.security_group_ids[0] if facts.security_group_ids else "<group>"
    change = f"aws mwaa update-environment --name {facts.name} --network-configuration SecurityGroupIds=<group>"
    if unknown:
        return failed(
            check_id,
            title,
            f"EC2 does not know security group(s) {', '.join(unknown)} (deleted?): MWAA's schedulers, workers and "
            "web server cannot start without their group",
            f"create a group in the subnets' VPC that references itself and allows all traffic out, then {change} "
            "(an environment's security groups can change)",
        )
    subnets = _subnets(ec2, facts)[0] if facts.subnet_ids else []
    vpcs = sorted({str(s["VpcId"]) for s in subnets})
    elsewhere = [f"{g['GroupId']} is in {g.get('VpcId', '?')}" for g in groups if vpcs and g.get("VpcId") not in vpcs]
    if elsewhere:
        return failed(
            check_id,
            title,
            f"{'; '.join(elsewhere)}, the subnets in {', '.join(vpcs)}: a security group applies only in its own VPC",
            f"use security groups of {', '.join(vpcs)}: {change}",
        )
    ids = {g["GroupId"] for g in groups}
    inbound = [
        p
        for g in groups
        for p in g.get("IpPermissions", [])
        if any(pair.get("GroupId") in ids for pair in p.get("UserIdGroupPairs", []))
    ]
    outbound = [
        p
        for g in groups
        for p in g.get("IpPermissionsEgress", [])
        if p.get("IpRanges") or p.get("Ipv6Ranges") or p.get("PrefixListIds") or p.get("UserIdGroupPairs")
    ]
    problems: list[str] = []
    fixes: list[str] = []
    listed = ", ".join(facts.security_group_ids)
    missing_in = _missing(inbound)
    if not inbound:
        problems.append(
            f"none of {listed} has an inbound rule from itself: MWAA's schedulers, workers and web server talk to "
            "each other through it"
        )
    elif missing_in:
        problems.append(
            f"the inbound rules of {listed} from itself allow only {', '.join(sorted({_rule(p) for p in inbound}))}: "
            f"{_ports(missing_in)} missing (MWAA needs all traffic, or TCP 443 and 5432, from the group itself)"
        )
    if missing_in:
        fixes.append(
            f"aws ec2 authorize-security-group-ingress --group-id {first} --ip-permissions "
            f"'IpProtocol=-1,UserIdGroupPairs=[{{GroupId={first}}}]'"  # quoted: [...] is a shell glob
        )
    missing_out = _missing(outbound)
    if missing_out:
        allowed = ", ".join(sorted({_rule(p) for p in outbound}))
        problems.append(
            f"no outbound rule in {listed}: MWAA's containers reach AWS and each other on TCP 443 and 5432"
            if not outbound
            else f"the outbound rules of {listed} allow only {allowed}: {_ports(missing_out)} missing"
        )
        fixes.append(
            f"aws ec2 authorize-security-group-egress --group-id {first} --ip-permissions "
            "'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]'"
        )
    if problems:
        return failed(check_id, title, "; ".join(problems), "; ".join(fixes))
    return passed(
        check_id,
        title,
        f"{listed} allow {', '.join(sorted({_rule(p) for p in inbound}))} from themselves and "
        f"{', '.join(sorted({_rule(p) for p in outbound}))} out",
    )
