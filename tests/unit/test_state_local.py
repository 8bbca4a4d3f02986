"""The local backend with its journal: a step's write appends a record (the document is untouched),
reads see document + journal, the end of the command folds the journal in, a crashed command's
journal is folded by the next one that takes the lock, and a torn tail is dropped before appending."""

from __future__ import annotations

import json

from deployer.state.journal import record_line
from deployer.state.local import LocalBackend
from deployer.state.model import ResourceState, State
from tests.unit.journaling import create_from_threads, entry


def step(state: State, key: str, value: ResourceState | None) -> None:
    """What the applier's _write does: mutate, bump the serial, append, wait if it must."""
    if value is None:
        state.resources.pop(key, None)
    else:
        state.resources[key] = value
    state.serial += 1
    state.journal.append(state, [key])()


def test_records_go_to_the_journal_and_reads_merge_them(tmp_path):
    backend = LocalBackend(str(tmp_path), "s")
    backend.lock("apply")
    state = backend.read()
    step(state, "A", entry("a", pending="create"))
    step(state, "A", entry("a"))
    step(state, "B", entry("b", pending="create"))
    doc = json.loads(backend.path.read_text())
    assert doc["resources"] == {} and doc["lineage"] == state.lineage  # a first write makes the empty document
    lines = backend.journal_path.read_text().splitlines()
    assert [json.loads(line)["serial"] for line in lines] == [1, 2, 3]
    again = LocalBackend(str(tmp_path), "s").read()  # another process reading meanwhile
    assert again.serial == 3 and again.resources["B"].pending == "create" and again.resources["A"].pending is None
    backend.unlock()
    assert not backend.journal_path.exists() and not backend.lock_path.exists()
    folded = json.loads(backend.path.read_text())
    assert folded["serial"] == 3 and set(folded["resources"]) == {"A", "B"}


def test_a_whole_write_folds_the_journal(tmp_path):
    backend = LocalBackend(str(tmp_path), "s")
    state = backend.read()
    step(state, "A", entry("a"))
    state.serial += 1
    backend.write(state)
    assert not backend.journal_path.exists()
    assert backend.read().serial == 2 and set(backend.read().resources) == {"A"}


def test_a_crashed_commands_journal_is_folded_when_the_next_takes_the_lock(tmp_path):
    crashed = LocalBackend(str(tmp_path), "s")
    state = crashed.read()
    step(state, "A", entry("a", pending="create"))
    crashed.journal_path.write_text(crashed.journal_path.read_text() + '{"serial": 2, "lin')  # cut mid-write
    assert crashed.exists()
    nxt = LocalBackend(str(tmp_path), "s")
    nxt.lock("plan")
    assert not nxt.journal_path.exists()
    doc = json.loads(nxt.path.read_text())
    assert doc["serial"] == 1 and doc["resources"]["A"]["pending"] == "create"
    nxt.unlock()


def test_a_torn_tail_is_dropped_before_the_next_record(tmp_path):
    backend = LocalBackend(str(tmp_path), "s")
    state = backend.read()
    step(state, "A", entry("a"))
    backend._journal.drain()
    backend._fh.close()
    backend._fh = None
    backend.journal_path.write_text(backend.journal_path.read_text() + '{"serial": 2, "set"')
    step(state, "B", entry("b", pending="create"))
    merged = LocalBackend(str(tmp_path), "s").read()
    assert merged.serial == 2 and set(merged.resources) == {"A", "B"}


def test_group_commit_shares_fsyncs_between_threads(tmp_path, monkeypatch):
    import os

    from deployer.state import local

    syncs = []
    real = os.fsync
    monkeypatch.setattr(local.os, "fsync", lambda fd: (syncs.append(fd), real(fd))[1])
    backend = LocalBackend(str(tmp_path), "s")
    state = backend.read()
    create_from_threads(state, 40)
    assert LocalBackend(str(tmp_path), "s").read().serial == 40
    assert backend._journal.commit.batches < 40
    assert len(syncs) < 40 + 3  # batches, plus the first document and the directory


def test_unlock_with_nothing_journaled_leaves_the_document_alone(tmp_path):
    backend = LocalBackend(str(tmp_path), "s")
    backend.write(State(stack="s", serial=4, resources={"A": entry("a")}))
    before = backend.path.stat().st_mtime_ns
    backend.lock("plan")
    backend.read()
    backend.unlock()
    assert backend.path.stat().st_mtime_ns == before


def test_records_on_disk_replay_to_the_state_in_memory(tmp_path):
    backend = LocalBackend(str(tmp_path), "s")
    state = backend.read()
    for i in range(5):
        step(state, f"Q{i}", entry(f"q{i}"))
    step(state, "Q2", None)
    backend._journal.drain()
    assert LocalBackend(str(tmp_path), "s").read().to_json() == state.to_json()
    assert record_line(state, ["Q2"])[0] in backend.journal_path.read_text()
