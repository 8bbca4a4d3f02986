"""What an account holds, read with plain boto3 (not deployer's handlers), for before/after comparisons."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import boto


def _tags_s3(s3, name):
    try:
        return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}
    except Exception:
        return {}


def account(endpoint: str) -> dict[str, Any]:
    """Every bucket, table, role, function and queue with its key properties."""
    s3, ddb, iam, lam, sqs = (boto(s, endpoint) for s in ("s3", "dynamodb", "iam", "lambda", "sqs"))
    out: dict[str, Any] = {}
    for b in s3.list_buckets()["Buckets"]:
        name = b["Name"]
        out[f"bucket:{name}"] = {"versioning": s3.get_bucket_versioning(Bucket=name).get("Status"),
                                 "tags": _tags_s3(s3, name)}
    for t in ddb.list_tables()["TableNames"]:
        d = ddb.describe_table(TableName=t)["Table"]
        out[f"table:{t}"] = {"keys": d["KeySchema"], "billing": d.get("BillingModeSummary", {}).get("BillingMode"),
                             "gsis": sorted(i["IndexName"] for i in d.get("GlobalSecondaryIndexes", []))}
    for r in iam.list_roles()["Roles"]:
        if r["Path"].startswith("/aws-service-role/"):
            continue
        name = r["RoleName"]
        out[f"role:{name}"] = {"description": r.get("Description"),
                               "inline": sorted(iam.list_role_policies(RoleName=name)["PolicyNames"]),
                               "trust": json.dumps(r["AssumeRolePolicyDocument"], sort_keys=True)}
    for f in lam.list_functions()["Functions"]:
        out[f"function:{f['FunctionName']}"] = {"memory": f["MemorySize"], "timeout": f["Timeout"], "role": f["Role"],
                                                "env": f.get("Environment", {}).get("Variables", {}),
                                                "code": f["CodeSha256"]}
    for url in sqs.list_queues().get("QueueUrls", []):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        out[f"queue:{url.rsplit('/', 1)[1]}"] = {k: attrs.get(k) for k in ("VisibilityTimeout", "DelaySeconds",
                                                                             "MessageRetentionPeriod")}
    out.update(_more(endpoint))
    return out


def _more(endpoint: str) -> dict[str, Any]:
    """The other services the examples use: what exists, with a few key properties."""
    c = lambda s: boto(s, endpoint)  # noqa: E731
    out: dict[str, Any] = {}
    for t in c("sns").list_topics()["Topics"]:
        out[f"topic:{t['TopicArn'].rsplit(':', 1)[1]}"] = {}
    for sub in c("sns").list_subscriptions()["Subscriptions"]:
        out[f"subscription:{sub['TopicArn'].rsplit(':', 1)[1]}->{sub['Endpoint'].rsplit(':', 1)[-1]}"] = {}
    for g in c("logs").describe_log_groups()["logGroups"]:
        out[f"loggroup:{g['logGroupName']}"] = {"retention": g.get("retentionInDays")}
    for sec in c("secretsmanager").list_secrets()["SecretList"]:
        # an RDS-managed master secret is named after the instance's resource id: recreating the
        # instance (a rolled-back delete) makes a new one of the same role
        name = "rds-managed" if sec["Name"].startswith("rds!") else sec["Name"]
        out[f"secret:{name}"] = {}
    kms = c("kms")
    for k in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
        if meta["KeyState"] != "PendingDeletion" and meta.get("KeyManager") != "AWS":
            out[f"key:{meta.get('Description', '')}"] = {"enabled": meta["Enabled"]}
    for a in kms.list_aliases()["Aliases"]:
        if not a["AliasName"].startswith("alias/aws/"):
            out[f"alias:{a['AliasName']}"] = {}
    for m in c("lambda").list_event_source_mappings()["EventSourceMappings"]:
        out[f"mapping:{m['FunctionArn'].rsplit(':', 1)[1]}<-{m['EventSourceArn'].rsplit(':', 1)[1]}"] = {}
    ec2 = c("ec2")
    for v in ec2.describe_vpcs()["Vpcs"]:
        if not v.get("IsDefault"):
            out[f"vpc:{v['CidrBlock']}"] = {}
    for sn in ec2.describe_subnets()["Subnets"]:
        if not sn.get("DefaultForAz"):
            out[f"subnet:{sn['CidrBlock']}"] = {"public_ip": sn.get("MapPublicIpOnLaunch")}
    out.update({f"igw:{i}": {} for i, _ in enumerate(ec2.describe_internet_gateways()["InternetGateways"])})
    for sg in ec2.describe_security_groups()["SecurityGroups"]:
        if sg["GroupName"] != "default":
            out[f"sg:{sg['GroupName']}"] = {"rules": len(sg.get("IpPermissions", []))}
    for r in ec2.describe_instances()["Reservations"]:
        for i in r["Instances"]:
            if i["State"]["Name"] != "terminated":
                tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                out[f"instance:{tags.get('deployer:logical-id', i['InstanceId'])}"] = {"type": i["InstanceType"]}
    rds = c("rds")
    for db in rds.describe_db_instances()["DBInstances"]:
        out[f"db:{db['DBInstanceIdentifier']}"] = {"class": db["DBInstanceClass"]}
    for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]:
        out[f"dbsubnets:{g['DBSubnetGroupName']}"] = {}
    for api in c("apigateway").get_rest_apis()["items"]:
        out[f"api:{api['name']}"] = {}
    return out


def state_matches_account(state: dict[str, Any], snap: dict[str, Any]) -> list[str]:
    """Problems where the state and the account disagree (a recorded resource missing, or an owned one unrecorded)."""
    kinds = {"AWS::S3::Bucket": "bucket", "AWS::DynamoDB::Table": "table", "AWS::IAM::Role": "role",
             "AWS::Lambda::Function": "function", "AWS::SQS::Queue": "queue"}
    recorded = set()
    problems = []
    for name, r in state.get("resources", {}).items():
        kind = kinds.get(r["type"])
        if kind is None:
            continue
        pid = r["physical_id"].rsplit("/", 1)[-1] if kind == "queue" else r["physical_id"]
        key = f"{kind}:{pid}"
        recorded.add(key)
        if r.get("pending"):
            problems.append(f"{name} is still pending {r['pending']}")
        if key not in snap:
            problems.append(f"{name} ({key}) is in the state but not in the account")
    for key in snap:
        if key not in recorded:
            problems.append(f"{key} exists in the account but not in the state (orphan)")
    return problems
