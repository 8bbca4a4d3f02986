"""A compiled yes/no test per schema that says when a value certainly has no schema problem.

jsonschema (deployer/spec/validate.py) gives the messages, but it builds and throws away an error for
every branch of an anyOf, not or if that fails, and every subschema it enters costs an object: on a
5,000-resource stack that is most of `validate`. fastjsonschema compiles a schema into a Python function
that only answers valid or not, tens of times faster. So every value is first put to the compiled test;
only a value it refuses goes to jsonschema, which then says what is wrong (or, for a `${...}` reference
that a pattern refuses, that nothing is wrong yet).

The compiled test must never pass a value jsonschema would refuse (it may refuse more: that only costs
time). So it compiles a copy of the schema with deployer's keywords (deployer/spec/keywords.py) written
in Draft 7 terms, patterns with ECMA-262's end anchor (deployer/spec/patterns.py), and every `$ref`'s
sibling keywords kept (Draft 2020-12 applies them; fastjsonschema, like Draft 7, would skip them).
A schema using a keyword Draft 7 cannot say (`uniqueKeys`, `memberOf`) gets no compiled test.
Compiled tests are kept between runs in the user's cache directory, as Python keeps bytecode.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

from deployer.spec.patterns import ecma_anchored

_DRAFT7 = "http://json-schema.org/draft-07/schema#"
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")  # name -> schema
_SCHEMA_VALUES = ("additionalProperties", "additionalItems", "contains", "propertyNames", "not", "if", "then",
                  "else")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_PLAIN = ("type", "enum", "const", "required", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength",
          "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minProperties",
          "maxProperties", "$ref")
# deployer's keywords Draft 7 cannot say, and later drafts' asserting keywords this copy does not write:
# a schema using one gets no compiled test (dropping it would pass what jsonschema refuses)
_UNSAYABLE = ("uniqueKeys", "memberOf", "unevaluatedProperties", "unevaluatedItems", "dependentSchemas",
              "minContains", "maxContains", "$dynamicRef", "$recursiveRef")


class Unsayable(Exception):
    """The schema uses a keyword Draft 7 cannot express."""


def _anchor_pattern(pattern: str) -> str:
    """ECMA-262's `$` (only at the very end) as `\\Z`, and a `$` inside a character class escaped, so that
    fastjsonschema's own `$` rewriting (which would also rewrite one inside a class) finds none."""
    return ecma_anchored(pattern, class_dollar="\\$")


def _draft7(node: Any) -> Any:
    """A copy of a schema node that fastjsonschema's Draft 7 compiles to the same verdicts (annotations,
    `format` and unknown keywords dropped: jsonschema asserts none of them either)."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise Unsayable(f"schema node {node!r}")
    if any(k in node for k in _UNSAYABLE):
        raise Unsayable(", ".join(k for k in _UNSAYABLE if k in node))
    if "multipleOf" in node and not (isinstance(node["multipleOf"], int) and not isinstance(node["multipleOf"], bool)):
        # fastjsonschema divides a fractional divisor exactly (0.3 is a multiple of 0.1), jsonschema in
        # floating point (it is not): their verdicts differ
        raise Unsayable(f"multipleOf {node['multipleOf']!r}")
    out: dict[str, Any] = {k: node[k] for k in _PLAIN if k in node}
    extra: list[dict[str, Any]] = []
    for key in _SCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            out[key] = {
                (_anchor_pattern(name) if key == "patternProperties" else name): _draft7(sub)
                for name, sub in node[key].items()}
    for key in _SCHEMA_VALUES:
        if key in node:
            out[key] = _draft7(node[key])
    absent = _forbidden_keys(out.get("not"))
    if absent is not None:  # cfn-lint's "none of these keys": the same verdict, without an exception per key
        del out["not"]
        extra.append({"type": "object", "properties": {k: False for k in absent}})
    for key in _SCHEMA_LISTS:
        if key in node:
            out[key] = [_draft7(sub) for sub in node[key]]
    if "items" in node:
        items = node["items"]
        out["items"] = [_draft7(s) for s in items] if isinstance(items, list) else _draft7(items)
    if "pattern" in node:
        out["pattern"] = _anchor_pattern(node["pattern"])
    if isinstance(node.get("dependencies"), dict):
        out["dependencies"] = {k: (v if isinstance(v, list) else _draft7(v)) for k, v in node["dependencies"].items()}
    extra += _deployer_keywords(node)
    if "$ref" in out and (len(out) > 1 or extra):
        extra.insert(0, {"$ref": out.pop("$ref")})
    if extra:
        out["allOf"] = [*out.get("allOf", []), *extra]
    return out


def _forbidden_keys(node: Any) -> list[str] | None:
    """The keys of `not: {anyOf: [{required: [K]}, ...]}` (or of `not: {required: [K]}`): a value
    passes it when it is an object holding none of them."""
    if not isinstance(node, dict):
        return None
    branches = node["anyOf"] if set(node) == {"anyOf"} and isinstance(node["anyOf"], list) else [node]
    keys = []
    for branch in branches:
        if not (isinstance(branch, dict) and set(branch) == {"required"} and isinstance(branch["required"], list)
                and len(branch["required"]) == 1):
            return None
        keys += branch["required"]
    return keys


def _deployer_keywords(node: dict[str, Any]) -> list[dict[str, Any]]:
    """deployer's and later drafts' keywords (deployer/spec/keywords.py) as Draft 7 subschemas."""
    out: list[dict[str, Any]] = []
    if "requiredXor" in node:
        out.append({"if": {"type": "object"}, "then": {"oneOf": [{"required": [n]} for n in node["requiredXor"]]}})
    if "requiredOr" in node:
        out.append({"anyOf": [{"required": [n]} for n in node["requiredOr"]]})
    for trigger, needed in (node.get("dependentRequired") or {}).items():
        out.append({"if": {"type": "object", "required": [trigger]}, "then": {"required": list(needed)}})
    for trigger, excluded in (node.get("dependentExcluded") or {}).items():
        out.append({"if": {"type": "object", "required": [trigger]},
                    "then": {"properties": {n: False for n in excluded}}})
    if "prefixItems" in node:
        out.append({"items": [_draft7(s) for s in node["prefixItems"]]})
    return out


@functools.cache
def _compiled(key: str) -> Callable[[Any], Any] | None:
    from deployer.schemas_loader import envelope_schema, resource_schema

    schema = envelope_schema() if key == "" else resource_schema(key)
    return None if schema is None else compile_test(schema, key or "spec envelope")


def compile_test(schema: dict[str, Any], label: str = "schema") -> Callable[[Any], Any] | None:
    """The compiled test of a schema (raising fastjsonschema's JsonSchemaException for a value it
    refuses), or None when Draft 7 cannot say the schema. Loaded from the cache when compiled before."""
    try:
        copy = {**_draft7(schema), "$schema": _DRAFT7}
    except Unsayable:
        return None
    import fastjsonschema

    digest = hashlib.sha256(json.dumps([fastjsonschema.VERSION, copy], sort_keys=True).encode()).hexdigest()[:32]
    code = _cached(digest)
    if code is None:
        source = fastjsonschema.compile_to_code(copy, use_formats=False, use_default=False)
        code = compile(source, f"<schema {label}>", "exec")
        _store(digest, code)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - code fastjsonschema generated from a schema shipped with deployer
    return namespace["validate"]


def cache_dir() -> Path | None:
    """Where compiled tests are kept between runs (compiling the biggest schema takes 0.1 s, loading
    it 1 ms), as Python keeps bytecode: $XDG_CACHE_HOME/deployer, else ~/.cache/deployer; None when
    neither is an absolute path (no home: nothing is written into the working directory)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return Path(base) / "deployer" / f"schema-tests-{sys.implementation.cache_tag}"


def _cached(digest: str) -> CodeType | None:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        code = marshal.loads((directory / digest).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None  # not there yet, unreadable or torn: compile again
    return code if isinstance(code, CodeType) else None


def _store(digest: str, code: CodeType) -> None:
    """Best effort and atomic (a reader sees the whole file or none): a read-only or full disk only
    means compiling again next time."""
    directory, tmp = cache_dir(), None
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(marshal.dumps(code))
        os.replace(tmp, directory / digest)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def passes(type_name: str | None, instance: Any) -> bool:
    """True when the instance certainly satisfies the type's schema (the envelope when type_name is
    None); False when it may not, and jsonschema must look."""
    test = _compiled(type_name or "")
    if test is None:
        return False
    import fastjsonschema

    try:
        test(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True
