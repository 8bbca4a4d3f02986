"""The extra JSON Schema keywords of cut resource schemas (deployer/spec/keywords.py)."""

from __future__ import annotations

import pytest

from deployer.spec.keywords import ResourceValidator
from deployer.spec.pointers import Unwalkable, select


def errors(schema: dict, instance) -> list[tuple[list, str]]:
    return sorted((list(e.absolute_path), e.message) for e in ResourceValidator(schema).iter_errors(instance))


def test_required_xor():
    schema = {"requiredXor": ["A", "B"]}
    assert errors(schema, {"A": 1}) == []
    assert errors(schema, {}) == [([], "needs exactly one of A, B")]
    assert errors(schema, {"A": 1, "B": 2}) == [(["B"], "'B' cannot be set together with 'A': set exactly one of A, B")]
    assert errors({"requiredXor": ["A"]}, {}) == [([], "needs A")]
    assert errors(schema, "not an object") == []


def test_required_or():
    schema = {"requiredOr": ["A", "B", "C"]}
    assert errors(schema, {"B": 1, "C": 1}) == []
    assert errors(schema, {"D": 1}) == [([], "needs at least one of A, B, C")]


def test_dependent_required_and_excluded():
    assert errors({"dependentRequired": {"A": ["B", "C"]}}, {"A": 1, "C": 1}) == [(["A"], "'A' needs B set too")]
    assert errors({"dependentRequired": {"A": ["B"]}}, {"B": 1}) == []
    both_ways = {"dependentExcluded": {"A": ["B"], "B": ["A"]}}
    assert errors(both_ways, {"A": 1, "B": 1}) == [(["B"], "'B' cannot be set together with 'A'")]
    assert errors(both_ways, {"A": 1}) == []


def test_unique_keys_and_prefix_items():
    schema = {"type": "array", "uniqueKeys": ["Name"], "prefixItems": [{"properties": {"T": {"const": "first"}}}]}
    assert errors(schema, [{"Name": "a", "T": "first"}, {"Name": "b"}]) == []
    assert errors(schema, [{"Name": "a", "T": "first"}, {"Name": "a"}]) == [([1], "duplicate Name 'a' (also item 0)")]
    assert errors(schema, [{"Name": "a", "T": "second"}]) == [([0, "T"], "'first' was expected")]


MEMBER = {"memberOf": [
    {"values": "/Keys/*/Name", "in": ["/Defs/*/Name"], "message": "a key needs a definition"},
    {"values": "/Index/*/Keys/*/Name", "in": ["/Defs/*/Name"]},
]}


def test_member_of_names_the_missing_value_at_its_path():
    instance = {"Defs": [{"Name": "id"}, {"Name": "sk"}], "Keys": [{"Name": "id"}, {"Name": "email"}],
                "Index": [{"Keys": [{"Name": "sk"}, {"Name": "x"}]}]}
    assert errors(MEMBER, instance) == [
        (["Index", 0, "Keys", 1, "Name"], "'x' is not one of id, sk: it must be one of the values at Defs[*].Name"),
        (["Keys", 1, "Name"], "'email' is not one of id, sk: a key needs a definition"),
    ]


@pytest.mark.parametrize("instance", [
    {"Defs": "${Other.Defs}", "Keys": [{"Name": "id"}]},          # the list is a reference
    {"Defs": [{"Name": "${Var}"}], "Keys": [{"Name": "id"}]},      # a listed value is a reference
    {"Defs": [{"Name": "id"}], "Keys": [{"Name": "${Var}"}]},      # the checked value is a reference
    {"Defs": [{"Name": "id"}], "Keys": '[{"Name": "x"}]'},         # another form (JSON text)
    {"Keys": []},
])
def test_member_of_leaves_what_it_cannot_know_to_apply_time(instance):
    assert errors(MEMBER, instance) == []


def test_member_of_with_nothing_listed():
    assert errors(MEMBER, {"Keys": [{"Name": "id"}]}) == [
        (["Keys", 0, "Name"], "'id' is not one of (none): a key needs a definition")]


def test_select_walks_lists_and_refuses_other_forms():
    assert select({"A": [{"B": 1}, {"C": 2}, {"B": 3}]}, "/A/*/B") == [(("A", 0, "B"), 1), (("A", 2, "B"), 3)]
    assert select({}, "/A/*/B") == []
    with pytest.raises(Unwalkable):
        select({"A": "text"}, "/A/*/B")
