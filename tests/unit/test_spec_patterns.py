"""JSON Schema patterns with ECMA-262's `$`: a name ending in a newline does not match `^...$`."""

from __future__ import annotations

import pytest

from deployer.spec import patterns


@pytest.mark.parametrize("pattern,text,matches", [
    ("^[a-z]+$", "demo", True),
    ("^[a-z]+$", "demo\n", False),
    ("^a$|^b$", "b\n", False),
    (r"^price\$$", "price$", True),  # an escaped dollar is a character
    ("^[$a]+$", "$a$", True),  # a dollar in a class is a character
    ("^[a-z]+", "demo\n", True),  # no end anchor, nothing to change
    ("(?m)^a$", "a\nb", False),  # multiline patterns keep end-of-text semantics too
])
def test_end_anchor_matches_only_at_the_end(pattern, text, matches):
    assert patterns.search(pattern, text) is matches


def test_validators_use_it_for_pattern_property_names_and_pattern_properties():
    schema = {"type": "object", "propertyNames": {"pattern": "^[A-Z][a-z]*$"},
              "patternProperties": {"^P[a-z]*$": {"type": "integer"}}, "additionalProperties": False,
              "properties": {"Name": {"type": "string", "pattern": "^[a-z-]+$"}}}
    errors = sorted(e.message for e in patterns.Draft202012Validator(schema).iter_errors(
        {"Name": "web\n", "Port": 80, "Pad\n": 1}))
    assert errors == ["'Pad\\n' does not match '^[A-Z][a-z]*$'",
                      "'Pad\\n' does not match any of the regexes: '^P[a-z]*$'",
                      "'web\\n' does not match '^[a-z-]+$'"]
    assert list(patterns.Draft7Validator(schema).iter_errors({"Name": "web", "Port": 80})) == []
