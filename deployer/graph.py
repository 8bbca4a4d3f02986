"""The dependency graph of a stack: an edge u -> v means v needs u, labelled with the fields that made it.

networkx is imported only when a graph is built: `validate` checks for cycles on plain adjacency
sets and builds the networkx graph only to describe a cycle it found (importing networkx costs more
than validating a small stack)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from deployer.errors import Problem
from deployer.spec.model import Stack
from deployer.spec.refs import Ref, walk_refs
from deployer.spec.yamlmarks import format_path

if TYPE_CHECKING:
    import networkx as nx


def _edges(stack: Stack) -> Iterator[tuple[str, str, str, tuple]]:
    """(needed, needing, field, path) for every reference to another resource and every depends_on."""
    for name, res in stack.resources.items():
        for path, ref in walk_refs(res.properties, ("resources", name, "properties")):
            if isinstance(ref, Ref) and ref.kind == "resource" and ref.target in stack.resources and ref.target != name:
                yield ref.target, name, format_path(path[2:]), path
        for i, dep in enumerate(res.depends_on):
            if dep in stack.resources and dep != name:
                yield dep, name, "depends_on", ("resources", name, "depends_on", i)


def build_graph(stack: Stack) -> nx.DiGraph:
    """Nodes are logical ids (with their type); edges carry `fields`, the property paths that reference."""
    import networkx as nx

    g = nx.DiGraph()
    for name, res in stack.resources.items():
        g.add_node(name, type=res.type)
    for src, dst, field, path in _edges(stack):
        _edge(g, src, dst, field, path)
    return g


def is_acyclic(stack: Stack) -> bool:
    """Whether the stack's dependencies have no cycle (Kahn's algorithm on plain sets)."""
    needs: dict[str, set[str]] = {name: set() for name in stack.resources}
    needed_by: dict[str, set[str]] = {name: set() for name in stack.resources}
    for src, dst, _, _ in _edges(stack):
        needs[dst].add(src)
        needed_by[src].add(dst)
    ready = [name for name, deps in needs.items() if not deps]
    done = 0
    while ready:
        node = ready.pop()
        done += 1
        for nxt in needed_by[node]:
            needs[nxt].discard(node)
            if not needs[nxt]:
                ready.append(nxt)
    return done == len(needs)


def _edge(g: nx.DiGraph, src: str, dst: str, field: str, path: tuple) -> None:
    if g.has_edge(src, dst):
        g[src][dst]["fields"].append(field)
    else:
        g.add_edge(src, dst, fields=[field], path=path)


def cycle_problems(stack: Stack, g: nx.DiGraph | None = None) -> list[Problem]:
    """One problem per cycle, naming every member and the field that makes each edge."""
    if g is None:
        if is_acyclic(stack):
            return []
        g = build_graph(stack)
    import networkx as nx

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
    import networkx as nx

    keep = set(g.nodes) if not targets else set()
    for t in targets:
        keep |= {t} | nx.ancestors(g, t)
    for x in excludes or []:
        if x in g:
            keep -= {x} | nx.descendants(g, x)
    return keep
