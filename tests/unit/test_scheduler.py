"""The DAG runner: a node starts as soon as its own dependencies finish, at most N at once; on the first
failure nothing new starts and the rest are reported as skipped."""

from __future__ import annotations

import threading
import time

from deployer.scheduler import run_dag


def test_a_node_starts_when_its_own_dependencies_are_done_not_its_level():
    started: dict[str, float] = {}
    lock = threading.Lock()

    def work(node: str) -> None:
        with lock:
            started[node] = time.monotonic()
        time.sleep({"slow": 0.3}.get(node, 0.02))

    # fast -> after_fast must not wait for `slow`, which is on the same level as `fast`
    outcome = run_dag(["slow", "fast", "after_fast"], {"after_fast": {"fast"}}, work, parallelism=4)
    assert outcome.ok and set(outcome.completed) == {"slow", "fast", "after_fast"}
    assert started["after_fast"] - started["fast"] < 0.2


def test_parallelism_is_a_bound():
    running, peak = [0], [0]
    lock = threading.Lock()

    def work(node: str) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.03)
        with lock:
            running[0] -= 1

    run_dag([str(i) for i in range(10)], {}, work, parallelism=3)
    assert peak[0] == 3


def test_first_failure_stops_new_work_and_lists_the_skipped():
    def work(node: str) -> None:
        if node == "b":
            raise RuntimeError("boom")

    outcome = run_dag(["a", "b", "c", "d"], {"b": {"a"}, "c": {"b"}, "d": {"c"}}, work, parallelism=1)
    assert list(outcome.failed) == ["b"] and outcome.completed == ["a"]
    assert sorted(outcome.skipped) == ["c", "d"]


def test_a_stop_request_interrupts_between_steps():
    stop = threading.Event()

    def work(node: str) -> None:
        stop.set()

    outcome = run_dag(["a", "b"], {"b": {"a"}}, work, parallelism=1, stop=stop)
    assert outcome.interrupted and outcome.completed == ["a"] and outcome.skipped == ["b"]
