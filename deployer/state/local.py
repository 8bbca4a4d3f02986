"""The local backend: `<state dir>/state/<stack>.json`, written atomically, guarded by a lock file."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from pathlib import Path

from deployer.errors import StateError
from deployer.state.model import State


class LocalBackend:
    def __init__(self, state_dir: str, stack: str):
        self.dir = Path(state_dir) / "state"
        self.stack = stack
        self.path = self.dir / f"{stack}.json"
        self.lock_path = self.dir / f"{stack}.lock"
        self._locked = False

    def describe(self) -> str:
        return str(self.path)

    def read(self) -> State:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return State(stack=self.stack)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read state: {exc.strerror}") from None
        try:
            return State.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{self.path}: state file is corrupt ({exc}); restore it or run `deployer state rebuild`") from None

    def exists(self) -> bool:
        return self.path.exists()

    def write(self, state: State) -> None:
        """Write atomically: a temp file in the same directory, fsync, rename."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".{self.stack}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(state.dumps())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def lock(self, command: str) -> None:
        """Take the stack's lock or fail naming who holds it; a lock whose process is gone is taken over."""
        self.dir.mkdir(parents=True, exist_ok=True)
        info = {"id": f"{socket.gethostname()}-{os.getpid()}-{int(time.time())}", "pid": os.getpid(),
                "host": socket.gethostname(), "command": command, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        for _ in range(2):
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder and self._stale(holder):
                    self.lock_path.unlink(missing_ok=True)
                    continue
                who = (f"{holder.get('command')} (pid {holder.get('pid')} on {holder.get('host')}, since "
                       f"{holder.get('created')}, lock id {holder.get('id')})") if holder else "another process"
                raise StateError(f"state of stack '{self.stack}' is locked by {who}; "
                                 f"if that process is gone, run `deployer state unlock {holder.get('id') if holder else ''}`") from None

            with os.fdopen(fd, "w") as fh:
                json.dump(info, fh)
            self._locked = True
            return
        raise StateError(f"cannot take the lock {self.lock_path}")

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.lock_path.read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _stale(holder: dict) -> bool:
        if holder.get("host") != socket.gethostname():
            return False
        try:
            os.kill(int(holder.get("pid", 0)), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError):
            return False
        return False

    def unlock(self) -> None:
        if self._locked:
            self.lock_path.unlink(missing_ok=True)
            self._locked = False

    def force_unlock(self, lock_id: str) -> bool:
        holder = self._holder()
        if holder and holder.get("id") == lock_id:
            self.lock_path.unlink(missing_ok=True)
            return True
        return False
