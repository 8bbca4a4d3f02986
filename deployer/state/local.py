"""The local backend: `<state dir>/state/<stack>.json`, written atomically, guarded by a lock file."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from deployer.errors import StateError
from deployer.state.locks import FileLock
from deployer.state.model import State


class LocalBackend:
    def __init__(self, state_dir: str, stack: str):
        self.dir = Path(state_dir) / "state"
        self.stack = stack
        self.path = self.dir / f"{stack}.json"
        self.lock_path = self.dir / f"{stack}.lock"
        self._lock = FileLock(self.lock_path, stack)

    def describe(self) -> str:
        return str(self.path)

    def read(self) -> State:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return State(stack=self.stack)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read state: {exc.strerror}") from None
        return State.parse(text, str(self.path))

    def set_aside(self) -> str:
        """Move an unreadable state out of the way (for `state rebuild`); returns where it went."""
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        os.replace(self.path, aside)
        return str(aside)

    def exists(self) -> bool:
        return self.path.exists()

    def write(self, state: State) -> None:
        """Write atomically: a temp file in the same directory, fsync, rename."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".{self.stack}.", suffix=".tmp")
        except OSError as exc:
            raise StateError(f"{self.path}: cannot write the state: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(state.dumps())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StateError(f"{self.path}: cannot write the state: {exc.strerror or exc}") from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def lock(self, command: str) -> None:
        """Take the stack's lock or fail naming who holds it (deployer/state/locks.py)."""
        self._lock.acquire(command)

    def unlock(self) -> None:
        self._lock.release()

    def force_unlock(self, lock_id: str) -> str:
        return self._lock.force_release(lock_id)
