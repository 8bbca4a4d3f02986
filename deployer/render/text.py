"""Plans and drift for people in a terminal.

What a reviewer reads first comes first: the counts, then every destructive step with what it
destroys, then identity and policy changes, then the rest; then each step in full, in that order.
Nothing is cut: every value of every change is shown whole (render/changes.py).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from deployer import secrets
from deployer.plan import Op, Plan, Step
from deployer.render.changes import INDENT, ORDER_WORDS, is_iam, policy_changes, step_lines

SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "noop": " "}
COLOURS = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red", "noop": None}
PHRASES = {"create": "will be created", "update": "will be updated in place", "replace": "must be replaced",
           "delete": "will be deleted", "noop": "no changes"}
ORDER = {"delete": 0, "replace": 1, "create": 2, "update": 3, "noop": 4}


def use_colour(no_color: bool, stream=None) -> bool:
    stream = stream or sys.stdout
    return not no_color and "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def ordered(steps: tuple[Step, ...] | list[Step]) -> list[Step]:
    """Destructive steps first, then identity and policy changes, then creates and updates."""
    return sorted(steps, key=lambda s: (0 if s.destructive else 1 if is_iam(s) else 2, ORDER[s.action]))


def counts(plan: Plan) -> str:
    s = plan.summary()
    return (f"{s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
            f"{s['delete']} to delete, {s['noop']} unchanged")


def headline(step: Step) -> str:
    """`name (type) id verb  # reason` — the one-line account of a step."""
    if step.retain:
        verb = "will be forgotten (deletion_policy: retain; it stays in AWS)"
    elif step.op is Op.DELETE_DEPOSED:
        verb = "will be deleted (the object a replacement left behind)"
    else:
        verb = PHRASES[step.action]
    head = f"{step.key} ({step.type})" + (f" {step.physical_id}" if step.physical_id else "") + f" {verb}"
    if step.reason and step.action in ("replace", "delete"):
        head += f"  # {step.reason}"
    return head


def summary_lines(plan: Plan) -> list[str]:
    """The part a reviewer reads first."""
    changed = ordered([s for s in plan.steps if s.changing])
    destructive = [s for s in changed if s.destructive]
    iam = [s for s in changed if is_iam(s) and not s.destructive]
    lines: list[str] = []
    if destructive:
        lines.append("Destructive:")
        for s in destructive:
            extra = f"; {ORDER_WORDS[s.order.value]}" if s.order else ""
            lines.append(f"  {SYMBOLS[s.action]} {headline(s)}{extra}")
            if s.destroys:
                lines.append(f"  {INDENT}destroys: {s.destroys}")
            if s.blocked:
                lines.append(f"  {INDENT}apply refuses this step: {s.blocked}")
    if iam:
        lines.append("Identity and policy changes:")
        for s in iam:
            n = policy_changes(s)
            lines.append(f"  {SYMBOLS[s.action]} {s.key} ({s.type})" + (f": {n} policy change(s)" if n else ""))
    rest = len(changed) - len(destructive) - len(iam)
    if rest and (destructive or iam):
        lines.append(f"Other changes: {rest}")
    return lines


def render_step(step: Step, colour: bool) -> list[str]:
    sym = SYMBOLS[step.action]
    if colour and COLOURS[step.action]:
        sym = click.style(sym, fg=COLOURS[step.action], bold=True)
    return [f"{sym} {headline(step)}", *(f"{INDENT}  {line}" for line in step_lines(step))]


def render_plan(plan: Plan, colour: bool = False) -> str:
    lines = [f"warning: {w}" for w in plan.warnings]
    changed = ordered([s for s in plan.steps if s.changing])
    if plan.kind == "drift":
        return secrets.redact("\n".join(lines + render_drift(plan, changed)) + "\n")
    if not changed:
        lines.append(f"No changes. Stack '{plan.stack}' matches the spec ({len(plan.steps)} resources).")
    else:
        lines.append(f"Plan for stack '{plan.stack}' ({plan.region}): {counts(plan)}.")
        summary = summary_lines(plan)
        if summary:
            lines += ["", *summary]
        lines.append("")
        for step in changed:
            lines += render_step(step, colour)
            lines.append("")
        lines.append(f"Plan: {counts(plan)}.")
    if plan.outputs:
        lines += ["", "Outputs:"]
        for k, v in plan.outputs.items():
            lines.append(f"  {k} = {_output(v)}")
    return secrets.redact("\n".join(lines) + "\n")


def _output(value: Any) -> str:
    from deployer.plan import display

    return json.dumps(display(value), default=str)


def render_drift(plan: Plan, changed: list[Step]) -> list[str]:
    if not changed:
        return [f"No drift: every resource of stack '{plan.stack}' matches the last apply."]
    lines = [f"Drift in stack '{plan.stack}' (live values that differ from the last apply):", ""]
    for step in changed:
        what = "was deleted outside deployer" if step.action == "delete" else "has drifted"
        lines.append(f"~ {step.name} ({step.type}) {step.physical_id or ''} {what}")
        for c in step.changes:
            d = c.to_json()
            lines.append(f"{INDENT}  ~ {c.path}: applied {json.dumps(d['before'], default=str)}, "
                         f"live {json.dumps(d['after'], default=str)}")
    lines += ["", f"Drift: {len(changed)} resource(s) differ from the last apply."]
    return lines
