"""Plans as a pull-request comment: summary table, destructive steps first and flagged, changes
in collapsible sections, a Mermaid graph of what changes; always under 60,000 characters."""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from deployer import secrets
from deployer.plan import Plan, Step
from deployer.render.graph import to_mermaid
from deployer.render.text import ordered

LIMIT = 60_000
VALUE_LIMIT = 300
LIST_LIMIT = 20
DESTRUCTIVE_LIMIT = 200


def _short(value: Any) -> str:
    """A value for a table cell: long strings and lists elided with a count, never cut mid-structure."""
    if isinstance(value, list) and len(value) > LIST_LIMIT:
        value = value[:LIST_LIMIT] + [f"... {len(value) - LIST_LIMIT} more items"]
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) > VALUE_LIMIT:
        kind = "list" if isinstance(value, list) else "map" if isinstance(value, dict) else "string"
        size = len(value) if isinstance(value, (list, dict, str)) else len(text)
        unit = "items" if kind in ("list", "map") else "chars"
        text = json.dumps(f"({kind} of {size} {unit}, elided)")
    return text.replace("|", "\\|").replace("`", "'")


def _section(a: Step) -> list[str]:
    flag = " ⚠️ **destructive**" if a.destructive else ""
    summary = f"<summary><code>{a.action}</code> <b>{a.name}</b> ({a.type}){flag}</summary>"
    lines = ["<details>", summary, ""]
    if a.reason:
        lines.append(f"Reason: {a.reason}")
        lines.append("")
    if a.changes and a.action != "delete":
        lines += ["| property | before | after |", "|---|---|---|"]
        for c in a.changes:
            d = c.to_json()
            mark = " (forces replacement)" if c.replace else ""
            lines.append(f"| `{c.path}`{mark} | {_short(d['before'])} | {_short(d['after'])} |")
        lines.append("")
    lines.append("</details>")
    return lines


def _mermaid(plan: Plan, graph: nx.DiGraph | None) -> list[str]:
    if graph is None:
        return []
    changing = {a.name: a.action for a in plan.steps if a.action != "noop"}
    keep = set(changing)
    for n in changing:
        if n in graph:
            keep |= set(graph.predecessors(n)) | set(graph.successors(n))
    sub = graph.subgraph([n for n in keep if n in graph])
    if len(sub) == 0 or len(sub) > 150:
        return [f"_Graph omitted: {len(sub)} resources change or neighbour a change._"] if len(sub) else []
    return ["```mermaid", to_mermaid(sub, changing).rstrip(), "```"]


def render_markdown(plan: Plan, graph: nx.DiGraph | None = None) -> str:
    s = plan.summary()
    title = "Drift report" if plan.kind == "drift" else "Plan"
    head = [f"### deployer {title.lower()}: `{plan.stack}` ({plan.region})", ""]
    if not plan.has_changes:
        head.append("**No changes.**" if plan.kind == "plan" else "**No drift.**")
        return secrets.redact("\n".join(head) + "\n")
    head.append(f"**{s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
                f"{s['delete']} to delete** ({s['noop']} unchanged)")
    head += ["", "| create | update | replace | delete | unchanged |", "|---:|---:|---:|---:|---:|",
             f"| {s['create']} | {s['update']} | {s['replace']} | {s['delete']} | {s['noop']} |", ""]
    for w in plan.warnings:
        head.append(f"> ⚠️ {w}")
    changed = [a for a in ordered(plan.steps) if a.action != "noop"]
    destructive = [a for a in changed if a.destructive]
    if destructive:
        head += ["#### ⚠️ Destructive changes", ""]
        for a in destructive[:DESTRUCTIVE_LIMIT]:
            head.append(f"- **{a.action}** `{a.name}` ({a.type})" + (f": {a.reason}" if a.reason else ""))
        if len(destructive) > DESTRUCTIVE_LIMIT:
            head.append(f"- ... and {len(destructive) - DESTRUCTIVE_LIMIT} more destructive steps (see the JSON plan)")
        head.append("")
    graph_lines = _mermaid(plan, graph)
    tail = (["", "#### Graph of what changes", "", *graph_lines] if graph_lines else [])
    body: list[str] = ["#### Changes", ""]
    budget = LIMIT - len("\n".join(head + tail)) - 500
    used = 0
    for i, a in enumerate(changed):
        section = "\n".join(_section(a))
        if used + len(section) > budget:
            body.append(f"_... {len(changed) - i} more resources change; see the JSON plan for all of them._")
            break
        body.append(section)
        used += len(section) + 1
    return secrets.redact("\n".join(head + body + tail) + "\n")
