"""Cut a deployer resource schema out of CloudFormation's official provider schema (cfn-lint's copy).

Run by hand when a type is added or grows (`python tools/schemagen.py AWS::S3::Bucket`, or no
argument for every type); the generated file under schemas/resources/ is committed and is the source
of truth afterwards. Only the properties deployer implements are kept, so a typo in a spec is caught.

What a cut schema carries, besides the kept properties:
- CloudFormation's cross-property rules (requiredXor, requiredOr, anyOf, oneOf, allOf,
  dependentRequired/dependencies, dependentExcluded, if/then/else), from the provider schema and
  from the cfn-lint extension schemas named in the subset config, simplified for the kept
  properties (tools/schemarules.py); each extension rule carries a `ruleMessage`.
- deployer's own data rules from the config: `rules` (if/then schemas with a `ruleMessage`) and
  `memberOf` (a value that must appear in a list elsewhere in the same resource).
- CloudFormation's replacement metadata restricted to the kept properties (createOnlyProperties,
  conditionalCreateOnlyProperties, replacementStrategy, readOnlyProperties, writeOnlyProperties),
  changed only where a listed deviation says so, plus immutableProperties and dataBearing.
- `cfnLintVersion`: the cfn-lint the schema was cut from (pinned in pyproject.toml's dev extra).
"""

from __future__ import annotations

import json
import re
import sys
from importlib.metadata import version
from pathlib import Path

import cfnlint

sys.path.insert(0, str(Path(__file__).resolve().parent))
from schemarules import Scope, attach, normalize, restrict, rule_of  # noqa: E402

DATA = Path(cfnlint.__file__).parent / "data" / "schemas"
EXTENSIONS = DATA / "extensions"
OUT = Path(__file__).resolve().parent.parent / "schemas" / "resources"
SUBSETS = Path(__file__).resolve().parent / "schema_subsets"
CFN_LINT_VERSION = version("cfn-lint")
DEFAULT_STRATEGY = "create_then_delete"  # CloudFormation's order when a schema names none
BEHAVIOURS = {"replace", "update", "conditional", "immutable"}
STRATEGIES = {"create_then_delete", "delete_then_create"}
RULE_CONDITIONS = ("if", "then", "else", "not", "allOf", "dependencies", "dependentSchemas", "prefixItems")


def load_types() -> dict[str, dict]:
    """tools/schema_subsets/<service>.json, per type:
    keep        the CloudFormation properties deployer implements (read-only ones are attributes)
    ref         the pointer of what ${Name} gives (CloudFormation's Ref)
    defs        kept sub-properties per definition; extend: additions to definitions
    add         deployer's own documented top-level properties
    attributes  names usable as ${Name.Attr} that are not read-only properties (documented GetAtts)
    immutable   pointers CloudFormation refuses to update and will not replace either
    data_bearing  whether the resource holds data (SPEC §7)
    deviations  [{pointer, cloudformation, deployer, why}]: deliberate differences in replacement
                (behaviours replace/update/conditional/immutable; for /replacementStrategy the order)
    extensions  cfn-lint extension rules carried: [{file, at, take?, message}]
    skip_extensions  {file: why} for cfn-lint extension rules of the type that are not carried
    rule_messages  {pointer into the provider schema: message}: a ruleMessage for a provider rule
    rules       deployer's own cross-property rules (JSON Schema with a ruleMessage) at the root
    member_of   [{values, in, message?}]: instance pointers (with *) whose values must appear in `in`
    """
    types: dict[str, dict] = {}
    for path in sorted(SUBSETS.glob("*.json")):
        types.update(json.loads(path.read_text()))
    return types


TYPES = load_types()


def official(type_name: str) -> dict:
    providers = DATA / "providers"
    if (providers / "us-east-1.json").exists():  # cfn-lint >= 1.5x
        index = json.loads((providers / "us-east-1.json").read_text())
    else:  # older cfn-lint keeps the index as a Python module
        index = dict(re.findall(r'"(AWS::[^"]+)": "([0-9a-f]+)"', (providers / "us_east_1.py").read_text()))
    return json.loads((DATA / "resources" / f"{index[type_name]}.json").read_text())


def extension_files(type_name: str) -> list[str]:
    """cfn-lint's extension schemas for a type, as "folder/file.json"."""
    folder = EXTENSIONS / type_name.lower().replace("::", "_")
    return sorted(f"{folder.name}/{p.name}" for p in folder.glob("*.json")) if folder.is_dir() else []


def _refs(node) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref.split("/")[-1])
        for v in node.values():
            found |= _refs(v)
    elif isinstance(node, list):
        for v in node:
            found |= _refs(v)
    return found


def _close(node):
    """Every object schema refuses unknown keys, so misspelt nested properties are caught too;
    patterns Python's re cannot compile (\\p{L} classes) are dropped rather than crash validation."""
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            try:
                re.compile(node["pattern"])
            except re.error:
                node.pop("pattern")
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for k, v in node.items():
            if k not in RULE_CONDITIONS:  # a rule's sub-schemas test a few keys: closing them would break it
                _close(v)
    elif isinstance(node, list):
        for v in node:
            _close(v)


def node_at(schema: dict, pointer: str) -> dict | None:
    """The schema of /properties/A/B (or /properties/A/*/B through arrays), or None when it was cut."""
    node: dict | None = {"properties": schema["properties"]}
    for part in pointer.split("/")[2:]:
        node = _step(schema, node, part)
        if node is None:
            return None
    return Scope(schema, node).node


def _step(schema: dict, node: dict, part: str) -> dict | None:
    """One step down a schema, also through the branches of oneOf/anyOf/allOf (KeySchema's forms)."""
    node = Scope(schema, node).node
    found = node.get("items") if part == "*" else (node.get("properties") or {}).get(part)
    if isinstance(found, dict):
        return found
    for key in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(key, []):
            found = _step(schema, branch, part) if isinstance(branch, dict) else None
            if found is not None:
                return found
    return None


def _pointers(values, schema: dict) -> list[str]:
    return [p for p in values or [] if node_at(schema, p) is not None]


def _instance_path_exists(schema: dict, path: str) -> bool:
    """Whether an instance path such as /KeySchema/*/AttributeName names kept properties."""
    return node_at(schema, "/properties" + path) is not None


class Notes:
    """What the generator dropped or adapted, printed so a schema change is reviewed knowingly."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, type_name: str, text: str) -> None:
        self.lines.append(f"{type_name}: {text}")


NOTES = Notes()


def _restrict_node(type_name: str, schema: dict, node: dict, where: str) -> None:
    """Simplify the rule keywords of one object schema for its kept properties."""
    rule = rule_of(node)
    if not rule:
        return
    restricted = normalize(restrict(rule, Scope(schema, node)))
    if restricted is False:
        NOTES.add(type_name, f"dropped {where} rule {json.dumps(rule)[:160]}: it can never hold without cut properties")
        restricted = True
    elif restricted != rule:
        shown = "dropped (only cut properties)" if restricted is True else f"adapted to {json.dumps(restricted)[:160]}"
        NOTES.add(type_name, f"{where} rule {json.dumps(rule)[:160]} {shown}")
    attach(node, restricted)


def _restrict_everywhere(type_name: str, schema: dict) -> None:
    """Every object schema of the cut schema (the resource, each definition, inline objects) once."""

    def walk(node, where):
        if not isinstance(node, dict):
            return
        if "properties" in node or node is schema:
            _restrict_node(type_name, schema, node, where)
        for key in ("properties", "patternProperties"):
            for name, sub in (node.get(key) or {}).items():
                walk(sub, f"{where}/{name}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}/*")

    walk(schema, "top-level")
    for name, definition in schema["definitions"].items():
        walk(definition, f"definitions/{name}")


def _prune_definitions(schema: dict) -> None:
    """Drop definitions only a dropped rule referred to."""
    reachable: set[str] = set()
    todo = _refs({k: v for k, v in schema.items() if k != "definitions"})
    while todo:
        name = todo.pop()
        if name not in reachable and name in schema["definitions"]:
            reachable.add(name)
            todo |= _refs(schema["definitions"][name])
    schema["definitions"] = {k: v for k, v in schema["definitions"].items() if k in reachable}


def _carry_extensions(type_name: str, cfg: dict, schema: dict) -> None:
    """cfn-lint's extension rules named in the config, simplified, each with its ruleMessage."""
    carried = {e["file"] for e in cfg.get("extensions", [])}
    skipped = set(cfg.get("skip_extensions", {}))
    unknown = set(extension_files(type_name)) - carried - skipped
    if unknown:
        raise SystemExit(f"{type_name}: cfn-lint extension rules neither carried nor skipped: {sorted(unknown)}")
    for ext in cfg.get("extensions", []):
        rule = json.loads((EXTENSIONS / ext["file"]).read_text())
        for part in [p for p in ext.get("take", "").split("/") if p]:
            rule = rule[int(part) if part.isdigit() else part]
        rule = {k: v for k, v in rule.items() if k not in ("description", "$comment")}
        node = _node_for_rule(schema, ext["at"])
        restricted = normalize(restrict(rule, Scope(schema, node)))
        if isinstance(restricted, bool):
            raise SystemExit(f"{type_name}: extension {ext['file']} is {restricted} for the kept properties: skip it")
        if restricted != normalize(rule):
            NOTES.add(type_name, f"extension {ext['file']} adapted to {json.dumps(restricted)[:200]}")
        restricted = {"ruleMessage": ext["message"], **restricted}
        node.setdefault("allOf", []).append(restricted)


def _node_for_rule(schema: dict, at: str) -> dict:
    """The object schema a rule attaches to: "" is the resource, "/definitions/X[/properties/Y]" below."""
    node = schema
    for part in [p for p in at.split("/") if p]:
        node = node[part]
    return node


def _carry_rules(type_name: str, cfg: dict, schema: dict) -> None:
    for rule in cfg.get("rules", []):
        restricted = normalize(restrict(rule, Scope(schema, schema)))
        if isinstance(restricted, bool):
            NOTES.add(type_name, f"deployer rule '{rule.get('ruleMessage')}' is {restricted} for the kept properties")
            continue
        schema.setdefault("allOf", []).append(restricted)
    member_of = []
    for entry in cfg.get("member_of", []):
        sources = [p for p in entry["in"] if _instance_path_exists(schema, p)]
        if not _instance_path_exists(schema, entry["values"]) or not sources:
            NOTES.add(type_name, f"memberOf {entry['values']} dropped: a path names a cut property")
            continue
        member_of.append({**entry, "in": sources})
    if member_of:
        schema["memberOf"] = member_of


def _deviations(type_name: str, cfg: dict, schema: dict) -> list[dict]:
    out = []
    for dev in cfg.get("deviations", []):
        if set(dev) != {"pointer", "cloudformation", "deployer", "why"}:
            raise SystemExit(f"{type_name}: a deviation has exactly pointer, cloudformation, deployer, why: {dev}")
        allowed = STRATEGIES if dev["pointer"] == "/replacementStrategy" else BEHAVIOURS
        if dev["cloudformation"] not in allowed or dev["deployer"] not in allowed or dev["cloudformation"] == dev["deployer"]:
            raise SystemExit(f"{type_name}: deviation {dev['pointer']}: behaviours are two different of {sorted(allowed)}")
        if dev["pointer"] != "/replacementStrategy" and node_at(schema, dev["pointer"]) is None:
            NOTES.add(type_name, f"deviation {dev['pointer']} dropped: not a kept property")
            continue
        out.append(dev)
    return out


def _replacement(type_name: str, cfg: dict, src: dict, schema: dict) -> dict:
    """CloudFormation's replacement metadata for the kept properties, with the deviations applied."""
    deviations = _deviations(type_name, cfg, schema)
    create_only = _pointers(src.get("createOnlyProperties"), schema)
    strategy = src.get("replacementStrategy", DEFAULT_STRATEGY)
    for dev in deviations:
        if dev["pointer"] == "/replacementStrategy":
            strategy = dev["deployer"]
        elif dev["deployer"] == "replace" and dev["pointer"] not in create_only:
            create_only.append(dev["pointer"])
        elif dev["deployer"] != "replace" and dev["pointer"] in create_only:
            create_only.remove(dev["pointer"])
    immutable = _pointers(cfg.get("immutable"), schema)
    for pointer in sorted(set(cfg.get("immutable", [])) - set(immutable)):
        NOTES.add(type_name, f"immutable {pointer} dropped: not a kept property")
    return {
        "createOnlyProperties": create_only,
        "conditionalCreateOnlyProperties": _pointers(src.get("conditionalCreateOnlyProperties"), schema),
        "immutableProperties": immutable,
        "replacementStrategy": strategy,
        "deviations": deviations,
    }


def _annotate(type_name: str, cfg: dict, src: dict) -> None:
    """Give provider rules the messages the config writes for them (before they are simplified)."""
    for pointer, message in cfg.get("rule_messages", {}).items():
        node = src
        for part in [p for p in pointer.split("/") if p]:
            node = node[int(part) if isinstance(node, list) else part]
        if not isinstance(node, dict):
            raise SystemExit(f"{type_name}: rule_messages {pointer} is not a rule")
        node["ruleMessage"] = message


def generate(type_name: str) -> dict:
    cfg = TYPES[type_name]
    src = official(type_name)
    _annotate(type_name, cfg, src)
    kept = set(cfg["keep"])
    props = {k: v for k, v in src["properties"].items() if k in kept}
    missing = kept - set(props)
    if missing:
        raise SystemExit(f"{type_name}: not in CloudFormation's schema: {sorted(missing)}")
    props.update(json.loads(json.dumps(cfg.get("add", {}))))
    definitions = {}
    todo = _refs(props)
    while todo:
        name = todo.pop()
        if name in definitions:
            continue
        d = json.loads(json.dumps(src["definitions"][name]))
        if name in cfg.get("defs", {}):
            keep = set(cfg["defs"][name])
            d["properties"] = {k: v for k, v in d.get("properties", {}).items() if k in keep}
            d["required"] = [r for r in d.get("required", []) if r in keep]
            if not d["required"]:
                d.pop("required")
        if name in cfg.get("extend", {}):
            d.setdefault("properties", {}).update(cfg["extend"][name])
        definitions[name] = d
        todo |= _refs(d) - set(definitions)
    schema = {
        "typeName": type_name,
        "description": f"deployer's subset of CloudFormation's {type_name} (generated by tools/schemagen.py)",
        "cfnLintVersion": CFN_LINT_VERSION,
        "type": "object",
        "properties": props,
        "definitions": dict(sorted(definitions.items())),
        "additionalProperties": False,
        "required": [r for r in src.get("required", []) if r in kept],
    }
    schema.update(rule_of(src))
    _restrict_everywhere(type_name, schema)
    _carry_extensions(type_name, cfg, schema)
    _carry_rules(type_name, cfg, schema)
    _prune_definitions(schema)
    schema.update({
        "primaryIdentifier": src.get("primaryIdentifier", []),
        **_replacement(type_name, cfg, src, schema),
        "writeOnlyProperties": _pointers(src.get("writeOnlyProperties"), schema),
        "readOnlyProperties": _pointers(src.get("readOnlyProperties"), schema),
        "refValue": cfg["ref"],
        # extra names usable as ${Name.Attr}: CloudFormation GetAtt names that are not read-only properties
        "attributes": cfg.get("attributes", []),
        "dataBearing": bool(cfg.get("data_bearing", False)),
        "taggable": bool(src.get("tagging", {}).get("taggable", "Tags" in props)),
    })
    _close(schema["properties"])
    _close(schema["definitions"])
    return schema


def main(argv: list[str]) -> None:
    for type_name in argv or sorted(TYPES):
        schema = generate(type_name)
        path = OUT / (type_name.replace("::", "_") + ".json")
        path.write_text(json.dumps(schema, indent=2, sort_keys=False) + "\n")
        print(f"wrote {path}")
    for line in NOTES.lines:
        print(f"  note: {line}")


if __name__ == "__main__":
    main(sys.argv[1:])
