"""The dependency graph of a stack: an edge u -> v means v needs u, labelled with the fields that made it."""

from __future__ import annotations

import networkx as nx

from deployer.errors import Problem
from deployer.spec.model import Stack
from deployer.spec.refs import Ref, walk_refs
from deployer.spec.yamlmarks import format_path


def build_graph(stack: Stack) -> nx.DiGraph:
    """Nodes are logical ids (with their type); edges carry `fields`, the property paths that reference."""
    g = nx.DiGraph()
    for name, res in stack.resources.items():
        g.add_node(name, type=res.type)
    for name, res in stack.resources.items():
        for path, ref in walk_refs(res.properties, ("resources", name, "properties")):
            if isinstance(ref, Ref) and ref.kind == "resource" and ref.target in stack.resources and ref.target != name:
                _edge(g, ref.target, name, format_path(path[2:]), path)
        for i, dep in enumerate(res.depends_on):
            if dep in stack.resources and dep != name:
                _edge(g, dep, name, "depends_on", ("resources", name, "depends_on", i))
    return g


def _edge(g: nx.DiGraph, src: str, dst: str, field: str, path: tuple) -> None:
    if g.has_edge(src, dst):
        g[src][dst]["fields"].append(field)
    else:
        g.add_edge(src, dst, fields=[field], path=path)


def cycle_problems(stack: Stack, g: nx.DiGraph) -> list[Problem]:
    """One problem per cycle, naming every member and the field that makes each edge."""
    problems = []
    seen: set[frozenset] = set()
    for component in nx.strongly_connected_components(g):
        if len(component) < 2:
            continue
        key = frozenset(component)
        if key in seen:
            continue
        seen.add(key)
        cycle = nx.find_cycle(g.subgraph(component))
        members = [u for u, _ in cycle] + [cycle[0][0]]
        why = "; ".join(f"{v}.{g[u][v]['fields'][0]} uses {u}" for u, v in cycle)
        first_edge = g[cycle[0][0]][cycle[0][1]]
        problems.append(Problem(stack.location(first_edge["path"]), format_path(first_edge["path"]),
                                f"dependency cycle: {' -> '.join(reversed(members))} ({why})"))
    return problems


def subgraph_for_targets(g: nx.DiGraph, targets: list[str], excludes: list[str] | None = None) -> set[str]:
    """--target keeps each target and everything it depends on; --exclude drops each and its dependents."""
    keep = set(g.nodes) if not targets else set()
    for t in targets:
        keep |= {t} | nx.ancestors(g, t)
    for x in excludes or []:
        if x in g:
            keep -= {x} | nx.descendants(g, x)
    return keep
