"""SIGINT, SIGTERM and SIGHUP stop a command the same graceful way.

While an apply or destroy runs, the first signal asks it to stop (the registered callback: start
nothing new, let in-flight steps finish, roll back, release the lock); a second one aborts at once,
as Terraform's "two interrupts" do. At any other moment a signal aborts the command (its lock is
released on the way out). The exit status is 128 + the first signal's number: 130 for Ctrl-C, 143
for SIGTERM, 129 for SIGHUP.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_received: list[int] = []
_stops: list[Callable[[], None]] = []


def _handle(signum: int, frame: Any) -> None:
    _received.append(signum)
    if len(_received) == 1 and _stops:
        for stop in list(_stops):
            stop()
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Install the handlers for one command (only the main thread can)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    previous = {s: signal.signal(s, _handle) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def stopping_with(stop: Callable[[], None]) -> Iterator[None]:
    """While the block runs, the first signal calls `stop` instead of aborting."""
    _stops.append(stop)
    try:
        yield
    finally:
        _stops.remove(stop)


def exit_status() -> int:
    """128 + the first signal received (130 when none was: a KeyboardInterrupt raised otherwise)."""
    return 128 + (_received[0] if _received else signal.SIGINT)


def signal_name() -> str:
    return signal.Signals(_received[0]).name if _received else "SIGINT"
