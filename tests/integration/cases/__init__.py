"""The table of resource-type cases the lifecycle suite runs: one `Case` per type.

Each case says how to create the resource, which in-place updates to make (one property group
each), which change forces a replacement, how to drift it out of band with plain boto3, which
properties to remove (they must reset to the service default), and how to tell it is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Case:
    id: str
    type: str
    props: dict[str, Any]
    updates: list[dict[str, Any]]
    replace: dict[str, Any] | None
    drift: Callable[[Any, str], None]  # (boto client factory, physical id) -> make an out-of-band change
    exists: Callable[[Any, str], bool]  # (boto client factory, physical id) -> does it exist?
    remove: list[str | tuple[str, ...]] = field(default_factory=list)  # a tuple: removed in one step
    support: dict[str, Any] = field(default_factory=dict)  # other resources this one needs
    drift_gone: bool = False  # the out-of-band change deletes the resource
    depends_on: list[str] = field(default_factory=list)  # ordering the properties do not imply
    # made out of band before the first apply, with plain boto3 (what no deployer type makes: an RDS
    # parameter group); the account is reset after each case
    setup: Callable[[Any], None] | None = None


def all_cases() -> list[Case]:
    """Every CASES list of every module in this package (one module per service family)."""
    import importlib
    import pkgutil

    cases: list[Case] = []
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        cases += getattr(importlib.import_module(f"{__name__}.{mod.name}"), "CASES", [])
    return cases
