"""Run a DAG of steps: each starts as soon as its own dependencies are done, up to N at once.

On the first failure nothing new starts, in-flight steps finish, and the caller learns which
steps completed (in completion order) and which never ran.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field


@dataclass
class Outcome:
    completed: list[str] = field(default_factory=list)
    failed: dict[str, BaseException] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed


def run_dag(
    nodes: Iterable[str],
    deps: dict[str, set[str]],
    work: Callable[[str], None],
    parallelism: int = 10,
    stop: threading.Event | None = None,
) -> Outcome:
    """Run `work(node)` for every node after all of deps[node]; stop starting work on failure or `stop`.
    Ready nodes start in the order given. Each completion costs what it unblocks (a count of what each
    node still waits for, a heap of the ready), so a run is linear in nodes and edges."""
    order = list(nodes)
    index = {n: i for i, n in enumerate(order)}
    blockers = {n: set(deps.get(n, set())) & index.keys() for n in order}
    dependents: dict[str, list[str]] = {}
    for n, needed in blockers.items():
        for d in needed:
            dependents.setdefault(d, []).append(n)
    ready = [index[n] for n in order if not blockers[n]]
    heapq.heapify(ready)
    started: set[str] = set()
    outcome = Outcome()
    running: dict[Future, str] = {}
    stop = stop or threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        while True:
            if stop.is_set():
                outcome.interrupted = True
            if not outcome.failed and not stop.is_set():
                while ready and len(running) < parallelism:
                    n = order[heapq.heappop(ready)]
                    started.add(n)
                    running[pool.submit(work, n)] = n
            if not running:
                break
            try:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED, timeout=0.5)
            except KeyboardInterrupt:  # Ctrl-C: start nothing new, let in-flight steps finish
                stop.set()
                outcome.interrupted = True
                continue
            for fut in finished:
                node = running.pop(fut)
                exc = fut.exception()
                if exc is not None:
                    outcome.failed[node] = exc
                    continue
                outcome.completed.append(node)
                for d in dependents.get(node, ()):
                    blockers[d].discard(node)
                    if not blockers[d]:
                        heapq.heappush(ready, index[d])
    outcome.skipped = [n for n in order if n not in started]
    return outcome
