"""The one way deployer waits where botocore has no waiter: poll until a condition holds, or repeat a
call while its error is known to be passing (IAM propagation, a dependency being released, an
update in progress). Bounded by a budget of seconds, with exponential backoff.

The budget counts the pauses taken, not the wall clock, so a test that replaces SLEEP still ends
every wait. Never used to repeat a call whose failure is not understood.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

SLEEP: Callable[[float], None] = time.sleep


def _pauses(budget: float, first: float, longest: float):
    """The pauses of one wait: first, doubling up to longest, until they add up to budget."""
    waited, pause = 0.0, first
    while waited < budget:
        step = min(pause, budget - waited)
        yield step
        waited += step
        pause = min(pause * 2, longest)


def until(probe: Callable[[], T], what: str, budget: float = 300.0, first: float = 1.0,
          longest: float = 10.0) -> T:
    """probe() until it returns a truthy value, which is returned; TimeoutError naming `what` once
    the pauses reach `budget` seconds."""
    result = probe()
    for pause in _pauses(budget, first, longest):
        if result:
            return result
        SLEEP(pause)
        result = probe()
    if result:
        return result
    raise TimeoutError(f"{what}: still not done after {budget:.0f}s")


def retrying(call: Callable[[], T], passing: Callable[[Exception], bool], budget: float = 60.0,
             first: float = 1.0, longest: float = 10.0) -> T:
    """call() again while it fails with an error `passing` says clears by itself, for up to `budget`
    seconds of pauses; then (or for any other error) the error is raised."""
    pauses = _pauses(budget, first, longest)
    while True:
        try:
            return call()
        except Exception as exc:
            if not passing(exc):
                raise
            pause = next(pauses, None)
            if pause is None:
                raise
        SLEEP(pause)
