"""Plans as a pull-request comment, always under 60,000 characters.

The reviewer reads, in order: the counts, every destructive step with what it destroys, the
identity and policy changes, then each changing resource as a `diff` block (a long one inside a
collapsible `<details>`), destructive steps first, then IAM, creates, updates; then a Mermaid graph
of what changes. Every value is shown in full when the comment fits. When it does not, the comment
gives up detail in this order, announcing each fold: the unchanged neighbours in the graph, long
values of plain in-place updates, the bodies of plain updates, the graph, the list of plain updates,
the bodies of creates. Destructive steps and IAM policy changes are never folded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import networkx as nx

from deployer import secrets
from deployer.plan import Op, Plan, Step
from deployer.render.changes import ORDER_WORDS, is_iam, policy_changes, step_lines
from deployer.render.graph import to_mermaid
from deployer.render.text import counts, ordered

LIMIT = 60_000
OPEN_LINES = 12          # a body longer than this goes inside <details>
FOLD = 120               # the longest value of a plain update kept once values fold
GRAPH_NODES = 150        # a larger graph is not drawn (Mermaid renders nothing useful)


@dataclass(frozen=True)
class Detail:
    """How much of the plan a rendering keeps; the levels in LEVELS give up detail in order."""
    neighbours: bool = True        # the graph shows unchanged neighbours of what changes
    fold: int | None = None        # long values of plain updates folded to this many characters
    update_bodies: bool = True     # plain updates show their changes
    graph: bool = True
    update_list: bool = True       # plain updates listed one per line (else counted)
    create_bodies: bool = True
    create_list: bool = True       # creates listed one per line (else counted)


def _levels() -> tuple[Detail, ...]:
    """Each level gives up one more kind of detail than the one before it."""
    steps = ({"neighbours": False}, {"fold": FOLD}, {"update_bodies": False}, {"graph": False},
             {"update_list": False}, {"create_bodies": False}, {"create_list": False})
    levels, settings = [Detail()], {}
    for step in steps:
        settings.update(step)
        levels.append(Detail(**settings))
    return tuple(levels)


LEVELS = _levels()


def _protected(step: Step) -> bool:
    """Never folded: what destroys something, and identity and permission changes."""
    return step.destructive or is_iam(step)


def _fence(body: list[str], lang: str) -> list[str]:
    """A fenced block whose fence is longer than any backtick run inside it (CommonMark)."""
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", *body, fence]


def _escape(text: str) -> str:
    """Text for inline HTML and Markdown (a step's name, type and id come from the spec)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """An inline code span that no backtick inside it ends early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    tick = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{tick}{pad}{text}{pad}{tick}"


def _section(step: Step, detail: Detail) -> list[str]:
    """One changing resource: its headline, then its changes as a diff (long ones collapsed)."""
    flag = "⚠️ " if step.destructive else ""
    lines = [f"{flag}**{step.action}** {_code(step.key)} ({_escape(step.type)})"
             + (f" {_code(step.physical_id)}" if step.physical_id else "")
             + (f" — {_escape(step.reason)}" if step.reason and step.action in ("replace", "delete") else "")]
    plain_update = not _protected(step) and step.op is Op.UPDATE
    if plain_update and not detail.update_bodies:
        return lines + ["", f"_{len(step.changes)} change(s) folded to fit the comment: see the JSON plan._", ""]
    if step.op is Op.CREATE and not _protected(step) and not detail.create_bodies:
        return lines + ["", f"_{len(step.changes)} propert(ies) folded to fit the comment: see the JSON plan._", ""]
    body = step_lines(step, detail.fold if plain_update else None)
    if not body:
        return lines + [""]
    block = _fence(body, "diff")
    if len(body) > OPEN_LINES:
        summary = f"{len(body)} lines" + (f", {policy_changes(step)} policy change(s)" if policy_changes(step) else "")
        return lines + ["", "<details>", f"<summary>{summary}</summary>", "", *block, "", "</details>", ""]
    return lines + ["", *block, ""]


def _summary(changed: list[Step]) -> list[str]:
    """Destructive steps with what they destroy, then identity and policy changes."""
    out: list[str] = []
    destructive = [s for s in changed if s.destructive]
    if destructive:
        out += ["#### ⚠️ Destructive changes", "", "| step | resource | destroys | order |", "|---|---|---|---|"]
        for s in destructive:
            order = ORDER_WORDS[s.order.value] if s.order else ""
            where = f"{_code(s.key)} ({_cell(s.type)})" + (f" {_code(s.physical_id)}" if s.physical_id else "")
            why = f"{s.action}: {s.reason}" if s.reason else s.action
            out.append(f"| {_cell(why)} | {where} | {_cell(s.destroys or '')} | {order} |")
        out.append("")
        out += [f"> [!CAUTION]\n> {_escape(line)}" for line in plan_blocked(destructive)]
        out += [""] if any(s.blocked for s in destructive) else []
    iam = [s for s in changed if is_iam(s) and not s.destructive]
    if iam:
        out += ["#### 🔑 Identity and policy changes", ""]
        for s in iam:
            n = policy_changes(s)
            out.append(f"- **{s.action}** {_code(s.key)} ({_escape(s.type)})" + (f": {n} policy change(s)" if n else ""))
        out.append("")
    return out


def plan_blocked(steps: list[Step]) -> list[str]:
    return [f"apply refuses {s.key}: {s.blocked}" for s in steps if s.blocked]


def _cell(text: str) -> str:
    return _escape(text).replace("|", "\\|").replace("\n", " ")


def _mermaid(plan: Plan, graph: nx.DiGraph | None, neighbours: bool) -> tuple[list[str], str | None]:
    """The graph block and, when it was left out or trimmed, why."""
    if graph is None:
        return [], None
    changing = {s.name: s.action for s in plan.steps if s.changing}
    keep = {n for n in changing if n in graph}
    if neighbours:
        for n in list(keep):
            keep |= set(graph.predecessors(n)) | set(graph.successors(n))
    if not keep:
        return [], None
    if len(keep) > GRAPH_NODES:
        return [], f"the graph of what changes ({len(keep)} resources) is not drawn"
    note = None if neighbours else "the graph shows only what changes, not its unchanged neighbours"
    return ["#### Graph of what changes", "", *_fence(to_mermaid(graph.subgraph(keep), changing).splitlines(),
                                                      "mermaid"), ""], note


def _render(plan: Plan, graph: nx.DiGraph | None, detail: Detail) -> tuple[str, list[str], str]:
    """(head, one block per listed step, tail) of the comment at this level of detail."""
    s = plan.summary()
    lines = [f"### deployer plan: {_code(plan.stack)} ({plan.region})", "",
             f"**{counts(plan)}**", "",
             "| create | update | replace | delete | unchanged |", "|---:|---:|---:|---:|---:|",
             f"| {s['create']} | {s['update']} | {s['replace']} | {s['delete']} | {s['noop']} |", ""]
    lines += [f"> ⚠️ {_escape(w)}" for w in plan.warnings] + ([""] if plan.warnings else [])
    changed = [step for step in ordered(plan.steps) if step.changing]
    lines += _summary(changed)
    listed = [st for st in changed if _protected(st) or (detail.update_list if st.op is Op.UPDATE else
                                                         detail.create_list if st.op is Op.CREATE else True)]
    unlisted = {op: sum(1 for st in changed if st.op is op and st not in listed) for op in (Op.UPDATE, Op.CREATE)}
    graph_lines, graph_note = _mermaid(plan, graph, detail.neighbours) if detail.graph else ([], None)
    folds = [note for keep, note in (
        (detail.fold is None, f"values of in-place updates longer than {detail.fold} characters are folded"),
        (detail.update_bodies, "the changes of in-place updates outside IAM are folded"),
        (not unlisted[Op.UPDATE], f"{unlisted[Op.UPDATE]} in-place update(s) outside IAM are not listed"),
        (detail.create_bodies, "the properties of creates outside IAM are folded"),
        (not unlisted[Op.CREATE], f"{unlisted[Op.CREATE]} create(s) outside IAM are not listed"),
        (detail.graph or graph is None, "the graph of what changes is not drawn"),
        (graph_note is None, graph_note)) if not keep]
    if folds:
        lines += ["> [!NOTE]", "> Folded to fit the comment (the JSON plan, `--out`, has everything):",
                  *(f"> - {f}" for f in folds), ""]
    lines += ["#### Changes", ""]
    return "\n".join(lines) + "\n", ["\n".join(_section(st, detail)) + "\n" for st in listed], \
        "\n".join(graph_lines) + ("\n" if graph_lines else "")


def _render_drift(plan: Plan) -> str:
    changed = [s for s in ordered(plan.steps) if s.changing]
    lines = [f"### deployer drift report: {_code(plan.stack)} ({plan.region})", ""]
    if not changed:
        return "\n".join(lines + ["**No drift.**"]) + "\n"
    lines += [f"**{len(changed)} resource(s) differ from the last apply.**", "",
              "| resource | type | drift |", "|---|---|---|"]
    for step in changed:
        what = "deleted outside deployer" if step.action == "delete" else f"{len(step.changes)} propert(ies) differ"
        lines.append(f"| {_code(step.key)} | {_cell(step.type)} | {what} |")
    lines.append("")
    for step in changed:
        what = "was deleted outside deployer" if step.action == "delete" else "has drifted"
        body = [f"~ {c['path']}: applied {_json(c['before'])}, live {_json(c['after'])}"
                for c in (ch.to_json() for ch in step.changes)]
        lines += [f"**{step.name}** ({_escape(step.type)}) {what}", ""]
        lines += [*_fence(body, "diff"), ""] if body else []
    return "\n".join(lines) + "\n"


def _json(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


def render_markdown(plan: Plan, graph: nx.DiGraph | None = None) -> str:
    """The comment: the fullest rendering under LIMIT (destructive and IAM steps always whole)."""
    if plan.kind == "drift":
        return secrets.redact(_render_drift(plan))
    if not plan.has_changes:
        return secrets.redact(f"### deployer plan: {_code(plan.stack)} ({plan.region})\n\n**No changes.** "
                              f"{len(plan.steps)} resource(s) match the spec.\n")
    for detail in LEVELS:
        head, sections, tail = _render(plan, graph, detail)
        text = secrets.redact(head + "".join(sections) + tail)
        if len(text) <= LIMIT:
            return text
    return _cut(head, sections)


def _cut(head: str, sections: list[str]) -> str:
    """The last resort when even the destructive and IAM steps overflow: whole sections while they fit."""
    note = "\n_{} more resource(s) do not fit a comment: see the JSON plan (`--out`)._\n"
    out = secrets.redact(head)
    for i, section in enumerate(sections):
        shown = secrets.redact(section)
        if len(out) + len(shown) + len(note) + 10 > LIMIT:
            return out + note.format(len(sections) - i)
        out += shown
    return out
