"""State locks that cannot race or stick.

The local lock is an exclusive `flock` on `<stack>.lock`, held on an open descriptor for as long as
the command runs: the kernel releases it when the process ends, however it ends, so a dead holder's
lock is free at once and taking it over is one atomic call (no read-check-unlink-create race). The
file only names the holder, for the message another command prints. After taking the lock the file
is checked to still be the one at the path (a holder that released it may have removed it), the
classic protocol that makes removing the file on release safe.

The DynamoDB lock (s3 backend) is an item with a lease: its holder renews `Expires` every third of
the lease from a background thread; another command takes it over only when the lease has run out,
or at once when the holder ran on this host and its process is gone. Every take-over and release
is a conditional write on the holder's id, so two commands never both believe they hold it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deployer.errors import StateError

LEASE_SECONDS = float(os.environ.get("DEPLOYER_LOCK_LEASE", "60"))


def holder_info(command: str) -> dict[str, Any]:
    """Who takes a lock: what the message of a command that finds it taken says."""
    return {"id": str(uuid.uuid4()), "pid": os.getpid(), "host": socket.gethostname(),
            "who": f"{os.environ.get('USER', 'unknown')}@{socket.gethostname()}", "command": command,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def describe_holder(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "another process (its lock names no holder)"
    return (f"`{holder.get('command', '?')}` (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since "
            f"{holder.get('created', '?')}, lock id {holder.get('id', '?')})")


def process_gone(holder: dict[str, Any]) -> bool:
    """Whether the holder ran on this host and its process no longer exists."""
    if holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(holder.get("pid", 0)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, TypeError, OverflowError):
        return False
    return False


class FileLock:
    """The local backend's lock: flock on a held descriptor (see the module docstring)."""

    def __init__(self, path: Path, stack: str):
        self.path = path
        self.stack = stack
        self._fd: int | None = None

    def acquire(self, command: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StateError(f"{self.path}: cannot lock the state: {exc.strerror}") from None
                holder = self.holder()
                raise StateError(f"state of stack '{self.stack}' is locked by {describe_holder(holder)}; it is "
                                 "released when that process ends (stop it if it is hung)") from None
            if not self._same_file(fd):  # released and removed between our open and our lock: again
                os.close(fd)
                continue
            try:
                os.ftruncate(fd, 0)
                os.write(fd, json.dumps(holder_info(command)).encode())
                os.fsync(fd)
            except OSError as exc:  # a full disk: the lock is still ours (flock), only its label is lost
                if exc.errno != errno.ENOSPC:
                    os.close(fd)
                    raise StateError(f"{self.path}: cannot write the lock: {exc.strerror}") from None
            self._fd = fd
            return
        raise StateError(f"{self.path}: the lock file keeps being replaced; is another deployer looping on it?")

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot open the lock file: {exc.strerror}") from None

    def _same_file(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still holding it: a waiter re-checks the path after locking
        os.close(self._fd)
        self._fd = None

    def holder(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.path.read_text() or "null")
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        return doc if isinstance(doc, dict) else None

    def force_release(self, lock_id: str) -> str:
        """`state unlock ID`: a lock no process holds is removed; a running holder's is not broken
        (the kernel releases it when that process ends). Returns what was done."""
        holder = self.holder()
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            raise StateError(f"stack '{self.stack}' is not locked") from None
        except OSError as exc:
            raise StateError(f"{self.path}: cannot open the lock file: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            if holder and holder.get("id") != lock_id:
                raise StateError(f"no lock with id {lock_id}: the lock is held by {describe_holder(holder)}") from None
            raise StateError(f"the lock is held by {describe_holder(holder)}, a running process: it is released "
                             "when that process ends; stop it to break the lock") from None
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(fd)
        return "no process held it; removed the stale lock file"


class LeaseLock:
    """The s3 backend's lock: a DynamoDB item with a renewed lease (see the module docstring)."""

    def __init__(self, client: Callable[[], Any], table: str, key: str, stack: str, lease: float = LEASE_SECONDS):
        self._client = client
        self.table = table
        self.key = key
        self.stack = stack
        self.lease = lease
        self.id: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False  # the lease could not be renewed (the state's conditional put still guards it)

    @property
    def client(self) -> Any:
        return self._client()

    def _item(self, info: dict[str, Any]) -> dict[str, Any]:
        return {"LockID": {"S": self.key}, "Holder": {"S": info["id"]}, "Info": {"S": json.dumps(info)},
                "Expires": {"N": str(int(time.time() + self.lease))}}

    def acquire(self, command: str) -> None:
        from botocore.exceptions import ClientError

        info = holder_info(command)
        try:
            self.client.put_item(TableName=self.table, Item=self._item(info),
                                 ConditionExpression="attribute_not_exists(LockID) OR Expires < :now",
                                 ExpressionAttributeValues={":now": {"N": str(int(time.time()))}})
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            holder, holder_id = self.holder()
            mine = holder_id == info["id"]  # the put succeeded but its answer was lost, and the retry failed
            if not mine and not (holder and process_gone(holder) and self._take_over(info, holder_id)):
                expires = self._expires()
                left = f"; its lease runs out in {int(expires - time.time())} s" if expires else ""
                raise StateError(f"state of stack '{self.stack}' is locked by {describe_holder(holder)}{left}; "
                                 f"if that run is gone, run `deployer state unlock {holder_id or ''}`".rstrip()) \
                    from None
        self.id = info["id"]
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="deployer-lock-lease", daemon=True)
        self._renewer.start()

    def _take_over(self, info: dict[str, Any], holder_id: str | None) -> bool:
        """Replace a dead local holder's item, only if it is still that holder's."""
        from botocore.exceptions import ClientError

        try:
            self.client.put_item(TableName=self.table, Item=self._item(info),
                                 ConditionExpression="Holder = :old",
                                 ExpressionAttributeValues={":old": {"S": holder_id or ""}})
            return True
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def _renew(self) -> None:
        from botocore.exceptions import ClientError

        while not self._stop.wait(self.lease / 3):
            try:
                self.client.update_item(
                    TableName=self.table, Key={"LockID": {"S": self.key}}, UpdateExpression="SET Expires = :e",
                    ConditionExpression="Holder = :me",
                    ExpressionAttributeValues={":e": {"N": str(int(time.time() + self.lease))}, ":me": {"S": self.id}})
            except ClientError as exc:
                if _code(exc) == "ConditionalCheckFailedException":
                    self.lost = True
                    return
            except Exception:  # a network blip: the next renewal tries again, well inside the lease
                continue

    def holder(self) -> tuple[dict[str, Any] | None, str | None]:
        item = self.client.get_item(TableName=self.table, Key={"LockID": {"S": self.key}},
                                    ConsistentRead=True).get("Item")
        if not item:
            return None, None
        try:
            info = json.loads(item["Info"]["S"])
        except (KeyError, ValueError):
            info = {}
        holder_id = item.get("Holder", {}).get("S") or info.get("id")
        return info, holder_id

    def _expires(self) -> float | None:
        item = self.client.get_item(TableName=self.table, Key={"LockID": {"S": self.key}},
                                    ConsistentRead=True).get("Item") or {}
        try:
            return float(item["Expires"]["N"])
        except (KeyError, ValueError):
            return None

    def release(self) -> None:
        if self.id is None:
            return
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        self._delete(self.id)
        self.id = None

    def _delete(self, lock_id: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.delete_item(TableName=self.table, Key={"LockID": {"S": self.key}},
                                    ConditionExpression="Holder = :me OR (attribute_not_exists(Holder) AND "
                                                        "contains(Info, :me))",
                                    ExpressionAttributeValues={":me": {"S": lock_id}})
            return True
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def force_release(self, lock_id: str) -> str:
        holder, holder_id = self.holder()
        if holder is None and holder_id is None:
            raise StateError(f"stack '{self.stack}' is not locked")
        if holder_id != lock_id or not self._delete(lock_id):
            raise StateError(f"no lock with id {lock_id}: the lock is held by {describe_holder(holder)}")
        return f"broke the lock of {describe_holder(holder)}"


def _code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")
