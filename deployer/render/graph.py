"""The dependency graph as DOT, Mermaid or JSON (edges point from a dependency to its dependent)."""

from __future__ import annotations

import json
import re

import networkx as nx


def _mermaid_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def to_mermaid(g: nx.DiGraph, highlight: dict[str, str] | None = None) -> str:
    lines = ["flowchart LR"]
    for node in sorted(g.nodes):
        label = f"{node}<br/>{g.nodes[node].get('type', '')}"
        lines.append(f'    {_mermaid_id(node)}["{label}"]')
    for u, v in sorted(g.edges):
        lines.append(f"    {_mermaid_id(u)} --> {_mermaid_id(v)}")
    for node, cls in sorted((highlight or {}).items()):
        if node in g:
            lines.append(f"    class {_mermaid_id(node)} {cls}")
    if highlight:
        lines += ["    classDef create fill:#d4f8d4,stroke:#2a2",
                  "    classDef update fill:#fff3c4,stroke:#b90",
                  "    classDef replace fill:#ffd8b0,stroke:#d60",
                  "    classDef delete fill:#ffd0d0,stroke:#c22"]
    return "\n".join(lines) + "\n"


def to_dot(g: nx.DiGraph) -> str:
    lines = ["digraph deployer {", "  rankdir=LR;", "  node [shape=box];"]
    for node in sorted(g.nodes):
        lines.append(f'  "{node}" [label="{node}\\n{g.nodes[node].get("type", "")}"];')
    for u, v in sorted(g.edges):
        fields = ", ".join(g[u][v].get("fields", []))
        lines.append(f'  "{u}" -> "{v}" [label="{fields}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(g: nx.DiGraph) -> str:
    doc = {
        "nodes": [{"name": n, "type": g.nodes[n].get("type", "")} for n in sorted(g.nodes)],
        "edges": [{"from": u, "to": v, "fields": g[u][v].get("fields", [])} for u, v in sorted(g.edges)],
    }
    return json.dumps(doc, indent=2) + "\n"
