"""Resource handlers, one module per AWS service; `handler_for` finds the one for a type."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from deployer.resources.base import Handler


@functools.cache
def registry() -> dict[str, Handler]:
    """Every handler class defined in the service modules of this package, by type name."""
    found: dict[str, Handler] = {}
    for mod in pkgutil.iter_modules(__path__):
        if mod.name == "base" or mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Handler) and getattr(obj, "type_name", None) \
                    and obj.__module__ == module.__name__:
                found[obj.type_name] = obj()
    return found


def handler_for(type_name: str) -> Handler | None:
    return registry().get(type_name)
