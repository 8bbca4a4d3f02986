"""The s3 backend: the state object in S3, written with a conditional put (a concurrent writer
cannot overwrite), and a lock held as a DynamoDB item written with a condition."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import Aws, error_code
from deployer.errors import StateError
from deployer.state.model import State


class S3Backend:
    def __init__(self, aws: Aws, config: dict[str, Any], stack: str, region: str):
        self.aws = aws
        self.bucket = config["bucket"]
        self.key = config["key"]
        self.lock_table = config.get("lock_table")
        self.stack = stack
        self.region = region
        self._etag: str | None = None
        self._lock_id: str | None = None

    @property
    def s3(self):
        return self.aws.client("s3", self.region)

    @property
    def ddb(self):
        return self.aws.client("dynamodb", self.region)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def lock_key(self) -> str:
        return f"{self.bucket}/{self.key}"

    def read(self) -> State:
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                self._etag = None
                return State(stack=self.stack)
            if error_code(exc) == "NoSuchBucket":
                raise StateError(f"state bucket '{self.bucket}' does not exist; create it (versioned) first") from None
            raise
        self._etag = obj["ETag"]
        try:
            return State.from_json(json.loads(obj["Body"].read()))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{self.describe()}: state is corrupt ({exc})") from None

    def exists(self) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self.key)
            return True
        except ClientError:
            return False

    def write(self, state: State) -> None:
        """Conditional put: only over the version we read (or only if none exists yet)."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key, "Body": state.dumps().encode(),
                                  "ContentType": "application/json"}
        if self._etag:
            kwargs["IfMatch"] = self._etag
        else:
            kwargs["IfNoneMatch"] = "*"
        try:
            resp = self.s3.put_object(**kwargs)
        except ClientError as exc:
            if error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise StateError(f"{self.describe()} was changed by another writer since it was read; "
                                 "nothing was overwritten. Run the command again.") from None
            raise
        self._etag = resp.get("ETag")

    def lock(self, command: str) -> None:
        if not self.lock_table:
            return
        self._lock_id = str(uuid.uuid4())
        info = {"id": self._lock_id, "who": f"{os.environ.get('USER', 'unknown')}@{socket.gethostname()}",
                "pid": os.getpid(), "command": command,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        try:
            self.ddb.put_item(TableName=self.lock_table,
                              Item={"LockID": {"S": self.lock_key}, "Info": {"S": json.dumps(info)}},
                              ConditionExpression="attribute_not_exists(LockID)")
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            self._lock_id = None
            holder = self.holder() or {}
            raise StateError(f"state of stack '{self.stack}' is locked by {holder.get('who', 'someone')} "
                             f"running `{holder.get('command', '?')}` (pid {holder.get('pid', '?')}, since "
                             f"{holder.get('created', '?')}, lock id {holder.get('id', '?')}); if that run is gone, "
                             f"run `deployer state unlock {holder.get('id', '')}`") from None

    def holder(self) -> dict | None:
        item = self.ddb.get_item(TableName=self.lock_table, Key={"LockID": {"S": self.lock_key}},
                                 ConsistentRead=True).get("Item")
        if not item:
            return None
        try:
            return json.loads(item["Info"]["S"])
        except (KeyError, ValueError):
            return {}

    def unlock(self) -> None:
        if not self.lock_table or not self._lock_id:
            return
        self._release(self._lock_id)
        self._lock_id = None

    def _release(self, lock_id: str) -> bool:
        holder = self.holder()
        if not holder or holder.get("id") != lock_id:
            return False
        self.ddb.delete_item(TableName=self.lock_table, Key={"LockID": {"S": self.lock_key}})
        return True

    def force_unlock(self, lock_id: str) -> bool:
        return bool(self.lock_table) and self._release(lock_id)
