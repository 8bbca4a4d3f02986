"""The local backend: `<state dir>/state/<stack>.json`, written atomically, guarded by a lock (deployer/state/locks.py);
during a command, each step's change appended to `<stack>.journal` (deployer/state/journal.py) and
folded into the document when the command ends (or, after a crash, when the next one takes the lock)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from deployer.errors import StateError
from deployer.state.journal import Journal, JournaledBackend, replay, split_lines
from deployer.state.locks import FileLock
from deployer.state.model import State


class LocalBackend(JournaledBackend):
    def __init__(self, state_dir: str, stack: str):
        self.dir = Path(state_dir) / "state"
        self.stack = stack
        self.path = self.dir / f"{stack}.json"
        self.lock_path = self.dir / f"{stack}.lock"
        self.journal_path = self.dir / f"{stack}.journal"
        self._lock = FileLock(self.lock_path, stack)
        self._journal = Journal(self._append, name=f"journal-{stack}")
        self._fh: Any = None  # the journal, open for appending

    def describe(self) -> str:
        return str(self.path)

    def read(self) -> State:
        """The document with the journal's records after it replayed: what the last command (or the
        running one) made durable."""
        state = self._read_document()
        try:
            text = self.journal_path.read_text()
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            raise StateError(f"{self.journal_path}: cannot read the state journal: {exc.strerror}") from None
        replay(state, split_lines(text))
        state.journal = self._journal
        return state

    def _read_document(self) -> State:
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
        return self.path.exists() or self.journal_path.exists()

    def write(self, state: State) -> None:
        """The whole state, atomically (a temp file in the same directory, fsync, rename); the journal,
        now folded into it, is removed."""
        self._journal.drain()  # a failed journal write does not matter now: this writes everything
        self._write_document(state)
        self._remove_journal()
        self._journal.written_whole()

    def _write_document(self, state: State) -> None:
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

    def _append(self, first_serial: int, lines: list[str]) -> None:
        """The journal's sink: one write and one fsync for a batch of records."""
        if self._fh is None:
            self._open_journal(first_serial)
        self._fh.write("".join(lines).encode())
        os.fsync(self._fh.fileno())

    def _open_journal(self, first_serial: int) -> None:
        """Open the journal for appending. A stack's first write also writes its (empty) document, so
        the state is listed before the first fold; a tail a crash cut short is dropped first (it was
        never acknowledged), so the next record starts on a line of its own."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            lineage = self._journal.state.lineage if self._journal.state else ""
            self._write_document(State(stack=self.stack, lineage=lineage, serial=first_serial - 1))
        fh = open(self.journal_path, "a+b", buffering=0)  # noqa: SIM115 - kept open across batches
        size = fh.seek(0, os.SEEK_END)
        if size:
            fh.seek(0)
            data = fh.read()
            keep = data.rfind(b"\n") + 1
            if keep != size:
                fh.truncate(keep)
        _fsync_dir(self.dir)
        self._fh = fh

    def _remove_journal(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self.journal_path.exists():
            _fsync_dir(self.dir)  # the document's rename is durable before its journal goes
            self.journal_path.unlink(missing_ok=True)

    def _has_journal(self) -> bool:
        return self.journal_path.exists()

    def force_unlock(self, lock_id: str) -> str:
        return self._lock.force_release(lock_id)


def _fsync_dir(path: Path) -> None:
    """Make the directory's entries (a rename, a new file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
