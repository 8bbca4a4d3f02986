"""The journal: group commit (one write covers every record queued before it; overlapping writes
count as durable only in order), the record format and its replay (torn tails, gaps and another
lineage stop or skip), and the recorder that names the entries a mutation touched."""

from __future__ import annotations

import threading
import time

import pytest

from deployer import secrets
from deployer.errors import StateError
from deployer.state.journal import GroupCommit, Journal, record_line, recording, replay, split_lines
from deployer.state.model import ResourceState, State


def entry(pid: str, pending: str | None = None) -> ResourceState:
    return ResourceState(type="AWS::SQS::Queue", physical_id=pid, region="us-east-1",
                         properties={"QueueName": pid}, pending=pending)


class SlowSink:
    """Records each batch; each write takes `delay` seconds."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.batches: list[tuple[int, list[str]]] = []
        self.lock = threading.Lock()

    def __call__(self, first: int, lines: list[str]) -> None:
        time.sleep(self.delay)
        with self.lock:
            self.batches.append((first, list(lines)))


def test_one_write_covers_every_line_queued_before_it():
    writing, queued = threading.Event(), threading.Event()
    batches: list[tuple[int, list[str]]] = []

    def sink(first: int, lines: list[str]) -> None:
        writing.set()
        queued.wait(5)
        batches.append((first, list(lines)))

    commit = GroupCommit(sink)
    first = commit.submit(1, "a\n")
    assert writing.wait(5)  # the writer is inside the first write
    seqs = [commit.submit(2 + i, f"l{i}\n") for i in range(20)]
    queued.set()
    commit.wait(seqs[-1])
    assert commit.wait(first) is None
    assert [len(lines) for _, lines in batches] == [1, 20]  # the 20 queued meanwhile: one write
    assert batches[1][0] == 2  # a batch is named by its first record's serial
    assert commit.drain() is None


def test_waiters_in_many_threads_share_writes():
    sink = SlowSink(delay=0.005)
    commit = GroupCommit(sink)

    def step(i: int) -> None:
        commit.wait(commit.submit(i, f"{i}\n"))

    threads = [threading.Thread(target=step, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = [line for _, batch in sink.batches for line in batch]
    assert sorted(lines) == sorted(f"{i}\n" for i in range(32))
    assert len(sink.batches) < 32
    commit.drain()


def test_overlapping_writes_are_durable_only_in_order():
    release_first, first_writing = threading.Event(), threading.Event()
    done: list[int] = []

    def sink(first: int, lines: list[str]) -> None:
        if first == 1:
            first_writing.set()
            release_first.wait(5)
        done.append(first)

    commit = GroupCommit(sink, in_flight=4)
    one = commit.submit(1, "1\n")
    assert first_writing.wait(5)
    two = commit.submit(2, "2\n")
    waiter = threading.Thread(target=commit.wait, args=(two,))
    waiter.start()
    time.sleep(0.05)
    assert done == [2]  # the second batch is written while the first is still in flight...
    assert waiter.is_alive()  # ...but is not durable before it
    release_first.set()
    waiter.join(5)
    commit.wait(one)
    assert not waiter.is_alive() and done == [2, 1]
    commit.drain()


def test_a_failed_write_fails_every_waiter_and_drain_reports_it():
    def sink(first: int, lines: list[str]) -> None:
        raise OSError(28, "No space left on device")

    commit = GroupCommit(sink)
    seq = commit.submit(1, "x\n")
    with pytest.raises(StateError, match="No space left"):
        commit.wait(seq)
    assert isinstance(commit.drain(), OSError)
    commit.reset()
    assert commit.wait(seq) is None  # the whole state was written since: nothing to wait for


def test_a_record_holds_only_the_touched_entries_and_says_whether_it_announces_a_call():
    state = State(stack="s", lineage="L", serial=7,
                  resources={"A": entry("a", pending="create"), "B": entry("b")})
    line, intent = record_line(state, ["A", "Gone"])
    assert intent and line.endswith("\n") and "\n" not in line[:-1]
    assert '"b"' not in line and '"del":["Gone"]' in line and '"serial":7' in line
    assert record_line(state, ["B"])[1] is False


def test_records_are_redacted():
    secrets.register("hunter2-secret")
    state = State(stack="s", lineage="L", serial=1, resources={"A": entry("hunter2-secret")})
    line, _ = record_line(state, ["A"])
    assert "hunter2" not in line and secrets.MASK in line


def _lines(*states_and_keys) -> str:
    return "".join(record_line(s, k)[0] for s, k in states_and_keys)


def test_replay_applies_records_after_the_document_in_order():
    doc = State(stack="s", lineage="L", serial=3, resources={"Old": entry("old")})
    later = State(stack="s", lineage="L", serial=4, resources={"A": entry("a", "create")})
    done = State(stack="s", lineage="L", serial=5, resources={"A": entry("a")})
    folded = State(stack="s", lineage="L", serial=3, resources={"Old": entry("changed")})
    text = _lines((folded, ["Old"]), (later, ["A"]), (done, ["A", "Old"]))
    state = State.from_json(doc.to_json())
    assert replay(state, split_lines(text)) == 2
    assert state.serial == 5 and set(state.resources) == {"A"} and state.resources["A"].pending is None


@pytest.mark.parametrize("cut", ["torn", "gap", "garbage"])
def test_replay_stops_at_a_record_nobody_was_told_was_durable(cut):
    s1 = State(stack="s", lineage="L", serial=1, resources={"A": entry("a")})
    s2 = State(stack="s", lineage="L", serial=2, resources={"A": entry("a"), "B": entry("b")})
    s3 = State(stack="s", lineage="L", serial=3, resources={"C": entry("c")})
    good = _lines((s1, ["A"]))
    if cut == "torn":
        text = good + _lines((s2, ["B"]))[:-5]
    elif cut == "gap":
        text = good + _lines((s3, ["C"]))
    else:
        text = good + "{not json\n" + _lines((s2, ["B"]))
    state = State(stack="s")
    assert replay(state, split_lines(text)) == 1
    assert set(state.resources) == {"A"} and state.lineage == "L" and state.serial == 1


def test_replay_skips_another_lineages_records():
    theirs = State(stack="s", lineage="OTHER", serial=1, resources={"X": entry("x")})
    state = State(stack="s", lineage="MINE")
    assert replay(state, split_lines(_lines((theirs, ["X"])))) == 0
    assert state.resources == {}


def test_the_recorder_names_entries_read_written_or_removed():
    state = State(stack="s", resources={"A": entry("a"), "B": entry("b"), "C": entry("c")})
    view, touched = recording(state)
    view.resources["A"].pending = "update"  # changed in place: read through the view
    view.resources["N"] = entry("n")
    view.resources.pop("B", None)
    view.resources.pop("Missing", None)
    assert touched == {"A", "N", "B", "Missing"}
    assert set(state.resources) == {"A", "C", "N"} and state.resources["A"].pending == "update"


def test_append_waits_for_an_intent_and_not_for_a_result():
    gate = threading.Event()

    def sink(first: int, lines: list[str]) -> None:
        gate.wait(5)

    journal = Journal(sink)
    state = State(stack="s", serial=1, resources={"A": entry("a")})
    result = journal.append(state, ["A"])
    started = time.monotonic()
    result()  # a result: returns at once, durable later
    assert time.monotonic() - started < 0.5
    state.resources["B"] = entry("b", pending="create")
    state.serial = 2
    intent = journal.append(state, ["B"])
    waiter = threading.Thread(target=intent)
    waiter.start()
    time.sleep(0.05)
    assert waiter.is_alive()  # the create is not sent before its record is durable
    gate.set()
    waiter.join(5)
    assert not waiter.is_alive()
    assert state.lineage and journal.records == 2 and journal.state is state
    journal.written_whole()
    assert journal.records == 0
