"""Plans and drift for people in a terminal: destructive steps first, only changed properties."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from deployer import secrets
from deployer.plan import Plan, Step

SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "noop": " "}
COLOURS = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red", "noop": None}
PHRASES = {"create": "will be created", "update": "will be updated in place", "replace": "must be replaced",
           "delete": "will be deleted", "noop": "no changes"}
ORDER = {"delete": 0, "replace": 1, "create": 2, "update": 3, "noop": 4}


def use_colour(no_color: bool, stream=None) -> bool:
    stream = stream or sys.stdout
    return not no_color and "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def ordered(actions: list[Step]) -> list[Step]:
    """Destructive steps first, then creates and updates; stable within each kind."""
    return sorted(actions, key=lambda a: (0 if a.destructive else 1, ORDER[a.action]))


def _fmt(value: Any, limit: int = 200) -> str:
    if isinstance(value, str):
        text = json.dumps(value)
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    if len(text) > limit:
        text = text[: limit - 20] + f"... ({len(text)} chars)"
    return text


def render_action(a: Step, colour: bool) -> list[str]:
    sym = SYMBOLS[a.action]
    style = (lambda s: click.style(s, fg=COLOURS[a.action], bold=True)) if colour and COLOURS[a.action] else (lambda s: s)
    head = f"{style(sym)} {a.name} ({a.type})"
    if a.physical_id:
        head += f" {a.physical_id}"
    head += " " + PHRASES[a.action] if not a.retain else " will be forgotten (deletion_policy: retain; it stays in AWS)"
    if a.action == "noop":
        head = f"  {a.name} ({a.type}) no changes"
    if a.reason and a.action in ("replace", "delete"):
        head += f"  # {a.reason}"
    lines = [head]
    for c in a.changes:
        d = c.to_json()
        mark = "  # forces replacement" if c.replace and a.action == "replace" else ""
        if a.action == "create":
            lines.append(f"      + {c.path}: {_fmt(d['after'])}")
        elif a.action == "delete":
            continue
        elif d["before"] is None:
            lines.append(f"      + {c.path}: {_fmt(d['after'])}{mark}")
        elif d["after"] is None:
            lines.append(f"      - {c.path}: {_fmt(d['before'])}{mark}")
        else:
            lines.append(f"      ~ {c.path}: {_fmt(d['before'])} -> {_fmt(d['after'])}{mark}")
    return lines


def render_plan(plan: Plan, colour: bool = False) -> str:
    lines: list[str] = []
    for w in plan.warnings:
        lines.append(f"warning: {w}")
    changed = [a for a in ordered(plan.steps) if a.action != "noop"]
    if plan.kind == "drift":
        if not changed:
            lines.append(f"No drift: every resource of stack '{plan.stack}' matches the last apply.")
            return secrets.redact("\n".join(lines) + "\n")
        lines.append(f"Drift in stack '{plan.stack}' (live values that differ from the last apply):")
        lines.append("")
        for a in changed:
            what = "was deleted outside deployer" if a.action == "delete" else "has drifted"
            lines.append(f"~ {a.name} ({a.type}) {a.physical_id or ''} {what}")
            for c in a.changes:
                d = c.to_json()
                lines.append(f"      ~ {c.path}: applied {_fmt(d['before'])}, live {_fmt(d['after'])}")
        lines.append("")
        lines.append(f"Drift: {len(changed)} resource(s) differ from the last apply.")
        return secrets.redact("\n".join(lines) + "\n")
    if not changed:
        lines.append(f"No changes. Stack '{plan.stack}' matches the spec ({len(plan.steps)} resources).")
    else:
        lines.append(f"Plan for stack '{plan.stack}' ({plan.region}):")
        lines.append("")
        for a in changed:
            lines += render_action(a, colour)
            lines.append("")
        s = plan.summary()
        lines.append(f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
                     f"{s['delete']} to delete, {s['noop']} unchanged.")
    if plan.outputs:
        lines.append("")
        lines.append("Outputs:")
        for k, v in plan.outputs.items():
            lines.append(f"  {k} = {_fmt(str(v) if not isinstance(v, (dict, list, int, float, bool)) else v)}")
    return secrets.redact("\n".join(lines) + "\n")
