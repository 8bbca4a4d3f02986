"""The journal: what each step changed, as small records appended next to the state document and
folded into it at the end of the command — so a step's write costs what the step changed, not
what the state holds, and happens off the applier's lock.

A record is one line of JSON: `{"serial": N, "lineage": L, "set": {key: entry}, "del": [key]}`,
the entries the mutation touched, after it. Records are queued in serial order (under the
applier's lock, which only builds the line) and made durable by one writer thread per journal:
each of its writes (an append and one fsync, or one small object) covers every record queued
before it — group commit, as a database's log writer does. A record that announces a call about to
be made (it leaves an entry `pending`) is awaited before the call is sent; a result is not awaited:
it is durable with the next write, a few milliseconds later, or at the end of the command.

Reading replays the records after the document's serial, in order, and stops at the first one
that is torn or out of sequence (never acknowledged to anyone). Format: docs/state.md.
"""

from __future__ import annotations

import json
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from deployer import secrets
from deployer.errors import StateError

if TYPE_CHECKING:
    from deployer.state.model import State

Sink = Callable[[int, list[str]], None]  # (serial of the batch's first record, its lines) -> durable on return


class GroupCommit:
    """Lines queued in order, written in batches by one writer thread; `wait(n)` returns once every
    line up to the n-th is durable. `in_flight` > 1 lets batches overlap (each one its own object,
    as in S3): a line counts as durable only when every batch before it is too."""

    def __init__(self, sink: Sink, in_flight: int = 1, name: str = "journal"):
        self._sink = sink
        self._limit = max(1, in_flight)
        self._name = name
        self._cv = threading.Condition()
        self._queue: list[tuple[int, str]] = []  # (serial, line)
        self._queued = 0  # sequence number of the last line queued
        self._durable = 0  # every line up to this one is durable
        self._flights: list[list[Any]] = []  # [last sequence number, done] per batch, in hand-out order
        self._running = 0
        self._error: BaseException | None = None
        self._closing = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.batches = 0  # writes made (for tests and benchmarks)

    def submit(self, serial: int, line: str) -> int:
        """Queue one line; its sequence number, for wait()."""
        with self._cv:
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._queue.append((serial, line))
            self._queued += 1
            self._cv.notify_all()
            return self._queued

    def wait(self, seq: int) -> None:
        with self._cv:
            while self._durable < seq:
                if self._error is not None:
                    raise StateError(f"cannot write the state journal: {self._error}") from self._error
                self._cv.wait()

    def drain(self) -> BaseException | None:
        """Wait until every queued line is written or the writer failed; stop the writer thread.
        Returns the writer's error, if any (the caller then writes the whole state instead)."""
        with self._cv:
            while self._error is None and (self._queue or self._running):
                self._cv.wait()
            self._closing = True
            self._cv.notify_all()
            thread, self._thread = self._thread, None
            error = self._error
        if thread is not None:
            thread.join()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        return error

    def reset(self) -> None:
        """Forget everything queued or failed: the whole state was just written."""
        self.drain()
        with self._cv:
            self._queue.clear()
            self._flights.clear()
            self._durable = self._queued
            self._error = None
            self._cv.notify_all()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._closing and (not self._queue or self._running >= self._limit
                                             or self._error is not None):
                    self._cv.wait()
                if self._closing:
                    return
                batch, self._queue = self._queue, []
                flight = [self._queued, False]
                self._flights.append(flight)
                self._running += 1
            if self._limit == 1:
                self._write(batch, flight)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._limit, thread_name_prefix=self._name)
                self._pool.submit(self._write, batch, flight)

    def _write(self, batch: list[tuple[int, str]], flight: list[Any]) -> None:
        error: BaseException | None = None
        try:
            self._sink(batch[0][0], [line for _, line in batch])
        except BaseException as exc:  # the journal is broken from here on: every waiter learns it
            error = exc
        with self._cv:
            self._running -= 1
            self.batches += 1
            if error is not None:
                self._error = self._error or error
            else:
                flight[1] = True
                while self._flights and self._flights[0][1]:
                    self._durable = self._flights.pop(0)[0]
            self._cv.notify_all()


class Journal:
    """The records of one state, written through a sink by group commit."""

    def __init__(self, sink: Sink, in_flight: int = 1, name: str = "journal"):
        self.commit = GroupCommit(sink, in_flight, name)
        self.state: State | None = None  # the state last recorded: what compaction writes
        self.records = 0  # records appended since the state was last written whole

    def append(self, state: State, keys: Iterable[str]) -> Callable[[], None]:
        """Record the entries `keys` of `state` as they are now (call under the lock that orders the
        state's mutations). Returns what to call, outside that lock, before the next API call:
        it waits for durability when the record leaves an entry pending."""
        if not state.lineage:
            state.lineage = str(uuid.uuid4())
        line, intent = record_line(state, keys)
        self.state = state
        self.records += 1
        seq = self.commit.submit(state.serial, line)
        if not intent:
            return _nothing
        return lambda: self.commit.wait(seq)

    def drain(self) -> BaseException | None:
        return self.commit.drain()

    def written_whole(self) -> None:
        """The state was just written as a whole document: the records are folded into it."""
        self.commit.reset()
        self.records = 0


class JournaledBackend(ABC):
    """The lock-and-fold protocol both backends share: taking the lock first folds a crashed
    command's journal into the document; releasing it folds this command's. Subclasses set
    `_journal` and `_lock` (None: never locked) and implement read, write and `_has_journal`."""

    _journal: Journal
    _lock: Any
    holding = False  # this process holds the lock: nobody else writes the state until unlock

    @abstractmethod
    def read(self) -> State:
        """The document with its journal replayed."""

    @abstractmethod
    def write(self, state: State) -> None:
        """The whole document, then the journal it folds in removed."""

    @abstractmethod
    def _has_journal(self) -> bool:
        """Whether a journal (a crashed command's, when the lock was just taken) exists."""

    def lock(self, command: str) -> None:
        """Take the lock (deployer/state/locks.py), then fold a crashed command's journal in."""
        if self._lock is not None:
            self._lock.acquire(command)
            self.holding = True
        try:
            if self._has_journal():
                self.write(self.read())
        except BaseException:
            self.unlock()
            raise

    def unlock(self) -> None:
        """Fold what this command journaled into the document, then release the lock."""
        try:
            if self._journal.records and self._journal.state is not None:
                self.write(self._journal.state)
            else:
                self._journal.drain()
        finally:
            self.holding = False
            self._released()
            if self._lock is not None:
                self._lock.release()

    def _released(self) -> None:
        """Forget what holding the lock let a subclass keep (what it read or wrote meanwhile)."""
        return None  # the local backend keeps nothing


def _nothing() -> None:
    return None


def record_line(state: State, keys: Iterable[str]) -> tuple[str, bool]:
    """One record (a line, redacted) of the entries `keys` of `state`; and whether it announces a
    call (an entry it writes is pending)."""
    changed: dict[str, Any] = {}
    gone: list[str] = []
    intent = False
    for key in sorted(set(keys)):
        entry = state.resources.get(key)
        if entry is None:
            gone.append(key)
        else:
            changed[key] = entry.to_json()
            intent = intent or bool(entry.pending)
    doc = {"serial": state.serial, "lineage": state.lineage, "set": changed, "del": gone}
    return secrets.redact(json.dumps(doc, separators=(",", ":"), default=str)) + "\n", intent


def replay(state: State, lines: Iterable[str]) -> int:
    """Apply the records after state.serial, in order, to state; stop at a torn or out-of-sequence
    record (a crash cut it, or one before it, short: nobody was told it was durable). Returns how
    many were applied."""
    from deployer.state.model import ResourceState

    applied = 0
    for line in lines:
        if not line.endswith("\n"):
            break
        try:
            rec = json.loads(line)
            serial = int(rec["serial"])
            changed, gone = rec.get("set", {}), rec.get("del", [])
        except (ValueError, KeyError, TypeError):
            break
        lineage = rec.get("lineage") or ""
        if state.lineage and lineage and lineage != state.lineage:
            continue  # another state's journal (the document was replaced): not ours to apply
        if serial <= state.serial:
            continue  # already folded into the document
        if serial != state.serial + 1:
            break
        try:
            entries = {k: ResourceState.from_json(v) for k, v in changed.items()}
        except (KeyError, TypeError, AttributeError):
            break
        state.lineage = state.lineage or lineage
        for key in gone:
            state.resources.pop(key, None)
        state.resources.update(entries)
        state.serial = serial
        applied += 1
    return applied


def split_lines(text: str) -> Iterator[str]:
    """The lines of a journal text, each with its newline (a last line without one is torn)."""
    return iter(text.splitlines(keepends=True))


class Recorder(MutableMapping):
    """A view of a state's resources that remembers every key a mutation reads or writes (an entry
    read may be changed in place), so the journal records exactly those entries."""

    def __init__(self, resources: dict[str, Any]):
        self._resources = resources
        self.keys_touched: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.keys_touched.add(key)
        return self._resources[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.keys_touched.add(key)
        self._resources[key] = value

    def __delitem__(self, key: str) -> None:
        self.keys_touched.add(key)
        del self._resources[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resources)

    def __len__(self) -> int:
        return len(self._resources)


def recording(state: State) -> tuple[State, set[str]]:
    """A state sharing everything with `state` whose resources record the keys touched, and that set."""
    import copy

    view = copy.copy(state)
    recorder = Recorder(state.resources)
    view.resources = recorder  # type: ignore[assignment]
    return view, recorder.keys_touched
