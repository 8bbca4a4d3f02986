"""Every resource of the types deployer manages that an account holds, by type, under the physical
id deployer records for it — read with plain boto3, so a test can say "the account holds exactly
what the state names": nothing orphaned, nothing duplicated.

Queue URLs are reduced to queue names (a URL names the host that answered, which differs between a
proxy and the server behind it); `normalized` applies the same rule to a state's physical ids.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from tests.conftest import boto


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def normalized(type_name: str, physical_id: str) -> list[str]:
    """A state's physical id in the form the inventory uses (a queue policy: one per queue it covers)."""
    if type_name == "AWS::SQS::Queue":
        return [_queue_name(physical_id)]
    if type_name == "AWS::SQS::QueuePolicy":
        return sorted(_queue_name(u) for u in physical_id.split("|"))
    if type_name == "AWS::ApiGateway::Deployment":
        return ["|".join(physical_id.split("|")[:2])]
    return [physical_id]


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    if client.can_paginate(operation):
        return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]
    return list(getattr(client, operation)(**kwargs).get(key, []))


def inventory(endpoint: str, region: str = "us-east-1") -> dict[str, set[str]]:
    """{CloudFormation type: physical ids} of what the account holds in `region`."""
    c = lambda s: boto(s, endpoint, region)  # noqa: E731
    found: dict[str, set[str]] = defaultdict(set)
    s3 = c("s3")
    for b in s3.list_buckets()["Buckets"]:
        found["AWS::S3::Bucket"].add(b["Name"])
        try:
            s3.get_bucket_policy(Bucket=b["Name"])
            found["AWS::S3::BucketPolicy"].add(b["Name"])
        except s3.exceptions.ClientError:
            pass
    found["AWS::DynamoDB::Table"] |= set(_pages(c("dynamodb"), "list_tables", "TableNames"))
    _iam(c("iam"), found)
    _lambda(c("lambda"), found)
    sqs = c("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        found["AWS::SQS::Queue"].add(_queue_name(url))
        if sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy"):
            found["AWS::SQS::QueuePolicy"].add(_queue_name(url))
    sns = c("sns")
    found["AWS::SNS::Topic"] |= {t["TopicArn"] for t in _pages(sns, "list_topics", "Topics")}
    found["AWS::SNS::Subscription"] |= {s["SubscriptionArn"] for s in _pages(sns, "list_subscriptions", "Subscriptions")
                                        if s["SubscriptionArn"].startswith("arn:")}
    found["AWS::Logs::LogGroup"] |= {g["logGroupName"] for g in _pages(c("logs"), "describe_log_groups", "logGroups")}
    secrets = c("secretsmanager")
    found["AWS::SecretsManager::Secret"] |= {s["ARN"] for s in _pages(secrets, "list_secrets", "SecretList")
                                             if not s.get("DeletedDate") and not s["Name"].startswith("rds!")}
    kms = c("kms")
    for k in _pages(kms, "list_keys", "Keys"):
        meta = kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
        if meta["KeyState"] not in ("PendingDeletion", "PendingReplicaDeletion") and meta.get("KeyManager") != "AWS":
            found["AWS::KMS::Key"].add(meta["KeyId"])
    found["AWS::KMS::Alias"] |= {a["AliasName"] for a in _pages(kms, "list_aliases", "Aliases")
                                 if not a["AliasName"].startswith("alias/aws/")}
    _ec2(c("ec2"), found)
    rds = c("rds")
    found["AWS::RDS::DBInstance"] |= {d["DBInstanceIdentifier"] for d in _pages(rds, "describe_db_instances",
                                                                                  "DBInstances")}
    found["AWS::RDS::DBSubnetGroup"] |= {g["DBSubnetGroupName"] for g in _pages(rds, "describe_db_subnet_groups",
                                                                                 "DBSubnetGroups")}
    _apigateway(c("apigateway"), found)
    return dict(found)


def _iam(iam: Any, found: dict[str, set[str]]) -> None:
    for kind, op, key, name_key in (("role", "list_roles", "Roles", "RoleName"),
                                    ("user", "list_users", "Users", "UserName"),
                                    ("group", "list_groups", "Groups", "GroupName")):
        for item in _pages(iam, op, key):
            if item.get("Path", "/").startswith("/aws-service-role/"):
                continue
            found[f"AWS::IAM::{kind.capitalize()}"].add(item[name_key])
            for policy in _pages(iam, f"list_{kind}_policies", "PolicyNames", **{name_key: item[name_key]}):
                found["AWS::IAM::Policy"].add(policy)
    found["AWS::IAM::ManagedPolicy"] |= {p["Arn"] for p in _pages(iam, "list_policies", "Policies", Scope="Local")}
    found["AWS::IAM::InstanceProfile"] |= {p["InstanceProfileName"]
                                           for p in _pages(iam, "list_instance_profiles", "InstanceProfiles")}


def _lambda(lam: Any, found: dict[str, set[str]]) -> None:
    for f in _pages(lam, "list_functions", "Functions"):
        name = f["FunctionName"]
        found["AWS::Lambda::Function"].add(name)
        try:
            policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
        except lam.exceptions.ResourceNotFoundException:
            policy = {}
        found["AWS::Lambda::Permission"] |= {f"{name}|{s['Sid']}" for s in policy.get("Statement", [])}
    found["AWS::Lambda::EventSourceMapping"] |= {m["UUID"] for m in _pages(lam, "list_event_source_mappings",
                                                                           "EventSourceMappings")
                                                 if m.get("State") != "Deleting"}


def _ec2(ec2: Any, found: dict[str, set[str]]) -> None:
    vpcs = [v for v in _pages(ec2, "describe_vpcs", "Vpcs") if not v.get("IsDefault")]
    found["AWS::EC2::VPC"] |= {v["VpcId"] for v in vpcs}
    found["AWS::EC2::Subnet"] |= {s["SubnetId"] for s in _pages(ec2, "describe_subnets", "Subnets")
                                  if not s.get("DefaultForAz")}
    for igw in _pages(ec2, "describe_internet_gateways", "InternetGateways"):
        found["AWS::EC2::InternetGateway"].add(igw["InternetGatewayId"])
        for a in igw.get("Attachments", []):
            found["AWS::EC2::VPCGatewayAttachment"].add(f"{igw['InternetGatewayId']}|{a['VpcId']}")
    for table in _pages(ec2, "describe_route_tables", "RouteTables"):
        main = any(a.get("Main") for a in table.get("Associations", []))
        if not main:
            found["AWS::EC2::RouteTable"].add(table["RouteTableId"])
        for route in table.get("Routes", []):
            if route.get("GatewayId") != "local" and route.get("DestinationCidrBlock"):
                found["AWS::EC2::Route"].add(f"{table['RouteTableId']}|{route['DestinationCidrBlock']}")
        for a in table.get("Associations", []):
            if not a.get("Main") and a.get("SubnetId"):
                found["AWS::EC2::SubnetRouteTableAssociation"].add(a["SubnetId"])
    found["AWS::EC2::SecurityGroup"] |= {g["GroupId"] for g in _pages(ec2, "describe_security_groups",
                                                                       "SecurityGroups") if g["GroupName"] != "default"}
    for r in _pages(ec2, "describe_instances", "Reservations"):
        found["AWS::EC2::Instance"] |= {i["InstanceId"] for i in r["Instances"]
                                        if i["State"]["Name"] not in ("terminated", "shutting-down")}


def _apigateway(api: Any, found: dict[str, set[str]]) -> None:
    for rest in _pages(api, "get_rest_apis", "items"):
        rid = rest["id"]
        found["AWS::ApiGateway::RestApi"].add(rid)
        for res in _pages(api, "get_resources", "items", restApiId=rid, embed=["methods"]):
            if res.get("parentId"):
                found["AWS::ApiGateway::Resource"].add(f"{rid}|{res['id']}")
            for verb in res.get("resourceMethods") or {}:
                found["AWS::ApiGateway::Method"].add(f"{rid}|{res['id']}|{verb}")
        found["AWS::ApiGateway::Deployment"] |= {f"{rid}|{d['id']}" for d in _pages(api, "get_deployments", "items",
                                                                                     restApiId=rid)}
        found["AWS::ApiGateway::Stage"] |= {f"{rid}|{s['stageName']}"
                                            for s in api.get_stages(restApiId=rid).get("item", [])}


def differences(state: dict[str, Any], before: dict[str, set[str]], after: dict[str, set[str]]) -> list[str]:
    """What disagrees between a state and the account: a recorded resource missing, one still pending,
    or one the account gained since `before` that the state does not name (an orphan or a duplicate)."""
    problems: list[str] = []
    recorded: dict[str, set[str]] = defaultdict(set)
    for key, r in state.get("resources", {}).items():
        if r.get("pending"):
            problems.append(f"{key} is still pending {r['pending']}")
        if not r.get("physical_id"):
            continue
        for policy in r.get("properties", {}).get("Policies") or []:  # a principal's own inline policies
            if isinstance(policy, dict):
                recorded["AWS::IAM::Policy"].add(policy.get("PolicyName"))
        for pid in normalized(r["type"], r["physical_id"]):
            recorded[r["type"]].add(pid)
            if pid not in after.get(r["type"], set()):
                problems.append(f"{key} ({r['type']} {pid}) is in the state but not in the account")
    for type_name, ids in after.items():
        extra = ids - before.get(type_name, set()) - recorded.get(type_name, set())
        problems += [f"{type_name} {pid} exists in the account but in no state" for pid in sorted(extra)]
    return problems
