"""Cases for Secrets Manager secrets (a given and a generated value), KMS keys and KMS aliases.

A deleted secret or key is only scheduled for deletion, so `exists` treats a pending deletion as gone.
"""

from __future__ import annotations

from tests.integration.cases import Case

KEY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${AWS::AccountId}:root"},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "describe", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${AWS::AccountId}:root"},
     "Action": ["kms:DescribeKey", "kms:GetPublicKey"], "Resource": "*"}]}


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def secret_exists(c, pid) -> bool:
    try:
        return not c("secretsmanager").describe_secret(SecretId=pid).get("DeletedDate")
    except Exception as exc:  # botocore ClientError
        if _error_code(exc) == "ResourceNotFoundException":
            return False
        raise


def key_exists(c, pid) -> bool:
    try:
        return c("kms").describe_key(KeyId=pid)["KeyMetadata"]["KeyState"] != "PendingDeletion"
    except Exception as exc:  # botocore ClientError
        if _error_code(exc) == "NotFoundException":
            return False
        raise


def alias_exists(c, pid) -> bool:
    try:
        c("kms").describe_key(KeyId=pid)
        return True
    except Exception as exc:  # botocore ClientError
        if _error_code(exc) == "NotFoundException":
            return False
        raise


def point_alias_elsewhere(c, alias: str) -> None:
    """Out of band: aim the alias at the first other live key."""
    kms = c("kms")
    current = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
    others = [k["KeyId"] for k in kms.list_keys()["Keys"] if k["KeyId"] != current and key_exists(c, k["KeyId"])]
    kms.update_alias(AliasName=alias, TargetKeyId=others[0])


CASES = [
    Case(
        id="secretsmanager-secret",
        type="AWS::SecretsManager::Secret",
        support={"SecretKey": {"type": "AWS::KMS::Key", "properties": {"Description": "for the secret"}}},
        props={"Name": "itest-secret", "Description": "first", "SecretString": "value-number-one"},
        updates=[
            {"Description": "second"},
            {"SecretString": '{"user": "app", "password": "value-number-two"}'},
            {"KmsKeyId": "${SecretKey.Arn}"},
            {"Tags": [{"Key": "team", "Value": "sec"}]},
        ],
        replace={"Name": "itest-secret-two"},
        # Description is not in `remove`: moto ignores UpdateSecret(Description=""), which AWS honours
        # (the unit tests check the call).
        remove=["KmsKeyId", "Tags"],
        drift=lambda c, pid: c("secretsmanager").update_secret(SecretId=pid, Description="changed by hand"),
        exists=secret_exists,
    ),
    Case(
        id="secretsmanager-secret-generated",
        type="AWS::SecretsManager::Secret",
        props={"Name": "itest-generated", "Description": "generated",
               "GenerateSecretString": {"PasswordLength": 20, "ExcludePunctuation": True}},
        updates=[
            {"GenerateSecretString": {"PasswordLength": 28, "ExcludePunctuation": True,
                                      "SecretStringTemplate": '{"username": "app"}', "GenerateStringKey": "password"}},
            {"Tags": [{"Key": "team", "Value": "sec"}]},
        ],
        replace={"Name": "itest-generated-two"},
        remove=["Tags"],
        drift=lambda c, pid: c("secretsmanager").update_secret(SecretId=pid, Description="changed by hand"),
        exists=secret_exists,
    ),
    Case(
        id="kms-key",
        type="AWS::KMS::Key",
        props={"Description": "first", "PendingWindowInDays": 7},
        updates=[
            {"Description": "second"},
            {"EnableKeyRotation": True},
            {"KeyPolicy": KEY_POLICY},
            {"Enabled": False},
            {"Tags": [{"Key": "team", "Value": "sec"}]},
        ],
        replace=None,  # KeySpec, KeyUsage, MultiRegion are immutable: the plan refuses (tests/integration/test_safety.py)
        remove=["KeyPolicy", "EnableKeyRotation", "Enabled", "Description", "Tags"],
        drift=lambda c, pid: c("kms").update_key_description(KeyId=pid, Description="changed by hand"),
        exists=key_exists,
    ),
    Case(
        id="kms-alias",
        type="AWS::KMS::Alias",
        support={"KeyA": {"type": "AWS::KMS::Key", "properties": {"Description": "a"}},
                 "KeyB": {"type": "AWS::KMS::Key", "properties": {"Description": "b"}}},
        props={"AliasName": "alias/itest", "TargetKeyId": "${KeyA}"},
        updates=[{"TargetKeyId": "${KeyB.Arn}"}],
        replace={"AliasName": "alias/itest-two"},
        drift=point_alias_elsewhere,
        exists=alias_exists,
    ),
]
