"""The compiled test (deployer/spec/quickcheck.py) never passes what jsonschema refuses.

It is only a shortcut: a value it passes is not shown to jsonschema at all, so one it passed wrongly
would be a problem validate never reports. Checked against jsonschema on every resource of the examples
and the CloudFormation corpus (all 42 types), on mutations of each, and on the keywords it rewrites.
"""

from __future__ import annotations

import copy
import glob
from pathlib import Path
from typing import Any

import pytest

from deployer.errors import DeployerError
from deployer.schemas_loader import envelope_schema, known_types, resource_schema
from deployer.spec import load_and_check, quickcheck
from deployer.spec.coerce import coerce
from deployer.spec.keywords import ResourceValidator
from deployer.spec.patterns import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
ODD_VALUES = [True, False, 0, 1, 1.0, 2.5, -1, "", "x", "a\n", "true", "22", "${Other.Arn}", [], [1], {}, {"K": "v"},
              None, "x" * 3000]


def _stacks() -> list[Any]:
    out = []
    for path in sorted(glob.glob(str(ROOT / "tests/cfn/templates/*")) + glob.glob(str(ROOT / "specs/examples/*/*.yaml"))):
        try:
            out.append(load_and_check(path))
        except DeployerError:
            continue  # needs variables or is one file of a directory stack
    return out


STACKS = _stacks()
RESOURCES = [(r.type, r.properties) for s in STACKS for r in s.resources.values()]


def _mutations(props: dict[str, Any]) -> list[dict[str, Any]]:
    """The value with each key dropped, each key's value replaced by odd values, an unknown key, and
    the same one level down in objects and the first item of lists."""
    out = [{**props, "NoSuchProperty": 1}]
    for key, value in props.items():
        out.append({k: v for k, v in props.items() if k != key})
        out += [{**props, key: odd} for odd in ODD_VALUES]
        if isinstance(value, dict):
            out += [{**props, key: m} for m in _mutations(value)[:40]]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            out += [{**props, key: [m, *value[1:]]} for m in _mutations(value[0])[:40]]
    return out


def _agrees(validator: Any, type_name: str | None, instance: Any) -> None:
    if quickcheck.passes(type_name, instance):
        errors = [e.message for e in validator.iter_errors(instance)]
        assert errors == [], f"{type_name}: the compiled test passed {instance!r}, jsonschema says {errors}"


def test_the_corpus_covers_every_type() -> None:
    assert {t for t, _ in RESOURCES} == set(known_types())


def test_only_types_draft7_cannot_say_have_no_compiled_test() -> None:
    without = [t for t in known_types() if quickcheck._compiled(t) is None]
    for t in without:
        text = str(resource_schema(t))
        assert "uniqueKeys" in text or "memberOf" in text, t
    assert quickcheck._compiled("") is not None  # the envelope


@pytest.mark.parametrize("type_name", sorted({t for t, _ in RESOURCES}))
def test_never_passes_what_jsonschema_refuses(type_name: str) -> None:
    schema = resource_schema(type_name)
    validator = ResourceValidator(schema)
    for t, props in RESOURCES:
        if t != type_name:
            continue
        for instance in [props, *_mutations(props)]:
            _agrees(validator, type_name, coerce(schema, instance))


def test_passes_the_valid_resources_without_references() -> None:
    """The shortcut is taken: every corpus resource jsonschema accepts as written passes it too
    (unless its type has no compiled test)."""
    for t, props in RESOURCES:
        schema = resource_schema(t)
        value = coerce(schema, props)
        if quickcheck._compiled(t) is not None and not list(ResourceValidator(schema).iter_errors(value)):
            assert quickcheck.passes(t, value), t


def test_envelope_never_passes_what_jsonschema_refuses() -> None:
    validator = Draft202012Validator(envelope_schema())
    for stack in STACKS:
        raw = stack.raw
        assert quickcheck.passes(None, raw) == (not list(validator.iter_errors(raw)))
        for instance in _mutations(raw):
            _agrees(validator, None, instance)
        for name in list(raw.get("resources") or {})[:3]:
            for m in _mutations(raw["resources"][name]):
                changed = copy.deepcopy(raw)
                changed["resources"][name] = m
                _agrees(validator, None, changed)


CASES = [
    ({"requiredXor": ["A", "B"]}, [{}, {"A": 1}, {"B": 1}, {"A": 1, "B": 2}, 3]),
    ({"requiredOr": ["A", "B"]}, [{}, {"A": 1}, {"A": 1, "B": 2}, "x"]),
    ({"dependentRequired": {"A": ["B", "C"]}}, [{}, {"A": 1}, {"A": 1, "B": 1}, {"A": 1, "B": 1, "C": 1}, [1]]),
    ({"dependentExcluded": {"A": ["B", "C"]}}, [{}, {"A": 1}, {"A": 1, "B": 1}, {"B": 1, "C": 1}, "A"]),
    ({"prefixItems": [{"type": "string"}, {"type": "integer"}], "items": {"maxLength": 2}},
     [[], ["ab"], ["ab", 1], [1, "a"], ["abc"], ["ab", "x"]]),
    ({"pattern": "^[a-z]+$"}, ["demo", "demo\n", "Demo", 5]),
    ({"pattern": "^[a-z$]+$"}, ["a$", "a$\n", "$"]),
    ({"patternProperties": {"^x-[a-z]+$": {"type": "integer"}}, "additionalProperties": False},
     [{"x-a": 1}, {"x-a\n": 1}, {"x-a": "1"}, {"y": 1}]),
    ({"not": {"anyOf": [{"required": ["A"]}, {"required": ["B"]}]}}, [{}, {"A": 1}, {"C": 1}, {"B": None}, 1, "A"]),
    ({"not": {"required": ["A"]}}, [{}, {"A": 1}, [], "A"]),
    ({"not": {"anyOf": [{"required": ["A", "B"]}]}}, [{}, {"A": 1}, {"A": 1, "B": 1}, 1]),
    ({"uniqueItems": True}, [[1, 1.0], [1, True], [0, False], [{"a": 1}, {"a": True}], [[1], [1.0]],
                             [{"a": 1, "b": 2}, {"b": 2, "a": 1}], [None, None]]),
    ({"multipleOf": 5}, [10, 10.0, 12, 12.5, True]),
    ({"enum": [False, "false"]}, [False, "false", 0, None, "False"]),
    ({"const": 1}, [1, 1.0, True, "1"]),
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1"]),
    ({"definitions": {"N": {"type": "string"}}, "properties": {"P": {"$ref": "#/definitions/N", "maxLength": 1}}},
     [{"P": "a"}, {"P": "ab"}, {"P": 1}]),
]


@pytest.mark.parametrize(("schema", "instances"), CASES)
def test_rewritten_keywords_give_jsonschemas_verdict(schema: dict[str, Any], instances: list[Any]) -> None:
    """Exactly jsonschema's verdict on deployer's keywords and on patterns; for `$ref` siblings, the
    Draft 2020-12 verdict (which applies them: stricter than Draft 7, which skips them)."""
    test = quickcheck.compile_test(schema)
    for instance in instances:
        try:
            test(instance)
            passed = True
        except Exception:  # noqa: BLE001 - fastjsonschema's refusal
            passed = False
        reference = Draft202012Validator if "$ref" in str(schema) else ResourceValidator
        assert passed == (not list(reference(schema).iter_errors(instance))), (schema, instance)


@pytest.mark.parametrize(("keyword", "value"), [("unevaluatedProperties", False), ("dependentSchemas", {}),
                                               ("uniqueKeys", ["K"]), ("multipleOf", 0.1)])
def test_a_schema_with_a_keyword_it_cannot_say_gets_no_compiled_test(keyword: str, value: Any) -> None:
    """Dropped, these would pass what jsonschema refuses; a fractional multipleOf is decided differently
    (fastjsonschema counts 0.3 a multiple of 0.1, jsonschema's floating point does not)."""
    assert quickcheck.compile_test({"properties": {"P": {keyword: value}}}) is None


def test_the_compiled_test_is_kept_between_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    schema = {"type": "object", "required": ["A"]}
    first = quickcheck.compile_test(schema)
    kept = list(quickcheck.cache_dir().iterdir())
    assert len(kept) == 1
    again = quickcheck.compile_test(schema)
    assert list(quickcheck.cache_dir().iterdir()) == kept
    for test in (first, again):
        test({"A": 1})
        with pytest.raises(Exception):  # noqa: B017, PT011 - fastjsonschema's refusal
            test({})


def test_a_torn_or_unwritable_cache_only_means_compiling_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    schema = {"type": "object", "required": ["B"]}
    quickcheck.compile_test(schema)
    (kept,) = quickcheck.cache_dir().iterdir()
    kept.write_bytes(b"\x00torn")
    quickcheck.compile_test(schema)({"B": 1})
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    quickcheck.compile_test({"type": "object", "required": ["C"]})({"C": 1})


def test_without_a_home_nothing_is_written_into_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "relative-home")
    monkeypatch.chdir(tmp_path)
    assert quickcheck.cache_dir() is None
    quickcheck.compile_test({"type": "object", "required": ["D"]})({"D": 1})
    assert list(tmp_path.iterdir()) == []


def _vocabulary(schema: Any) -> tuple[list[str], list[Any]]:
    """The property names and the enum/const values a schema mentions, for generated instances that
    reach deep into it."""
    names: set[str] = set()
    values: list[Any] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack += node
        elif isinstance(node, dict):
            for key in ("properties", "patternProperties"):
                if isinstance(node.get(key), dict):
                    names |= {k for k in node[key] if key == "properties"}
            for key in ("requiredXor", "requiredOr", "required"):
                if isinstance(node.get(key), list):
                    names |= {k for k in node[key] if isinstance(k, str)}
            values += [v for v in node.get("enum", []) if not isinstance(v, dict | list)]
            if "const" in node and not isinstance(node["const"], dict | list):
                values.append(node["const"])
            stack += [v for k, v in node.items() if k not in ("enum", "const", "description")]
    return sorted(names), values


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _edited(value: Any, path: tuple, edit: Any) -> Any:
    """A copy of value with the node at path replaced by edit(node) (None from edit: removed)."""
    if not path:
        return edit(value)
    head, rest = path[0], path[1:]
    copy_ = list(value) if isinstance(value, list) else dict(value)
    inner = _edited(value[head], rest, edit)
    if inner is _REMOVED:
        copy_.pop(head)
    else:
        copy_[head] = inner
    return copy_


_REMOVED = object()


@pytest.mark.parametrize("type_name", sorted({t for t, _ in RESOURCES}))
def test_randomly_edited_resources_never_pass_what_jsonschema_refuses(type_name: str) -> None:
    """Corpus resources with up to four random edits anywhere in them (a value replaced, a key
    removed, a key of the schema's added), so that many still pass the compiled test."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    schema = resource_schema(type_name)
    names, values = _vocabulary(schema)
    bases = [props for t, props in RESOURCES if t == type_name]
    scalars = (st.none() | st.booleans() | st.integers(-2, 70000) | st.floats(allow_nan=False, allow_infinity=False)
               | st.sampled_from(["", "a", "a\n", "${Other.Arn}", "$", "x" * 300, "10.0.0.0/16", "true", "22"])
               | st.text(max_size=8) | st.sampled_from(values or [None]))
    anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=2)
                            | st.dictionaries(st.sampled_from(names or ["K"]), inner, max_size=2), max_leaves=4)
    validator = ResourceValidator(schema)
    passed = []

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: Any) -> None:
        value = copy.deepcopy(data.draw(st.sampled_from(bases)))
        for _ in range(data.draw(st.integers(0, 4))):  # none: the resource as written
            path = data.draw(st.sampled_from(_paths(value)))
            kind = data.draw(st.sampled_from(["set", "remove", "add"]))
            if kind == "set" or not path and kind == "remove":
                new = data.draw(anything)
                value = _edited(value, path, lambda _old, new=new: new)
            elif kind == "remove":
                value = _edited(value, path, lambda _old: _REMOVED)
            else:
                key, new = data.draw(st.sampled_from(names or ["K"])), data.draw(anything)
                value = _edited(value, path, lambda old, key=key, new=new:
                                {**old, key: new} if isinstance(old, dict) else old)
        instance = coerce(schema, value) if isinstance(value, dict) else value
        passed.append(quickcheck.passes(type_name, instance))
        _agrees(validator, type_name, instance)

    check()
    if any(quickcheck.passes(type_name, coerce(schema, b)) for b in bases):  # (references make some fail)
        assert any(passed), "no edited value passed the compiled test: the check would prove nothing"
