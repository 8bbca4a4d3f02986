"""Recording the API calls a handler makes, for tests that check what was sent (not only what moto kept)."""

from __future__ import annotations

import copy
from typing import Any


class Calls:
    """Every API call's parameters, as the handler passed them (a provide-client-params hook)."""

    def __init__(self) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.made.append((model.name, copy.deepcopy(params)))

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [p for name, p in self.made if name == operation]

    def names(self) -> list[str]:
        return [name for name, _ in self.made]

    def mutating(self) -> list[str]:
        """The operations that change something, in order (deployer's own notion of mutating)."""
        from deployer.aws import is_mutating

        return [n for n in self.names() if is_mutating(n)]

    def clear(self) -> None:
        self.made.clear()
