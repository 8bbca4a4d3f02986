"""What every Markdown plan must be: under the comment limit and well-formed for a Markdown parser
(markdown-it, CommonMark with GFM tables): every fence closed, every table row as wide as its
header, `<details>` balanced, each Mermaid block a flowchart of the subset deployer writes."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

LIMIT = 60_000
NODE = re.compile(r'^\s{4}([A-Za-z0-9_]+)\["([^"]*)"\]$')
EDGE = re.compile(r"^\s{4}([A-Za-z0-9_]+) --> ([A-Za-z0-9_]+)$")
CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
# What an elided or cut value would say (the renderers of old wrote "(list of 3 items, elided)").
ELISION_MARKERS = ("elided", "folded", " chars)", "characters)", "…", "...")


def parse_mermaid(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """A strict reader of the flowchart subset we emit: every line must be a header, node or edge."""
    lines = text.strip().splitlines()
    assert lines[0] == "flowchart LR"
    nodes, edges = set(), set()
    for line in lines[1:]:
        if m := NODE.match(line):
            nodes.add(m.group(1))
        elif m := EDGE.match(line):
            edges.add((m.group(1), m.group(2)))
        else:
            assert line.strip().startswith(("class ", "classDef ")), line
    assert {n for e in edges for n in e} <= nodes
    return nodes, edges


def check_markdown(text: str, destructive: list[str] | None = None, table: bool = True) -> list:
    """The parsed tokens of a well-formed comment; `destructive` steps named before the changes."""
    assert len(text) < LIMIT, len(text)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    lines = text.splitlines()
    for t in tokens:
        if t.type == "fence":
            closing = lines[t.map[1] - 1].strip() if t.map[1] <= len(lines) else ""
            assert closing == t.markup, f"fence opened on line {t.map[0] + 1} is not closed"
            if t.info.strip() == "mermaid":
                parse_mermaid(t.content)
        if t.type == "table_open":
            widths = {len(CELL_SEPARATOR.split(line.strip().strip("|"))) for line in lines[t.map[0]:t.map[1]]}
            assert len(widths) == 1, f"table on line {t.map[0] + 1} has rows of different widths {widths}"
    html = "".join(t.content for t in tokens if t.type == "html_block")
    html += "".join(c.content for t in tokens if t.children for c in t.children if c.type == "html_inline")
    assert html.count("<details>") == html.count("</details>"), "unbalanced <details>"
    if table:
        assert any(t.type == "table_open" for t in tokens)
    if destructive:
        head = text.index("Destructive changes")
        changes = text.index("#### Changes")
        assert head < changes
        for name in destructive:
            assert text.index(f"`{name}`") < changes
    return tokens
