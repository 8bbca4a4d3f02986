"""The s3 backend: the state object in S3, written with a conditional put (a concurrent writer
cannot overwrite), and a lock held as a DynamoDB item written with a condition."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import Aws, error_code
from deployer.errors import StateError
from deployer.state.locks import LeaseLock
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
        self._lock = LeaseLock(lambda: self.ddb, self.lock_table, self.lock_key, stack) \
            if self.lock_table else None

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
        return State.parse(obj["Body"].read(), self.describe())

    def set_aside(self) -> str:
        """An unreadable state is overwritten in place by `state rebuild` (the conditional put still
        guards it); a versioned bucket keeps the old one."""
        return f"the previous version of {self.describe()} (kept when the bucket is versioned)"

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
        """Take the DynamoDB lock (a leased item: deployer/state/locks.py), when a lock table is set."""
        if self._lock is not None:
            self._lock.acquire(command)

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def force_unlock(self, lock_id: str) -> str:
        if self._lock is None:
            raise StateError(f"{self.describe()} has no lock table, so it is never locked")
        return self._lock.force_release(lock_id)
