"""Template parameters as deployer variables: one declaration per parameter (type, default, enum,
pattern, lengths, bounds, sensitive), values from --var, --var-file and DEPLOYER_VAR_* exactly as for
a deployer spec (deployer.spec.variables), then checked against the declarations."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deployer.cfn.intrinsics import Parameter
from deployer.errors import Location, Problem
from deployer.spec import variables as variables_mod
from deployer.spec.suggest import did_you_mean
from deployer.spec.yamlmarks import Marks, format_path

ATTRIBUTES = ("Type", "Default", "AllowedValues", "AllowedPattern", "MinLength", "MaxLength", "MinValue",
              "MaxValue", "NoEcho", "Description", "ConstraintDescription")
AWS_TYPES = ("AWS::EC2::AvailabilityZone::Name", "AWS::EC2::Image::Id", "AWS::EC2::Instance::Id",
             "AWS::EC2::KeyPair::KeyName", "AWS::EC2::SecurityGroup::GroupName", "AWS::EC2::SecurityGroup::Id",
             "AWS::EC2::Subnet::Id", "AWS::EC2::Volume::Id", "AWS::EC2::VPC::Id", "AWS::Route53::HostedZone::Id",
             "AWS::SSM::Parameter::Name")
_SSM = re.compile(r"^AWS::SSM::Parameter::Value<(.+)>$")
_LIST = re.compile(r"^List<(.+)>$")


@dataclass
class Kind:
    """What a parameter type means for deployer: the JSON Schema type of its value (or of its items)."""

    schema_type: str  # string | number | array
    item_type: str | None = None
    ssm: bool = False


@dataclass
class Declared:
    declarations: dict[str, dict[str, Any]] = field(default_factory=dict)
    kinds: dict[str, Kind] = field(default_factory=dict)
    constraint: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def kind_of(type_name: Any) -> Kind | None:
    """The deployer meaning of a CloudFormation parameter type, or None for an unknown type."""
    if not isinstance(type_name, str):
        return None
    ssm = _SSM.match(type_name)
    if ssm:
        inner = kind_of(ssm.group(1))
        if inner is None or inner.ssm:
            return None
        return Kind("string", "array" if inner.schema_type == "array" else None, ssm=True)
    if type_name == "String" or type_name in AWS_TYPES:
        return Kind("string")
    if type_name == "Number":
        return Kind("number")
    if type_name == "CommaDelimitedList":
        return Kind("array", "string")
    listed = _LIST.match(type_name)
    if listed:
        inner = listed.group(1)
        if inner == "Number":
            return Kind("array", "number")
        if inner == "String" or inner in AWS_TYPES:
            return Kind("array", "string")
    return None


def declare(section: Any, marks: Marks, filename: str) -> Declared:
    """Deployer declarations for a template's Parameters section, with the problems found in it."""
    out = Declared()
    if section is None:
        return out

    def where(*path: Any) -> Location:
        for n in range(len(path), -1, -1):
            if tuple(path[:n]) in marks:
                return marks[tuple(path[:n])]
        return Location(filename, 1, 1)

    def problem(message: str, *path: Any) -> None:
        out.problems.append(Problem(where(*path), format_path(path), message))

    if not isinstance(section, dict):
        problem("Parameters must be a mapping of parameter names", "Parameters")
        return out
    for name, body in section.items():
        base = ("Parameters", name)
        if not re.match(r"^[A-Za-z0-9]+$", str(name)):
            problem(f"invalid parameter name '{name}': letters and digits only", *base)
            continue
        if not isinstance(body, dict):
            problem("a parameter must be a mapping with at least Type", *base)
            continue
        for key in body:
            if key not in ATTRIBUTES:
                problem(f"unknown parameter attribute '{key}'" + did_you_mean(key, ATTRIBUTES), *base, key)
        if "Type" not in body:
            problem("a parameter needs a Type", *base)
            continue
        kind = kind_of(body["Type"])
        if kind is None:
            problem(f"unsupported parameter type {body['Type']!r} (String, Number, List<Number>, CommaDelimitedList, "
                    "the AWS-specific types such as AWS::EC2::VPC::Id and their List<...>, and "
                    "AWS::SSM::Parameter::Value<...>)", *base, "Type")
            continue
        decl: dict[str, Any] = {"type": kind.schema_type}
        item: dict[str, Any] = {}
        target = decl if kind.schema_type != "array" else item
        if kind.schema_type == "array":
            item["type"] = kind.item_type
        number = (kind.schema_type == "number") or (kind.item_type == "number" and not kind.ssm)
        try:
            if "AllowedValues" in body:
                allowed = body["AllowedValues"]
                if not isinstance(allowed, list) or not allowed:
                    raise _Bad("AllowedValues", "AllowedValues must be a non-empty list")
                target["enum"] = [_number(v, "AllowedValues") if number else _text(v) for v in allowed]
            if "AllowedPattern" in body:
                pattern = body["AllowedPattern"]
                if not isinstance(pattern, str):
                    raise _Bad("AllowedPattern", "AllowedPattern must be a string")
                pattern = python_pattern(pattern)
                target["pattern"] = f"^(?:{pattern})$"  # CloudFormation matches the whole value
            for cfn_key, key in (("MinLength", "minLength"), ("MaxLength", "maxLength")):
                if cfn_key in body:
                    target[key] = int(_number(body[cfn_key], cfn_key))
            for cfn_key, key in (("MinValue", "minimum"), ("MaxValue", "maximum")):
                if cfn_key in body:
                    target[key] = _number(body[cfn_key], cfn_key)
            if "Default" in body:
                decl["default"] = normalise(body["Default"], kind, "Default")
        except _Bad as exc:
            problem(exc.message, *base, exc.key)
            continue
        if item and kind.schema_type == "array":
            decl["items"] = item
        if str(body.get("NoEcho", "false")).lower() == "true":
            decl["sensitive"] = True
        if isinstance(body.get("Description"), str):
            decl["description"] = body["Description"]
        if isinstance(body.get("ConstraintDescription"), str):
            out.constraint[name] = body["ConstraintDescription"]
        out.declarations[name] = decl
        out.kinds[name] = kind
    return out


def python_pattern(pattern: str) -> str:
    """An AllowedPattern (a Java regular expression in CloudFormation) as a Python one: Java reads a `-`
    right after a class such as `\\w` inside brackets as a literal hyphen, Python refuses it."""
    for candidate in (pattern, re.sub(r"(\\[wdsWDS])-", r"\1\\-", pattern)):
        try:
            re.compile(candidate)
            return candidate
        except re.error as exc:
            error = exc
    raise _Bad("AllowedPattern", f"AllowedPattern is not a valid regular expression: {error}")


class _Bad(Exception):
    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any, key: str) -> int | float:
    if isinstance(value, bool):
        raise _Bad(key, f"{key}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        return value
    try:
        text = str(value).strip()
        return int(text) if re.match(r"^[+-]?\d+$", text) else float(text)
    except ValueError:
        raise _Bad(key, f"{key}: expected a number, got {value!r}") from None


def normalise(value: Any, kind: Kind, key: str = "value") -> Any:
    """A parameter value as CloudFormation reads it: lists from comma-separated text (each item
    trimmed), numbers from their text, strings from scalars. A value that cannot convert is left for
    the declaration's check to report."""
    if kind.schema_type == "array" and not kind.ssm:
        items = [x.strip() for x in value.split(",")] if isinstance(value, str) else value
        if isinstance(items, list) and kind.item_type == "number":
            out = []
            for x in items:
                try:
                    out.append(_number(x, key))
                except _Bad:
                    out.append(x)
            return out
        if isinstance(items, list):
            return [_text(x) if isinstance(x, str | int | float | bool) else x for x in items]
        return items
    if kind.schema_type == "number":
        try:
            return _number(value, key)
        except _Bad:
            return value
    if isinstance(value, int | float | bool):
        return _text(value)
    return value


def resolve_values(declared: Declared, cli_vars: list[str], var_files: list[str], environ: Mapping[str, str],
                   marks: Marks, filename: str) -> tuple[dict[str, Parameter], list[Problem]]:
    """Each parameter's value, typed and checked, from the same sources and in the same order as a
    deployer spec's variables."""
    decls = declared.declarations
    given, problems = variables_mod.gather_values(decls, cli_vars, var_files, environ)
    given = {k: normalise(v, declared.kinds[k]) for k, v in given.items()}

    def locate(path: tuple) -> Location:
        return marks.get(("Parameters", *path[1:])) or Location(filename, 1, 1)

    values, value_problems = variables_mod.resolve(decls, given, locate)
    for p in value_problems:
        name = p.path.split(".", 1)[1] if "." in p.path else p.path
        extra = f" ({declared.constraint[name]})" if name in declared.constraint and "invalid value" in p.message else ""
        problems.append(Problem(p.location, f"Parameters.{name}", p.message + extra))
    out = {}
    for name, value in values.items():
        kind = declared.kinds[name]
        out[name] = Parameter(name, value, list_type=kind.schema_type == "array" or kind.item_type == "array",
                              ssm=kind.ssm, string_type=kind.schema_type == "string")
    return out, problems
