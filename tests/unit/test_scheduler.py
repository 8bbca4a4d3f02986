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


def test_a_run_costs_what_its_nodes_and_edges_cost():
    """20,000 nodes (half of them after another): well under a second of CPU; a scheduler that scans
    what is pending at every completion takes minutes."""
    nodes = [f"n{i}" for i in range(20_000)]
    deps = {f"n{i}": {f"n{i - 1}"} for i in range(1, len(nodes), 2)}
    started = time.process_time()
    outcome = run_dag(nodes, deps, lambda node: None, parallelism=10)
    assert outcome.ok and len(outcome.completed) == len(nodes)
    assert all(outcome.completed.index(f"n{i - 1}") < outcome.completed.index(f"n{i}") for i in range(1, 200, 2))
    assert time.process_time() - started < 10


def test_ready_nodes_start_in_the_order_given():
    order: list[str] = []
    run_dag(["c", "a", "b", "d"], {"d": {"c"}}, order.append, parallelism=1)
    assert order == ["c", "a", "b", "d"]
