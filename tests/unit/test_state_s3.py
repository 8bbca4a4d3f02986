"""The s3 backend with its journal (in-process moto): a step's write is one small journal object
(several in flight), the state object is only written when the command ends, reads merge the
journal, a crashed command's journal is folded by the next one that takes the lock, and a retried
journal put whose first answer was lost is not mistaken for another writer."""

from __future__ import annotations

import json

import pytest

from deployer.errors import StateError
from deployer.state.model import State
from deployer.state.s3 import S3Backend
from tests.unit.journaling import create_from_threads, entry

CONFIG = {"bucket": "state", "key": "stacks/s.json", "lock_table": "locks"}


@pytest.fixture
def backend(aws):
    s3, ddb = aws.client("s3", "us-east-1"), aws.client("dynamodb", "us-east-1")
    s3.create_bucket(Bucket="state")
    ddb.create_table(TableName="locks", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])
    return S3Backend(aws, CONFIG, "s", "us-east-1")


def keys(backend: S3Backend) -> list[str]:
    return sorted(o["Key"] for o in backend.s3.list_objects_v2(Bucket="state").get("Contents", []))


def test_steps_write_journal_objects_and_the_end_folds_them(backend, calls):
    backend.lock("apply")
    state = backend.read()
    create_from_threads(state, 24)
    journal = [k for k in keys(backend) if ".journal/" in k]
    assert journal and "stacks/s.json" not in keys(backend)  # the state object is not written per step
    assert all(k.startswith("stacks/s.json.journal/") for k in journal)
    merged = S3Backend(backend.aws, CONFIG, "s", "us-east-1").read()
    assert merged.serial == 24 and len(merged.resources) == 24
    backend.unlock()
    assert keys(backend) == ["stacks/s.json"]
    doc = json.loads(backend.s3.get_object(Bucket="state", Key="stacks/s.json")["Body"].read())
    assert doc["serial"] == 24 and len(doc["resources"]) == 24
    assert backend.ddb.scan(TableName="locks")["Items"] == []


def test_a_crashed_commands_journal_is_folded_by_the_next_lock(backend):
    crashed = S3Backend(backend.aws, CONFIG, "s", "us-east-1")
    state = crashed.read()
    state.resources["A"] = entry("a", pending="create")
    state.serial += 1
    state.journal.append(state, ["A"])()
    crashed._journal.drain()  # killed here: no fold, no unlock (the lock item is not taken in this test)
    backend.lock("apply")
    assert keys(backend) == ["stacks/s.json"]
    assert backend.read().resources["A"].pending == "create"
    backend.unlock()


def test_a_whole_write_deletes_the_journal_objects(backend):
    state = backend.read()
    state.resources["A"] = entry("a")
    state.serial += 1
    state.journal.append(state, ["A"])()
    backend._journal.drain()
    state.serial += 1
    backend.write(state)
    assert keys(backend) == ["stacks/s.json"] and backend.read().serial == 2


def test_a_repeated_journal_put_of_the_same_record_is_ours(backend):
    backend._put_batch(5, ['{"serial":5}\n'])
    backend._put_batch(5, ['{"serial":5}\n'])  # botocore retried a put whose answer was lost
    with pytest.raises(StateError, match="another writer"):
        backend._put_batch(5, ['{"serial":5,"other":1}\n'])


def test_reads_without_a_journal_cost_one_list(backend, calls):
    backend.write(State(stack="s", serial=3, resources={"A": entry("a")}))
    before = len(calls.of("ListObjectsV2"))
    assert backend.read().serial == 3
    assert len(calls.of("ListObjectsV2")) == before + 1 and not calls.of("DeleteObjects")


def test_the_lock_fetches_the_document_beside_its_listing(backend, calls, monkeypatch):
    """Taking the lock lists the journal and fetches the document at once (one round trip, not two);
    the read that follows costs nothing, and a failed fetch is made again by it."""
    import threading

    backend.write(State(stack="s", serial=3, resources={"A": entry("a")}))
    threads: dict[str, str] = {}

    def note(model, **_) -> None:
        threads.setdefault(model.name, threading.current_thread().name)

    backend.s3.meta.events.register("before-call.s3", note)
    before = len(calls.of("GetObject"))
    backend.lock("apply")
    assert threads["GetObject"] != threads["ListObjectsV2"]
    assert backend.read().serial == 3 and len(calls.of("GetObject")) == before + 1
    backend.unlock()

    fails = ["once"]
    real = backend._read_document

    def flaky():
        if fails and threading.current_thread() is not threading.main_thread():
            fails.pop()
            raise StateError("fetch failed")
        return real()

    monkeypatch.setattr(backend, "_read_document", flaky)
    backend.lock("apply")
    assert not fails and backend.read().serial == 3
    backend.unlock()


def test_reads_while_holding_the_lock_cost_no_round_trip(backend, calls):
    """Plan, then apply, read the state under one lock: only this process writes it meanwhile, so the
    second read is what the first read and the writes since left (and equals a fresh read)."""
    backend.write(State(stack="s", serial=3, resources={"A": entry("a")}))
    backend.lock("apply")
    first = backend.read()
    before = (len(calls.of("GetObject")), len(calls.of("ListObjectsV2")))
    again = backend.read()
    assert (len(calls.of("GetObject")), len(calls.of("ListObjectsV2"))) == before
    assert again.to_json() == first.to_json()
    again.resources["B"] = entry("b", pending="create")
    again.serial += 1
    again.journal.append(again, ["B"])()
    backend._journal.drain()
    held = backend.read()
    assert (len(calls.of("GetObject")), len(calls.of("ListObjectsV2"))) == before  # its own journal object
    fresh = S3Backend(backend.aws, CONFIG, "s", "us-east-1").read()
    assert held.to_json() == fresh.to_json() and held.resources["B"].pending == "create"
    backend.unlock()
    assert backend.read().to_json() == S3Backend(backend.aws, CONFIG, "s", "us-east-1").read().to_json()
    assert len(calls.of("GetObject")) > before[0]  # without the lock every read asks S3 again
