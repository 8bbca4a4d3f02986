"""The dependency graph and its renderings; the Mermaid output parses back into the same edges."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from deployer.cli import main
from deployer.graph import build_graph, subgraph_for_targets
from deployer.spec import load_and_check
from tests.markdown_check import parse_mermaid

WEBAPP = str(Path(__file__).resolve().parents[2] / "specs" / "examples" / "webapp")
def test_edges_remember_their_fields():
    g = build_graph(load_and_check(WEBAPP))
    assert g["ApiRole"]["ApiFunction"]["fields"] == ["properties.Role"]
    assert "properties.Environment.Variables.TABLE" in g["UsersTable"]["ApiFunction"]["fields"]


def test_mermaid_round_trip():
    result = CliRunner().invoke(main, ["graph", WEBAPP, "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    nodes, edges = parse_mermaid(result.output)
    g = build_graph(load_and_check(WEBAPP))
    assert nodes == set(g.nodes) and edges == set(g.edges)


def test_json_and_dot_formats():
    result = CliRunner().invoke(main, ["graph", WEBAPP, "--format", "json"])
    doc = json.loads(result.output)
    assert {(e["from"], e["to"]) for e in doc["edges"]} == set(build_graph(load_and_check(WEBAPP)).edges)
    dot = CliRunner().invoke(main, ["graph", WEBAPP, "--format", "dot"]).output
    assert dot.startswith("digraph") and '"ApiRole" -> "ApiFunction"' in dot


def test_targets_and_excludes():
    g = build_graph(load_and_check(WEBAPP))
    assert subgraph_for_targets(g, ["ApiRole"]) == {"ApiRole", "UsersTable", "WorkQueue"}
    assert "ApiFunction" not in subgraph_for_targets(g, [], ["ApiRole"])


def test_cycles_are_found_without_networkx_and_described_with_it(tmp_path):
    from deployer.graph import cycle_problems, is_acyclic
    from deployer.spec.load import load_stack

    spec = tmp_path / "s.yaml"
    spec.write_text("stack: s\nresources:\n"
                    "  A: {type: AWS::SQS::Queue, properties: {QueueName: '${B.QueueName}'}}\n"
                    "  B: {type: AWS::SQS::Queue, depends_on: [A]}\n"
                    "  C: {type: AWS::SQS::Queue, depends_on: [A]}\n")
    cyclic = load_stack(str(spec))
    assert not is_acyclic(cyclic)
    [problem] = cycle_problems(cyclic)
    assert "dependency cycle" in problem.message and "A" in problem.message and "B" in problem.message
    webapp = load_and_check(WEBAPP)
    assert is_acyclic(webapp) and cycle_problems(webapp) == []
