"""Carry CloudFormation's cross-property rules into a cut schema, restricted to the kept properties.

A cut schema keeps only the properties deployer implements, and refuses every other key, so in a
valid spec a property that was cut is always absent. `restrict` simplifies a rule under exactly that
assumption: `required: [Cut]` can never hold, `properties: {Cut: ...}` always holds, `requiredXor`
and `requiredOr` lose their cut members, a `dependentRequired` or `dependentExcluded` triggered by a
cut property never fires, and the combinators (`anyOf`, `oneOf`, `allOf`, `not`, `if`/`then`/`else`)
are folded when a branch becomes always true or always false. The result is a JSON Schema boolean
(`True`: the rule can never fail, `False`: it can never pass) or the simplified rule.

`normalize` then rewrites the combinators CloudFormation uses for "one of these properties" into its
own keywords: an `anyOf` of single `required` branches is `requiredOr`, a `oneOf` of them is
`requiredXor`. Both are checked (with messages naming the properties) by deployer/spec/validate.py.
"""

from __future__ import annotations

from typing import Any

RULE_KEYS = ("requiredXor", "requiredOr", "dependentRequired", "dependencies", "dependentExcluded",
             "anyOf", "oneOf", "allOf", "not", "if", "then", "else")
ANNOTATIONS = frozenset({"description", "$comment", "title", "relationshipRef", "ruleMessage"})


class Scope:
    """Where a (sub)rule applies in the cut schema: which property names exist at that level."""

    def __init__(self, root: dict, node: Any):
        self.root = root
        self.node = self._resolve(node)

    def _resolve(self, node: Any) -> dict:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 32:
            node = self.root.get("definitions", {}).get(node["$ref"].split("/")[-1], {})
            seen += 1
        return node if isinstance(node, dict) else {}

    def kept(self) -> set[str] | None:
        """The property names of this level, or None where the level is not an object with properties."""
        props = self.node.get("properties")
        return set(props) if isinstance(props, dict) else None

    def child(self, name: str) -> Scope:
        return Scope(self.root, (self.node.get("properties") or {}).get(name, {}))

    def items(self) -> Scope:
        items = self.node.get("items")
        return Scope(self.root, items if isinstance(items, dict) else {})


def restrict(schema: Any, scope: Scope) -> Any:
    """The rule simplified for a level where only `scope.kept()` properties can appear."""
    if isinstance(schema, bool) or not isinstance(schema, dict):
        return schema
    kept = scope.kept()
    cut = (lambda name: False) if kept is None else (lambda name: name not in kept)
    out: dict[str, Any] = {}
    also: list[Any] = []  # simplified sub-rules that now apply unconditionally
    for key, value in schema.items():
        if key == "required":
            if any(cut(n) for n in value):
                return False
            out[key] = value
        elif key == "properties":
            props = {}
            for name, sub in value.items():
                if cut(name):
                    continue
                sub = restrict(sub, scope.child(name))
                if sub is not True:
                    props[name] = sub
            if props:
                out[key] = props
        elif key in ("requiredXor", "requiredOr"):
            names = [n for n in value if not cut(n)]
            if not names:
                return False
            out[key] = names
        elif key in ("dependentRequired", "dependentExcluded", "dependencies"):
            kept_deps, forbidden = _restrict_dependencies(key, value, scope, cut)
            if kept_deps:
                out[key] = kept_deps
            if forbidden:
                also.append({"properties": {name: False for name in forbidden}})
        elif key in ("anyOf", "oneOf"):
            branches = [restrict(b, scope) for b in value]
            if key == "anyOf" and any(b is True for b in branches):
                continue
            branches = [b for b in branches if b is not False]
            if not branches:
                return False
            if len(branches) == 1:
                also.append(branches[0])
            else:
                out[key] = branches
        elif key == "allOf":
            branches = [restrict(b, scope) for b in value]
            if any(b is False for b in branches):
                return False
            branches = [b for b in branches if b is not True]
            if branches:
                out[key] = branches
        elif key == "not":
            sub = restrict(value, scope)
            if sub is True:
                return False
            if sub is not False:
                out[key] = sub
        elif key in ("if", "then", "else"):
            continue  # below, together
        elif key == "items" and isinstance(value, dict):
            sub = restrict(value, scope.items())
            if sub is not True:
                out[key] = sub
        else:
            out[key] = value
    if any((out.get("properties") or {}).get(r) is False for r in out.get("required", [])):
        return False  # a property both required and refused
    if "if" in schema:
        condition = restrict(schema["if"], scope)
        then = restrict(schema.get("then", True), scope)
        other = restrict(schema.get("else", True), scope)
        if condition is True:
            also.append(then)
        elif condition is False:
            also.append(other)
        elif then is not True or other is not True:
            out["if"] = condition
            if then is not True:
                out["then"] = then
            if other is not True:
                out["else"] = other
    return _conjoin(out, also)


def _restrict_dependencies(key: str, value: dict, scope: Scope, cut) -> tuple[dict, list[str]]:
    """(the dependencies left, the trigger properties that now can never be set)."""
    kept: dict[str, Any] = {}
    forbidden: list[str] = []
    for trigger, deps in value.items():
        if cut(trigger):
            continue
        if isinstance(deps, list) and key == "dependentExcluded":
            deps = [d for d in deps if not cut(d)]
            if deps:
                kept[trigger] = deps
        elif isinstance(deps, list):
            if any(cut(d) for d in deps):
                forbidden.append(trigger)  # it needs a property deployer lacks
            else:
                kept[trigger] = deps
        else:
            sub = restrict(deps, scope)
            if sub is False:
                forbidden.append(trigger)
            elif sub is not True:
                kept[trigger] = sub
    return kept, forbidden


def _conjoin(out: dict[str, Any], also: list[Any]) -> Any:
    if any(a is False for a in also):
        return False
    also = [a for a in also if a is not True]
    if all(k in ANNOTATIONS for k in out):
        if not also:
            return True
        if len(also) == 1 and isinstance(also[0], dict):
            return {**also[0], **out}
    if also:
        out = {**out, "allOf": [*out.get("allOf", []), *also]}
    return out


def _single_required(branch: Any) -> str | None:
    if isinstance(branch, dict) and set(branch) == {"required"} and len(branch["required"]) == 1:
        return branch["required"][0]
    return None


def normalize(schema: Any, condition: bool = False) -> Any:
    """anyOf/oneOf of single `required` branches as requiredOr/requiredXor, and `properties: {A: false}`
    (A must be absent) as `not: {required: [A]}`, in the asserting parts of a rule. jsonschema reports a
    false property schema without the key's path; a failed `not` names the keys, which validate.py
    locates. Conditions (`if`, `not`) stay standard JSON Schema, so a tool that does not know
    CloudFormation's keywords (an editor) checks a rule less, never more."""
    if isinstance(schema, list):
        return [normalize(v, condition) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: normalize(v, condition or k in ("if", "not")) for k, v in schema.items()}
    if condition:
        return out
    for combinator, keyword in (("anyOf", "requiredOr"), ("oneOf", "requiredXor")):
        branches = out.get(combinator)
        if isinstance(branches, list) and len(branches) > 1 and keyword not in out:
            names = [_single_required(b) for b in branches]
            if all(names):
                del out[combinator]
                out[keyword] = names
    absent = [k for k, v in (out.get("properties") or {}).items() if v is False]
    if absent:
        out["properties"] = {k: v for k, v in out["properties"].items() if v is not False}
        if not out["properties"]:
            del out["properties"]
        forbid = {"not": {"required": absent}} if len(absent) == 1 else \
            {"not": {"anyOf": [{"required": [name]} for name in absent]}}
        if "not" in out:
            out["allOf"] = [*out.get("allOf", []), forbid]
        else:
            out.update(forbid)
    return out


def rule_of(node: dict) -> dict:
    """The rule keywords of a schema node, as one rule."""
    return {k: node[k] for k in RULE_KEYS if k in node}


def attach(node: dict, rule: Any) -> None:
    """Put a simplified rule back on its node (replacing the node's own rule keywords)."""
    for key in RULE_KEYS:
        node.pop(key, None)
    if rule is True or rule is False:
        return
    for key, value in rule.items():
        if key == "required":
            node["required"] = [*node.get("required", []), *[r for r in value if r not in node.get("required", [])]]
        elif key in RULE_KEYS and key not in node:
            node[key] = value
        elif key == "allOf":
            node["allOf"] = [*node.get("allOf", []), *value]
        elif key not in ANNOTATIONS:
            node.setdefault("allOf", []).append({key: value})
