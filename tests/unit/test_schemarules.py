"""tools/schemarules.py: CloudFormation's rules simplified for the properties a cut schema keeps."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from schemarules import Scope, attach, normalize, restrict  # noqa: E402

ROOT = {
    "properties": {"A": {"type": "string"}, "B": {"type": "string"}, "Code": {"$ref": "#/definitions/Code"}},
    "definitions": {"Code": {"type": "object", "properties": {"Zip": {"type": "string"}}}},
}
SCOPE = Scope(ROOT, ROOT)  # kept: A, B, Code; anything else was cut


@pytest.mark.parametrize(("rule", "expected"), [
    ({"required": ["A"]}, {"required": ["A"]}),
    ({"required": ["A", "Cut"]}, False),                               # can never hold
    ({"properties": {"Cut": {"const": 1}, "A": {"const": "x"}}}, {"properties": {"A": {"const": "x"}}}),
    ({"properties": {"Cut": {"const": 1}}}, True),                     # always holds
    ({"requiredXor": ["A", "Cut"]}, {"requiredXor": ["A"]}),
    ({"requiredOr": ["Cut", "Other"]}, False),
    ({"dependentRequired": {"Cut": ["A"], "A": ["B"]}}, {"dependentRequired": {"A": ["B"]}}),
    ({"dependentRequired": {"A": ["Cut"]}}, {"properties": {"A": False}}),  # A can never be set
    ({"dependentExcluded": {"A": ["Cut", "B"], "Cut": ["A"]}}, {"dependentExcluded": {"A": ["B"]}}),
    ({"dependencies": {"Cut": ["A"]}}, True),
    ({"anyOf": [{"required": ["Cut"]}, {"required": ["A"]}]}, {"required": ["A"]}),
    ({"anyOf": [{"required": ["Cut"]}, {"relationshipRef": {"typeName": "x"}}]}, True),
    ({"oneOf": [{"required": ["Cut"]}, {"required": ["Other"]}]}, False),
    ({"allOf": [{"required": ["A"]}, {"properties": {"Cut": {}}}]}, {"allOf": [{"required": ["A"]}]}),
    ({"not": {"required": ["Cut"]}}, True),
    ({"not": {"anyOf": [{"required": ["A"]}, {"required": ["Cut"]}]}}, {"not": {"required": ["A"]}}),
    ({"if": {"required": ["Cut"]}, "then": {"required": ["A"]}}, True),
    ({"if": {"not": {"required": ["Cut"]}}, "then": {"required": ["A"]}, "ruleMessage": "m"},
     {"required": ["A"], "ruleMessage": "m"}),
    ({"if": {"required": ["B"]}, "then": {"required": ["Cut"]}}, {"if": {"required": ["B"]}, "then": False}),
    ({"if": {"required": ["B"]}, "then": {"properties": {"Cut": False}}}, True),
    ({"if": {"properties": {"Code": {"required": ["Zip"]}}}, "then": {"required": ["A"]}},
     {"if": {"properties": {"Code": {"required": ["Zip"]}}}, "then": {"required": ["A"]}}),
    ({"if": {"properties": {"Code": {"required": ["Image"]}}, "required": ["Code"]}, "then": {"required": ["A"]}}, True),
])
def test_restrict(rule, expected):
    assert restrict(rule, SCOPE) == expected


def test_a_level_without_known_properties_keeps_names():
    assert restrict({"required": ["Anything"]}, Scope(ROOT, {"type": "string"})) == {"required": ["Anything"]}


def test_normalize_uses_cloudformation_keywords_and_locatable_exclusions():
    assert normalize({"anyOf": [{"required": ["A"]}, {"required": ["B"]}]}) == {"requiredOr": ["A", "B"]}
    assert normalize({"oneOf": [{"required": ["A"]}, {"required": ["B"]}]}) == {"requiredXor": ["A", "B"]}
    assert normalize({"anyOf": [{"required": ["A", "B"]}, {"required": ["C"]}]}) == {
        "anyOf": [{"required": ["A", "B"]}, {"required": ["C"]}]}
    assert normalize({"then": {"properties": {"A": False, "B": {"const": 1}}}}) == {
        "then": {"properties": {"B": {"const": 1}}, "not": {"required": ["A"]}}}
    assert normalize({"properties": {"A": False, "C": False}, "not": {"required": ["B"]}}) == {
        "not": {"required": ["B"]}, "allOf": [{"not": {"anyOf": [{"required": ["A"]}, {"required": ["C"]}]}}]}


def test_normalize_keeps_conditions_standard():
    """A tool that ignores requiredOr would read `not: {requiredOr: ...}` as always failing."""
    either = {"anyOf": [{"required": ["A"]}, {"required": ["B"]}]}
    assert normalize({"not": either}) == {"not": either}
    assert normalize({"if": either, "then": either}) == {"if": either, "then": {"requiredOr": ["A", "B"]}}
    assert normalize({"if": {"properties": {"A": False}}}) == {"if": {"properties": {"A": False}}}


def test_attach_replaces_a_nodes_rules():
    node = {"type": "object", "required": ["A"], "anyOf": [{"required": ["A"]}]}
    attach(node, {"requiredOr": ["A", "B"], "required": ["B"]})
    assert node == {"type": "object", "required": ["A", "B"], "requiredOr": ["A", "B"]}
    attach(node, True)
    assert "requiredOr" not in node
    attach(node, {"properties": {"A": {"const": 1}}})
    assert node["allOf"] == [{"properties": {"A": {"const": 1}}}]
