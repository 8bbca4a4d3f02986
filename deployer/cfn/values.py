"""The values a template evaluates to, before they become deployer model values.

A known value is plain Python data. What is known only at apply time is a `Text` (a string whose
parts include references such as `${Bucket.Arn}`) or a `Func` (an intrinsic kept in its JSON form).
Containers written in the template are `LDict`/`LList`, which remember where each item was written,
so the model's marks point at the template's lines. `IfVal` and `Jinja` exist only for `convert`,
where a parameter's value is not fixed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from deployer.errors import Location
from deployer.spec.refs import escape


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class _NoValue:
    """AWS::NoValue: the property or list item is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NOVALUE: Any = _NoValue()


@dataclass(frozen=True)
class Part:
    """One reference inside a Text: the body of a deployer `${...}`, and its load-time value if any."""

    ref: str
    known: Any = MISSING

    def __str__(self) -> str:
        return "${" + self.ref + "}"


@dataclass(frozen=True)
class Text:
    """A string made of literal pieces (str) and references (Part)."""

    parts: tuple

    def deployer(self) -> str | Any:
        """As a deployer string: literals with `${` escaped, references as `${...}`."""
        return "".join(str(p) if isinstance(p, Part) else escape(p) for p in self.parts)


@dataclass(frozen=True)
class Func:
    """An intrinsic whose arguments are known only at apply time (deployer.spec.functions)."""

    name: str
    args: Any


@dataclass(frozen=True, eq=False)
class IfVal:
    """convert only: Fn::If on a condition that depends on parameters (a Jinja expression)."""

    expr: str
    then: Any
    other: Any


@dataclass(frozen=True)
class Jinja:
    """convert only: a load-time value computed from parameters, as a Jinja expression."""

    expr: str
    value: Any


class LDict(dict):
    """A mapping written in the template; `locs` holds each key's location."""

    def __init__(self, items: dict, loc: Location | None = None, locs: dict | None = None):
        super().__init__(items)
        self.loc = loc
        self.locs = locs or {}


class LList(list):
    """A list written in the template; `locs` holds each item's location."""

    def __init__(self, items: list, loc: Location | None = None, locs: list | None = None):
        super().__init__(items)
        self.loc = loc
        self.locs = locs or [None] * len(items)


def jinja_literal(value: Any) -> str:
    """A known value as a Jinja literal. Strings are deployer text (`${` written `$${`), as the
    variables a template sees are (deployer.spec.template), so joins and comparisons agree."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(escape(value))
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        # ' }' so that nested mappings never close with '}}', which would end a Jinja expression
        return "{" + ", ".join(f"{json.dumps(escape(str(k)))}: {jinja_literal(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(jinja_literal(v) for v in value) + "]"
    raise TypeError(f"no Jinja literal for {value!r}")
