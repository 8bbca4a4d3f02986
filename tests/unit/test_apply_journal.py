"""The applier's writes through a journal (Applier._write): each record holds only the entries the
step touched, a create's record is durable before the create is sent (the crash promise), and the
records replay to exactly the state the applier ends with."""

from __future__ import annotations

import json
import threading

import pytest

from deployer.errors import ApplyFailed
from deployer.state.journal import Journal, replay, split_lines
from deployer.state.model import State
from tests.unit.fake_cloud import Engine, stack


class Sink:
    """An in-memory journal that writes its batches into the cloud's call log (one order for both)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, first: int, lines: list[str]) -> None:
        with self.lock:
            self.lines += lines
        for line in lines:
            rec = json.loads(line)
            for key, value in rec["set"].items():
                self.engine.cloud.calls.append((f"durable-{value.get('pending') or 'result'}", key))


def journaled(engine: Engine) -> Sink:
    sink = Sink(engine)
    engine.state.journal = Journal(sink)
    return sink


def test_a_create_is_sent_only_after_its_record_is_durable():
    engine = Engine()
    engine.cloud.delay = 0.01
    journaled(engine)
    spec = stack({f"T{i}": {"properties": {}} for i in range(12)})
    engine.apply(engine.plan(spec), parallelism=6)
    order = engine.cloud.calls
    for i in range(12):
        key = f"T{i}"
        assert order.index(("durable-create", key)) < order.index(("create", key))
    assert engine.saves == 0  # nothing was written whole


def test_each_record_holds_only_what_its_step_touched_and_replays_to_the_final_state():
    engine = Engine()
    sink = journaled(engine)
    spec = stack({f"T{i}": {"properties": {"Size": i}} for i in range(8)})
    engine.apply(engine.plan(spec), parallelism=4)
    engine.state.journal.drain()
    records = [json.loads(line) for line in sink.lines]
    assert len(records) == 9  # the independent creates' intents announced in one record, then a result per create
    assert {k: v["pending"] for k, v in records[0]["set"].items()} == {f"T{i}": "create" for i in range(8)}
    assert all(len(r["set"]) + len(r["del"]) == 1 and not next(iter(r["set"].values())).get("pending")
               for r in records[1:])
    assert [r["serial"] for r in records] == list(range(1, 10))
    replayed = State(stack="unit")
    assert replay(replayed, split_lines("".join(sink.lines))) == 9
    assert replayed.to_json() == engine.state.to_json()


def test_a_rollback_is_journaled_too():
    engine = Engine()
    sink = journaled(engine)
    engine.cloud.fail[("create", "B")] = "InvalidParameter"
    spec = stack({"A": {"properties": {}}, "B": {"properties": {}, "depends_on": ["A"]}})
    with pytest.raises(ApplyFailed):
        engine.apply(engine.plan(spec), parallelism=1)
    engine.state.journal.drain()
    replayed = State(stack="unit")
    replay(replayed, split_lines("".join(sink.lines)))
    assert replayed.resources == {} == engine.state.resources and engine.cloud.resources == {}
