"""Cases for the engine's first five types: bucket, table, role, function, queue."""

from __future__ import annotations

import json

from tests.integration.cases import Case

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
ROLE = {"type": "AWS::IAM::Role", "properties": {"AssumeRolePolicyDocument": TRUST}}


def _missing(call, *codes: str) -> bool:
    try:
        call()
        return False
    except Exception as exc:  # botocore ClientError
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return any(c in code for c in codes) or "NotFound" in code or "NoSuch" in code


def bucket_exists(c, pid):
    return not _missing(lambda: c("s3").head_bucket(Bucket=pid), "404")


LOGS_BUCKET = {"type": "AWS::S3::Bucket", "properties": {  # ACLs allowed, so the log-delivery group may write
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}, "AccessControl": "LogDeliveryWrite"},
    "lifecycle": {"force_destroy": True}}  # moto delivers access logs: the bucket is not empty at the end
REPLICA_BUCKET = {"type": "AWS::S3::Bucket", "properties": {"VersioningConfiguration": {"Status": "Enabled"}}}
REPLICATION_ROLE = {"type": "AWS::IAM::Role", "properties": {"AssumeRolePolicyDocument": {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                            "Action": "sts:AssumeRole"}]}}}


def replication(status: str) -> dict:
    """One rule for every object, in the form moto stores as sent (it rewrites other filters, see the
    handler's unit tests)."""
    return {"Role": "${ReplicationRole.Arn}", "Rules": [
        {"Id": "everything", "Priority": 1, "Status": status, "Filter": {"Prefix": ""},
         "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "${Replica.Arn}"}}]}


def retention(days: int) -> dict:
    return {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": days}}}


def table_exists(c, pid):
    return not _missing(lambda: c("dynamodb").describe_table(TableName=pid), "ResourceNotFound")


def role_exists(c, pid):
    return not _missing(lambda: c("iam").get_role(RoleName=pid), "NoSuchEntity")


def function_exists(c, pid):
    return not _missing(lambda: c("lambda").get_function(FunctionName=pid), "ResourceNotFound")


def queue_exists(c, pid):
    return not _missing(lambda: c("sqs").get_queue_attributes(QueueUrl=pid), "NonExistentQueue", "QueueDoesNotExist")


CASES = [
    Case(
        id="s3-bucket",
        type="AWS::S3::Bucket",
        props={"BucketName": "itest-bucket-one", "VersioningConfiguration": {"Status": "Enabled"},
               "Tags": [{"Key": "team", "Value": "a"}]},
        updates=[
            {"VersioningConfiguration": {"Status": "Suspended"}},
            {"BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/aws/s3"}}]}},
            {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                "IgnorePublicAcls": True, "RestrictPublicBuckets": True}},
            {"LifecycleConfiguration": {"Rules": [{"Id": "expire", "Status": "Enabled", "Prefix": "tmp/",
                                                   "ExpirationInDays": 7}]}},
            {"CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAge": 300}]}},
            {"WebsiteConfiguration": {"IndexDocument": "index.html", "ErrorDocument": "error.html"}},
            {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
            {"Tags": [{"Key": "team", "Value": "b"}, {"Key": "cost", "Value": "1"}]},
        ],
        replace={"BucketName": "itest-bucket-two"},
        remove=["LifecycleConfiguration", "CorsConfiguration", "WebsiteConfiguration", "PublicAccessBlockConfiguration",
                "Tags"],
        drift=lambda c, pid: c("s3").put_bucket_versioning(Bucket=pid, VersioningConfiguration={"Status": "Enabled"}),
        exists=bucket_exists,
    ),
    Case(
        id="s3-bucket-acl-logging-replication",
        type="AWS::S3::Bucket",
        support={"Logs": LOGS_BUCKET, "Replica": REPLICA_BUCKET, "ReplicationRole": REPLICATION_ROLE},
        # AccessControl is write-only (S3 answers grants): compared with the last apply, so not drifted here
        props={"BucketName": "itest-bucket-logged", "VersioningConfiguration": {"Status": "Enabled"},
               "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
               "AccessControl": "LogDeliveryWrite",
               "LoggingConfiguration": {"DestinationBucketName": "${Logs}", "LogFilePrefix": "logged/"}},
        updates=[
            {"AccessControl": "BucketOwnerFullControl"},
            # TargetObjectKeyFormat: moto drops it (see the handler's unit tests)
            {"LoggingConfiguration": {"DestinationBucketName": "${Logs}", "LogFilePrefix": "changed/"}},
            {"ReplicationConfiguration": replication("Enabled")},
            {"ReplicationConfiguration": replication("Disabled")},
        ],
        replace={"BucketName": "itest-bucket-logged-two"},
        remove=["ReplicationConfiguration", "LoggingConfiguration", "AccessControl"],
        drift=lambda c, pid: c("s3").put_bucket_logging(Bucket=pid, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": c("s3").get_bucket_logging(Bucket=pid)["LoggingEnabled"]["TargetBucket"],
            "TargetPrefix": "by-hand/"}}),
        exists=bucket_exists,
    ),
    Case(
        id="s3-bucket-object-lock",
        type="AWS::S3::Bucket",
        # Object Lock turned on in place (S3 allows it on a versioned bucket), then with the replacement
        # at CreateBucket; it can never be turned off, so ObjectLockEnabled is not among the removals
        props={"BucketName": "itest-bucket-locked", "VersioningConfiguration": {"Status": "Enabled"}},
        updates=[
            {"ObjectLockEnabled": True, "ObjectLockConfiguration": retention(1)},
            {"ObjectLockConfiguration": retention(2)},
        ],
        replace={"BucketName": "itest-bucket-locked-two"},
        remove=["ObjectLockConfiguration"],
        drift=lambda c, pid: c("s3").put_object_lock_configuration(Bucket=pid, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 5}}}),
        exists=bucket_exists,
    ),
    Case(
        id="dynamodb-table",
        type="AWS::DynamoDB::Table",
        props={"TableName": "itest-table", "BillingMode": "PROVISIONED",
               "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
               "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]},
        updates=[
            {"ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2}},
            {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "gk", "AttributeType": "S"}],
             "GlobalSecondaryIndexes": [{"IndexName": "by-gk", "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                                         "Projection": {"ProjectionType": "ALL"},
                                         "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}]},
            {"StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}},
            {"TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True}},
            {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
            {"Tags": [{"Key": "team", "Value": "data"}]},
        ],
        replace={"TableName": "itest-table-two"},
        remove=["StreamSpecification", "PointInTimeRecoverySpecification", "TimeToLiveSpecification", "Tags"],
        drift=lambda c, pid: c("dynamodb").update_table(
            TableName=pid, ProvisionedThroughput={"ReadCapacityUnits": 9, "WriteCapacityUnits": 9}),
        exists=table_exists,
    ),
    Case(
        id="iam-role",
        type="AWS::IAM::Role",
        props={"RoleName": "itest-role", "AssumeRolePolicyDocument": TRUST, "Description": "first"},
        updates=[
            {"Description": "second", "MaxSessionDuration": 7200},
            {"Policies": [{"PolicyName": "logs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}}]},
            {"ManagedPolicyArns": ["${Managed}"]},
            {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
                 "Action": "sts:AssumeRole"}]}},
            {"Tags": [{"Key": "team", "Value": "sec"}]},
        ],
        replace={"Path": "/svc/"},
        remove=["Policies", "ManagedPolicyArns", "Description", "MaxSessionDuration", "Tags"],
        support={"Managed": {"type": "AWS::IAM::ManagedPolicy", "properties": {
            "ManagedPolicyName": "itest-read", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}}},
        drift=lambda c, pid: c("iam").update_role(RoleName=pid, Description="changed by hand"),
        exists=role_exists,
    ),
    Case(
        id="lambda-function",
        type="AWS::Lambda::Function",
        support={"FnRole": ROLE},
        props={"FunctionName": "itest-fn", "Runtime": "python3.12", "Handler": "index.handler", "Role": "${FnRole.Arn}",
               "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}},
        updates=[
            {"Code": {"ZipFile": "def handler(e, c):\n    return 2\n"}},
            {"MemorySize": 512, "Timeout": 30, "Description": "api"},
            {"Environment": {"Variables": {"ALPHA": "1", "BETA": "two"}}},
            # TracingConfig and DeadLetterConfig: moto ignores both on update (see the handler's unit tests)
            {"Tags": [{"Key": "team", "Value": "api"}]},
        ],
        replace={"FunctionName": "itest-fn-two"},
        remove=["Environment", "MemorySize", "Timeout", "Tags"],
        drift=lambda c, pid: c("lambda").update_function_configuration(FunctionName=pid, MemorySize=1024),
        exists=function_exists,
    ),
    Case(
        id="sqs-queue",
        type="AWS::SQS::Queue",
        support={"Dlq": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "itest-q-dlq"}}},
        props={"QueueName": "itest-queue", "VisibilityTimeout": 60},
        updates=[
            {"VisibilityTimeout": 120, "DelaySeconds": 5, "MessageRetentionPeriod": 86400},
            {"RedrivePolicy": {"deadLetterTargetArn": "${Dlq.Arn}", "maxReceiveCount": 5}},
            {"ReceiveMessageWaitTimeSeconds": 10, "MaximumMessageSize": 1024},
            {"Tags": [{"Key": "team", "Value": "q"}]},
        ],
        replace={"QueueName": "itest-queue-two"},
        remove=["RedrivePolicy", "DelaySeconds", "Tags"],
        drift=lambda c, pid: c("sqs").set_queue_attributes(QueueUrl=pid, Attributes={"VisibilityTimeout": "7"}),
        exists=queue_exists,
    ),
]

__all__ = ["CASES", "json"]
