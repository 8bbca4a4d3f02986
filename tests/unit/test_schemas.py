"""Our resource schemas against CloudFormation's official provider schemas (shipped by cfn-lint, at the
version pinned in pyproject.toml): every property name and JSON type we accept must be CloudFormation's,
so snippets carry over, and every difference in replacement or attributes is a documented deviation."""

from __future__ import annotations

import json
import re
import sys
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from deployer.resources import registry
from deployer.schemas_loader import (
    attribute_names,
    cut_from,
    envelope_schema,
    known_types,
    plan_schema,
    resource_schema,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from schemagen import TYPES, extension_files, generate, official  # noqa: E402

EXTENSIONS = {("AWS::Lambda::Function", "Code", "Path"),  # deployer's documented additions
              ("AWS::RDS::DBInstance", "", "SkipFinalSnapshot")}


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].split("/")[-1]]
    return node


def _types(node: dict) -> set[str]:
    t = node.get("type")
    return set(t) if isinstance(t, list) else {t} if t else set()


def _walk(type_name, ours_root, ours, theirs_root, theirs, path, out):
    ours, theirs = _resolve(ours_root, ours), _resolve(theirs_root, theirs)
    if ours.get("type") == "array" and "items" in ours:
        _walk(type_name, ours_root, ours["items"], theirs_root, theirs.get("items", {}), path + ["[]"], out)
        return
    for name, sub in (ours.get("properties") or {}).items():
        if (type_name, path[-1] if path else "", name) in EXTENSIONS:
            continue
        their_props = theirs.get("properties") or {}
        if name not in their_props:
            out.append(f"{type_name}: {'.'.join(path + [name])} is not a CloudFormation property")
            continue
        ot, tt = _types(_resolve(ours_root, sub)), _types(_resolve(theirs_root, their_props[name]))
        if ot and tt and not ot <= tt | ({"number"} if "integer" in tt else set()) | ({"integer"} if "number" in tt else set()):
            out.append(f"{type_name}: {'.'.join(path + [name])} has type {ot}, CloudFormation says {tt}")
        _walk(type_name, ours_root, sub, theirs_root, their_props[name], path + [name], out)


@pytest.mark.parametrize("type_name", known_types())
def test_names_and_types_match_cloudformation(type_name):
    ours = resource_schema(type_name)
    theirs = official(type_name)
    problems: list[str] = []
    _walk(type_name, ours, ours, theirs, theirs, [], problems)
    assert problems == []


@pytest.mark.parametrize("type_name", known_types())
def test_schema_carries_registry_metadata(type_name):
    s = resource_schema(type_name)
    for key in ("primaryIdentifier", "createOnlyProperties", "conditionalCreateOnlyProperties", "readOnlyProperties",
                "writeOnlyProperties", "immutableProperties", "replacementStrategy", "deviations", "dataBearing",
                "refValue", "attributes", "cfnLintVersion"):
        assert key in s, key
    assert s["additionalProperties"] is False
    jsonschema.Draft7Validator.check_schema(s)
    for key in ("createOnlyProperties", "conditionalCreateOnlyProperties", "readOnlyProperties",
                "writeOnlyProperties", "immutableProperties"):
        for pointer in s[key]:
            assert pointer.split("/")[2] in s["properties"], (key, pointer)


def test_schemas_are_cut_from_the_pinned_cfn_lint():
    """The comparisons below are against the cfn-lint the schemas were cut from; pyproject.toml pins it."""
    pinned = re.search(r'"cfn-lint==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pinned, "pyproject.toml's dev extra pins cfn-lint exactly"
    assert cut_from() == pinned.group(1)
    assert version("cfn-lint") == cut_from(), (
        f"the schemas were cut from cfn-lint {cut_from()}, but {version('cfn-lint')} is installed: "
        "pip install -e '.[dev]' (or re-cut them with tools/schemagen.py and update the pin)")


@pytest.mark.parametrize("type_name", known_types())
def test_committed_schema_is_what_schemagen_cuts(type_name):
    """tools/schemagen.py is the only author of schemas/resources/*.json."""
    assert resource_schema(type_name) == json.loads(json.dumps(generate(type_name)))


@pytest.mark.parametrize("type_name", known_types())
def test_every_cfn_lint_extension_rule_is_carried_or_skipped_with_a_reason(type_name):
    cfg = TYPES[type_name]
    carried = {e["file"] for e in cfg.get("extensions", [])}
    skipped = cfg.get("skip_extensions", {})
    assert set(extension_files(type_name)) == carried | set(skipped)
    assert not carried & set(skipped) and all(len(why) > 10 for why in skipped.values())
    for rule in _rules(resource_schema(type_name)):
        assert rule["ruleMessage"].strip()


def _rules(node):
    """Every sub-schema with a ruleMessage."""
    if isinstance(node, dict):
        if "ruleMessage" in node:
            yield node
        for v in node.values():
            yield from _rules(v)
    elif isinstance(node, list):
        for v in node:
            yield from _rules(v)


# --- replacement: the generated comparison with CloudFormation's schema ---------------------------

def _covered(pointer: str, pointers: list[str]) -> bool:
    """A pointer, or one of its ancestors, is in the list (a create-only object covers its parts)."""
    return any(pointer == p or pointer.startswith(p + "/") for p in pointers)


def _theirs(src: dict, pointer: str) -> str:
    if _covered(pointer, src.get("createOnlyProperties", [])):
        return "replace"
    if _covered(pointer, src.get("conditionalCreateOnlyProperties", [])):
        return "conditional"
    return "update"


def _ours(schema: dict, pointer: str) -> str:
    if _covered(pointer, schema["immutableProperties"]):
        return "immutable"
    if _covered(pointer, schema["createOnlyProperties"]):
        return "replace"
    if _covered(pointer, schema["conditionalCreateOnlyProperties"]):
        return "conditional"
    return "update"


@pytest.mark.parametrize("type_name", known_types())
def test_replacement_matches_cloudformation_but_for_listed_deviations(type_name):
    """Per property: replace (createOnly), conditional, in place, or immutable (CloudFormation refuses the
    update, SPEC §7) as CloudFormation's schema says, unless a deviation lists that very difference."""
    ours, src = resource_schema(type_name), official(type_name)
    deviations = {d["pointer"]: d for d in ours["deviations"]}
    read_only = {p for p in ours["readOnlyProperties"]}
    pointers = {f"/properties/{name}" for name in ours["properties"]} - read_only
    for key in ("createOnlyProperties", "conditionalCreateOnlyProperties"):
        pointers |= {p for p in src.get(key, []) if p.split("/")[2] in ours["properties"]}
    for key in ("createOnlyProperties", "conditionalCreateOnlyProperties", "immutableProperties"):
        pointers |= set(ours[key])
    pointers |= set(deviations) - {"/replacementStrategy"}
    unlisted = []
    for pointer in sorted(pointers):
        theirs, mine, dev = _theirs(src, pointer), _ours(ours, pointer), deviations.get(pointer)
        if dev:
            assert dev["deployer"] == mine, f"{pointer}: the deviation says deployer does {dev['deployer']}, the schema {mine}"
            # a difference CloudFormation's schema does not show is one its user guide states (updates not supported)
            assert dev["cloudformation"] in (theirs, "immutable"), f"{pointer}: CloudFormation's schema says {theirs}"
            assert len(dev["why"]) > 20
        elif theirs != mine and not (mine == "immutable" and theirs == "update"):
            unlisted.append(f"{pointer}: CloudFormation {theirs}, deployer {mine}")
    assert unlisted == [], f"{type_name}: differences from CloudFormation {version('cfn-lint')} that no deviation lists"


@pytest.mark.parametrize("type_name", known_types())
def test_replacement_order_matches_cloudformation_but_for_listed_deviations(type_name):
    ours, src = resource_schema(type_name), official(type_name)
    theirs = src.get("replacementStrategy", "create_then_delete")
    dev = next((d for d in ours["deviations"] if d["pointer"] == "/replacementStrategy"), None)
    if dev:
        assert (dev["cloudformation"], dev["deployer"]) == (theirs, ours["replacementStrategy"])
    else:
        assert ours["replacementStrategy"] == theirs


def test_immutable_and_data_bearing_types_are_spec_section_7s():
    immutable = {t: resource_schema(t)["immutableProperties"] for t in known_types() if resource_schema(t)["immutableProperties"]}
    assert immutable == {"AWS::KMS::Key": ["/properties/KeySpec", "/properties/KeyUsage", "/properties/MultiRegion"],
                         "AWS::DynamoDB::Table": ["/properties/LocalSecondaryIndexes"]}  # Origin is not implemented
    assert {t for t in known_types() if resource_schema(t)["dataBearing"]} == {
        "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::RDS::DBInstance", "AWS::KMS::Key",
        "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup", "AWS::SQS::Queue"}


@pytest.mark.parametrize("type_name", known_types())
def test_read_and_write_only_are_cloudformations(type_name):
    ours, src = resource_schema(type_name), official(type_name)
    kept = set(ours["properties"])
    for key in ("readOnlyProperties", "writeOnlyProperties"):
        theirs = [p for p in src.get(key, []) if p.split("/")[2] in kept]
        assert set(ours[key]) <= set(theirs), key
        cut = set(theirs) - set(ours[key])  # only pointers into sub-properties deployer does not implement
        assert all(p.count("/") > 2 for p in cut), (key, cut)


# --- attributes: CloudFormation's Fn::GetAtt names ------------------------------------------------

@pytest.mark.parametrize("type_name", known_types())
def test_attributes_are_cloudformation_getatt_names(type_name):
    accepted = set(attribute_names(type_name))
    getatts = set(PROVIDER_SCHEMA_MANAGER.get_type_getatts(type_name, "us-east-1"))
    assert accepted <= getatts, f"not Fn::GetAtt names in cfn-lint {version('cfn-lint')}: {sorted(accepted - getatts)}"
    ours, src = resource_schema(type_name), official(type_name)
    for pointer in src.get("readOnlyProperties", []):
        if "*" in pointer or pointer.split("/")[2] not in ours["properties"]:
            continue  # an attribute of a property deployer does not implement
        name = ".".join(pointer.split("/")[2:])
        assert name in accepted or any(a.startswith(name + ".") for a in accepted), name


def test_every_schema_has_a_handler_and_back():
    assert set(registry()) == set(known_types())


def test_envelope_and_plan_schemas_are_valid():
    jsonschema.Draft202012Validator.check_schema(envelope_schema())
    jsonschema.Draft202012Validator.check_schema(plan_schema())
    example = json.loads((Path(__file__).resolve().parents[2] / "tests" / "unit" / "plan_example.json").read_text())
    jsonschema.Draft202012Validator(plan_schema()).validate(example)
