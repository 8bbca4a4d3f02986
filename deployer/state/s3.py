"""The s3 backend: the state object in S3, written with a conditional put (a concurrent writer
cannot overwrite), and a lock held as a DynamoDB item written with a condition. During a command,
each step's change goes to a small journal object `<key>.journal/<serial>` (deployer/state/journal.py,
several in flight at once), folded into the state object when the command ends (or, after a crash,
when the next one takes the lock)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import Aws, error_code
from deployer.errors import StateError
from deployer.state.journal import Journal, JournaledBackend, replay, split_lines
from deployer.state.locks import LeaseLock
from deployer.state.model import State

JOURNAL_IN_FLIGHT = 8  # journal objects being written at once
PRECONDITION_FAILED = ("PreconditionFailed", "412", "ConditionalRequestConflict")


class S3Backend(JournaledBackend):
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
        self._journal = Journal(self._put_batch, JOURNAL_IN_FLIGHT, name=f"journal-{stack}")
        self._journal_keys: set[str] = set()  # journal objects known to exist (listed or written)
        self._keys_lock = threading.Lock()
        # while the lock is held only this process writes, so what it read or wrote is what S3 holds:
        # the document (body, ETag; None when there is none), whether the journal was listed, and the
        # bodies of the journal objects it wrote. A second read (plan, then apply) costs no round trip.
        self._held: tuple[bytes | None, str | None] | None = None
        self._listed = False
        self._bodies: dict[str, bytes] = {}

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

    @property
    def journal_prefix(self) -> str:
        return f"{self.key}.journal/"

    def read(self) -> State:
        """The state object with the journal objects after it replayed."""
        state = self._read_document()
        if self.holding and self._listed:
            with self._keys_lock:
                keys = sorted(self._journal_keys)
        else:
            keys = self._list_journal()
        texts = self._get_journal(keys)
        replay(state, (line for text in texts for line in split_lines(text)))
        state.journal = self._journal
        return state

    def _read_document(self) -> State:
        if self.holding and self._held is not None:
            body, self._etag = self._held
            return State(stack=self.stack) if body is None else State.parse(body, self.describe())
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                self._etag = None
                self._keep(None)
                return State(stack=self.stack)
            if error_code(exc) == "NoSuchBucket":
                raise StateError(f"state bucket '{self.bucket}' does not exist; create it (versioned) first") from None
            raise
        self._etag = obj["ETag"]
        body = obj["Body"].read()
        self._keep(body)
        return State.parse(body, self.describe())

    def _keep(self, body: bytes | None) -> None:
        if self.holding:
            self._held = (body, self._etag)

    def _released(self) -> None:
        self._held, self._listed, self._bodies = None, False, {}

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
        """The whole state; then the journal objects, folded into it, are deleted."""
        self._journal.drain()  # a failed journal write does not matter now: this writes everything
        self._put_document(state)
        self._delete_journal()
        self._journal.written_whole()

    def _put_document(self, state: State) -> None:
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
            if error_code(exc) in PRECONDITION_FAILED:
                raise StateError(f"{self.describe()} was changed by another writer since it was read; "
                                 "nothing was overwritten. Run the command again.") from None
            raise
        self._etag = resp.get("ETag")
        self._keep(kwargs["Body"])

    # --- the journal ------------------------------------------------------------------------------
    def _list_journal(self) -> list[str]:
        keys: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.journal_prefix}
        while True:
            try:
                page = self.s3.list_objects_v2(**kwargs)
            except ClientError as exc:
                if error_code(exc) == "NoSuchBucket":
                    return []
                raise
            keys += [obj["Key"] for obj in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
        with self._keys_lock:
            self._journal_keys = set(keys)
            self._listed = self.holding
        return sorted(keys)

    def _get_journal(self, keys: list[str]) -> list[str]:
        def get(key: str) -> str:
            with self._keys_lock:
                written = self._bodies.get(key) if self.holding else None
            if written is not None:
                return written.decode()
            try:
                return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()
            except ClientError as exc:
                if error_code(exc) in ("NoSuchKey", "404"):
                    return ""  # folded and deleted by another command meanwhile: a gap, replay stops
                raise
        if len(keys) <= 1:
            return [get(k) for k in keys]
        with ThreadPoolExecutor(max_workers=min(16, len(keys))) as pool:
            return list(pool.map(get, keys))

    def _put_batch(self, first_serial: int, lines: list[str]) -> None:
        """The journal's sink: one object per batch, named by its first serial, never overwritten."""
        key = f"{self.journal_prefix}{first_serial:012d}"
        body = "".join(lines).encode()
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*",
                               ContentType="application/x-ndjson")
        except ClientError as exc:
            if error_code(exc) not in PRECONDITION_FAILED:
                raise
            if self._existing(key) != body:  # equal: a retried put whose first answer was lost
                raise StateError(f"{self.describe()}: another writer is journaling this state "
                                 "(no lock table?); nothing was overwritten") from None
        with self._keys_lock:
            self._journal_keys.add(key)
            if self.holding:
                self._bodies[key] = body

    def _existing(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError:
            return None

    def _delete_journal(self) -> None:
        with self._keys_lock:
            keys, self._journal_keys, self._bodies = sorted(self._journal_keys), set(), {}
        for i in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})

    def _has_journal(self) -> bool:
        """Whether a crashed command left journal objects. Under the lock the document is fetched
        beside the listing (the command reads it next, and the lock keeps it as fetched): one round
        trip for both. A failed fetch is only forgotten here: the read that follows makes it again."""
        if not self.holding or self._held is not None:
            return bool(self._list_journal())
        with ThreadPoolExecutor(max_workers=1) as pool:
            fetched = pool.submit(self._read_document)
            keys = self._list_journal()
            try:
                fetched.result()
            except Exception:  # noqa: BLE001 - said again, with its context, by the read
                self._held = None
        return bool(keys)

    def force_unlock(self, lock_id: str) -> str:
        if self._lock is None:
            raise StateError(f"{self.describe()} has no lock table, so it is never locked")
        return self._lock.force_release(lock_id)
