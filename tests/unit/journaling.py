"""What the state-backend tests share: a resource entry, and many threads journaling at once as the
applier's steps do (mutate and queue under one lock, wait for durability outside it)."""

from __future__ import annotations

import threading

from deployer.state.model import ResourceState, State


def entry(pid: str, pending: str | None = None) -> ResourceState:
    return ResourceState(type="AWS::SQS::Queue", physical_id=pid, region="us-east-1", pending=pending)


def create_from_threads(state: State, count: int) -> None:
    """Queues Q0..Q{count-1}, each recorded pending by a thread of its own."""
    lock = threading.Lock()

    def work(i: int) -> None:
        with lock:  # the applier's lock: mutate and queue in serial order
            state.resources[f"Q{i}"] = entry(f"q{i}", pending="create")
            state.serial += 1
            durable = state.journal.append(state, [f"Q{i}"])
        durable()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
