"""Run a DAG of steps: each starts as soon as its own dependencies are done, up to N at once.

On the first failure nothing new starts, in-flight steps finish, and the caller learns which
steps completed (in completion order) and which never ran.
"""

from __future__ import annotations

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
    """Run `work(node)` for every node after all of deps[node]; stop starting work on failure or `stop`."""
    pending = list(nodes)
    remaining = {n: set(deps.get(n, set())) & set(pending) for n in pending}
    outcome = Outcome()
    running: dict[Future, str] = {}
    done: set[str] = set()
    stop = stop or threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        while True:
            if stop.is_set():
                outcome.interrupted = True
            if not outcome.failed and not stop.is_set():
                ready = [n for n in pending if not remaining[n] - done]
                for n in ready:
                    if len(running) >= parallelism:
                        break
                    pending.remove(n)
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
                if exc is None:
                    done.add(node)
                    outcome.completed.append(node)
                else:
                    outcome.failed[node] = exc
    outcome.skipped = pending
    return outcome
