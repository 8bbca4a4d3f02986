"""One step's changes as lines a reviewer reads, shared by the text and Markdown plans.

Every value is shown in full (a long one folds only when the Markdown plan is over its budget and
the caller asks): scalars inline, maps and lists as indented JSON, one line per item, and a list of
scalars that changed as its items removed (`-`), added (`+`) and kept. Policy documents are maps,
so they read statement by statement, field by field.
"""

from __future__ import annotations

import json
from typing import Any

from deployer.plan import Op, Step

INDENT = "    "
ORDER_WORDS = {"create_before_destroy": "the new one is created first",
               "delete_before_create": "the old one is deleted first"}


def scalar(value: Any) -> str:
    return json.dumps(value, default=str)


def _block(value: Any) -> list[str]:
    """A value as JSON lines (2-space indent), keys in their order."""
    return json.dumps(value, indent=2, default=str).splitlines()


def _complex(value: Any) -> bool:
    return isinstance(value, dict | list) and bool(value)


FOLDED_HEAD = 60  # what a folded value still shows of its start


def _folded(text: str, fold: int | None) -> str:
    if fold is not None and len(text) > fold:
        return f"{text[:FOLDED_HEAD]}… ({len(text):,} characters, folded to fit the comment: see the JSON plan)"
    return text


def value_lines(sign: str, path: str, value: Any, fold: int | None = None) -> list[str]:
    """`+ path: value` (or `-`), a complex value on the lines after it."""
    if not _complex(value):
        return [f"{sign} {path}: {_folded(scalar(value), fold)}"]
    body = _block(value)
    if fold is not None and sum(len(line) for line in body) > fold:
        return [f"{sign} {path}: {_folded(json.dumps(value, default=str), 0)}"]
    return [f"{sign} {path}:"] + [f"{sign} {INDENT}{line}" for line in body]


def change_lines(change: dict[str, Any], forces: bool, fold: int | None = None) -> list[str]:
    """One change (its JSON form: values already masked and unknowns spelled out) as lines."""
    path, before, after = change["path"], change["before"], change["after"]
    mark = "  # forces replacement" if forces and change.get("replace") else ""
    if before is None:
        lines = value_lines("+", path, after, fold)
    elif after is None:
        lines = value_lines("-", path, before, fold)
    elif isinstance(before, list) and isinstance(after, list) and not any(map(_complex, (*before, *after))):
        lines = [f"~ {path}:"]
        lines += [f"- {INDENT}{scalar(v)}" for v in before if v not in after]
        lines += [f"+ {INDENT}{scalar(v)}" for v in after if v not in before]
        lines += [f"  {INDENT}{scalar(v)}" for v in after if v in before]
    elif _complex(before) or _complex(after):
        lines = value_lines("-", path, before, fold) + value_lines("+", path, after, fold)
        lines[0] = lines[0].replace("- ", "~ ", 1)
    else:
        lines = [f"~ {path}: {_folded(scalar(before), fold)} -> {_folded(scalar(after), fold)}"]
    lines[0] += mark
    return lines


def step_lines(step: Step, fold: int | None = None) -> list[str]:
    """The body of a step: what it destroys, then each change (a create shows every property)."""
    lines: list[str] = []
    if step.destroys:
        lines.append(f"! destroys: {step.destroys}")
    if step.blocked:
        lines.append(f"! apply refuses this step: {step.blocked}")
    if step.op is Op.REPLACE and step.order:
        lines.append(f"! order: {ORDER_WORDS[step.order.value]}")
    if step.keep_old:
        lines.append("! the old one is kept in AWS and forgotten (update_replace_policy: retain)")
    if step.op in (Op.DELETE, Op.FORGET, Op.DELETE_DEPOSED):
        return lines
    for change in step.changes:
        lines += change_lines(change.to_json(), step.op is Op.REPLACE, None if _never_folded(step, change) else fold)
    return lines


def _never_folded(step: Step, change: Any) -> bool:
    """A create's, a replacement's and a policy's values are shown whole, whatever the budget."""
    return step.op in (Op.CREATE, Op.REPLACE) or change.policy


def policy_changes(step: Step) -> int:
    return sum(1 for c in step.changes if c.policy)


def is_iam(step: Step) -> bool:
    """An identity or permissions change: a step of an IAM type, or one touching a policy document."""
    return step.changing and (step.type.startswith("AWS::IAM::") or policy_changes(step) > 0)
