"""Load a CloudFormation template into deployer's Stack model.

The template's sections become the model's: Parameters -> variables (deployer.cfn.parameters),
Resources -> resources with their properties evaluated (deployer.cfn.intrinsics), Outputs -> outputs.
Model paths are deployer-shaped (("resources", X, "properties", ...)) and marked at the template's
lines; `Stack.display_path` names them in the template's words.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from deployer import regions, secrets
from deployer.cfn import STACK_NAME, default_stack_name
from deployer.cfn.intrinsics import Evaluator, Failed, Parameter
from deployer.cfn.parameters import Declared, declare, resolve_values
from deployer.cfn.scalars import coerce
from deployer.cfn.template import parse_template
from deployer.cfn.values import NOVALUE, Func, IfVal, Jinja, LDict, LList, Text
from deployer.errors import Location, Problem, SpecError
from deployer.regions import override_region
from deployer.schemas_loader import resource_schema
from deployer.spec.model import Lifecycle, Resource, Stack
from deployer.spec.refs import escape
from deployer.spec.suggest import did_you_mean
from deployer.spec.yamlmarks import Marks, Path, YamlProblem, format_path

TOP_LEVEL = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings",
             "Conditions", "Transform", "Resources", "Outputs", "Hooks")
RESOURCE_ATTRIBUTES = ("Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy",
                       "Metadata", "CreationPolicy", "UpdatePolicy")
POLICIES = {"Delete": "delete", "Retain": "retain", "Snapshot": "snapshot", "RetainExceptOnCreate": "retain_except_on_create"}
# the model's words for a path's section and field, in the template's words (Stack.display_path)
PATH_WORDS = {"resources": "Resources", "outputs": "Outputs", "variables": "Parameters", "properties": "Properties",
              "type": "Type", "depends_on": "DependsOn", "deletion_policy": "DeletionPolicy",
              "update_replace_policy": "UpdateReplacePolicy", "value": "Value", "description": "Description",
              "export": "Export"}
TRANSFORM_TYPES = {"AWS::Serverless-2016-10-31": "AWS::Serverless::"}
HARMLESS_TRANSFORMS = ("AWS::LanguageExtensions",)


@dataclass
class Template:
    """A parsed template and everything loading it found."""

    path: str
    data: dict[str, Any]
    marks: Marks
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def loc(self, *path: Any) -> Location:
        for n in range(len(path), -1, -1):
            if tuple(path[:n]) in self.marks:
                return self.marks[tuple(path[:n])]
        return Location(self.path, 1, 1)

    def problem(self, message: str, *path: Any) -> None:
        self.problems.append(Problem(self.loc(*path), format_path(path), message))

    def warn(self, message: str, *path: Any) -> None:
        self.warnings.append(f"{self.loc(*path)}: {format_path(path)}: {message}")


def read_template(path: str) -> Template:
    """Read and parse a template file; raises SpecError for a file that cannot be read or parsed."""
    from deployer.spec.load import _read

    try:
        text = _read(FsPath(path))
        data, marks = parse_template(text, path)
    except YamlProblem as exc:
        raise SpecError([exc.problem]) from None
    marks.setdefault((), Location(path, 1, 1))
    return Template(path, data, marks)


def check_envelope(t: Template) -> None:
    """Top-level keys, Transform and Rules: refuse what deployer cannot honour, warn about what it ignores."""
    for key in t.data:
        if key not in TOP_LEVEL:
            t.problem(f"unknown top-level key '{key}'" + did_you_mean(key, TOP_LEVEL), key)
    if "Rules" in t.data:
        t.warn("Rules are not checked by deployer (ignored)", "Rules")
    if "Hooks" in t.data:
        t.warn("Hooks are ignored", "Hooks")
    resources = t.data.get("Resources")
    if not isinstance(resources, dict) or not resources:
        t.problem("a template needs a Resources mapping with at least one resource", "Resources")
    transforms = t.data.get("Transform")
    if transforms is None:
        return
    names = transforms if isinstance(transforms, list) else [transforms]
    types = [body.get("Type") for body in (resources or {}).values() if isinstance(body, dict)] \
        if isinstance(resources, dict) else []
    for i, name in enumerate(names):
        where = ("Transform", i) if isinstance(transforms, list) else ("Transform",)
        if not isinstance(name, str):
            t.problem("a Transform is a name (or a list of names)", *where)
        elif name in TRANSFORM_TYPES:
            used = sorted({str(x) for x in types if isinstance(x, str) and x.startswith(TRANSFORM_TYPES[name])})
            if used:
                t.problem(f"transform {name} is not supported, and this template uses its types "
                          f"({', '.join(used)})", *where)
            else:
                t.warn(f"transform {name} ignored: no resource uses its types", *where)
        elif name in HARMLESS_TRANSFORMS:
            t.warn(f"transform {name} ignored: deployer supports none of its functions", *where)
        else:
            t.problem(f"transform {name} is not supported (deployer runs no macros)", *where)


def check_mappings(t: Template) -> dict[str, Any]:
    mappings = t.data.get("Mappings") or {}
    if not isinstance(mappings, dict):
        t.problem("Mappings must be a mapping of mapping names", "Mappings")
        return {}
    good = {}
    for name, body in mappings.items():
        if not isinstance(body, dict) or not all(isinstance(v, dict) for v in body.values()):
            t.problem("a mapping is two levels of keys: {TopLevelKey: {SecondLevelKey: value}}", "Mappings", name)
            continue
        good[name] = body
    return good


def stack_name_for(path: str, given: str | None, t: Template) -> str:
    name = given if given is not None else default_stack_name(path)
    if not STACK_NAME.match(name):
        t.problems.append(Problem(Location("<command line>", 0, 0), "--stack",
                                  f"invalid stack name '{name}': expected ^[a-z][a-z0-9-]{{0,62}}$"))
    return name


def load_template(path: str, cli_vars: list[str], var_files: list[str], region: str | None,
                  environ: Mapping[str, str] | None = None, stack_name: str | None = None) -> Stack:
    """A CloudFormation template as a Stack. Raises SpecError listing every problem found."""
    environ = os.environ if environ is None else environ
    t = read_template(path)
    check_envelope(t)
    name = stack_name_for(path, stack_name, t)
    stack_region = regions.stack_region(override_region(region, environ), None, environ)
    declared = declare(t.data.get("Parameters"), t.marks, path)
    t.problems += declared.problems
    params, value_problems = resolve_values(declared, cli_vars, var_files, environ, t.marks, path)
    t.problems += value_problems
    sensitive = [p.value for n, p in params.items() if declared.declarations[n].get("sensitive")]
    for v in sensitive:
        secrets.register(v, fields=True)
    t.problems += [Problem(t.marks.get(("Parameters", n)) or Location(path, 1, 1), f"Parameters.{n}", m)
                   for n, p in params.items() if declared.declarations[n].get("sensitive")
                   for m in secrets.unhideable(p.value, declared.declarations[n])]
    if t.problems:
        raise SpecError(t.problems)
    ev = evaluator_for(t, params, stack_region, name, convert=False)
    resources = build_resources(t, ev)
    outputs = build_outputs(t, ev)
    if t.problems:
        raise SpecError(t.problems)
    return make_stack(t, name, stack_region, override_region(region, environ) or environ.get("AWS_DEFAULT_REGION"),
                      declared, params, resources, outputs, sensitive)


def evaluator_for(t: Template, params: dict[str, Parameter], region: str, stack_name: str, convert: bool) -> Evaluator:
    raw_resources = t.data.get("Resources") if isinstance(t.data.get("Resources"), dict) else {}
    conditions = t.data.get("Conditions") or {}
    if not isinstance(conditions, dict):
        t.problem("Conditions must be a mapping of condition names", "Conditions")
        conditions = {}
    types = {n: str(b.get("Type", "")) if isinstance(b, dict) else "" for n, b in raw_resources.items()}
    for n in types:
        if n in params:
            t.problem(f"'{n}' is both a parameter and a resource", "Resources", n)
    return Evaluator(t.path, t.marks, params, check_mappings(t), conditions, types, region, stack_name, convert=convert)


@dataclass
class Built:
    """One resource or output as evaluated: its model body and the marks of its model paths."""

    body: dict[str, Any]
    marks: Marks
    condition: str | None = None  # convert: a Jinja expression the resource or output depends on


def resource_condition(t: Template, ev: Evaluator, section: str, name: str, body: dict[str, Any]
                       ) -> tuple[bool, str | None]:
    """(included, jinja expression) for a resource's or output's Condition."""
    cond = body.get("Condition")
    if cond is None:
        return True, None
    if not isinstance(cond, str):
        t.problem("Condition must be a condition name", section, name, "Condition")
        return True, None
    try:
        value = ev.condition(cond, (section, name, "Condition"))
    except Failed as exc:
        t.problems.append(exc.problem)
        return True, None
    return (True, value.expr) if value.expr is not None else (value.value, None)


def build_resources(t: Template, ev: Evaluator) -> dict[str, Built]:
    raw = t.data.get("Resources") if isinstance(t.data.get("Resources"), dict) else {}
    included: dict[str, str | None] = {}
    for name, body in raw.items():
        if str(name).startswith("Fn::ForEach"):
            t.problem("Fn::ForEach is not supported: it belongs to the AWS::LanguageExtensions transform, which "
                      "deployer does not run", "Resources", name)
            continue
        if not isinstance(body, dict):
            t.problem("a resource must be a mapping with at least Type", "Resources", name)
            continue
        keep, expr = resource_condition(t, ev, "Resources", name, body)
        if keep:
            included[name] = expr
        else:
            ev.excluded[name] = str(body.get("Condition"))
    out: dict[str, Built] = {}
    for name, expr in included.items():
        built = build_resource(t, ev, name, raw[name])
        if built is not None:
            built.condition = expr
            out[name] = built
    return out


def build_resource(t: Template, ev: Evaluator, name: str, body: dict[str, Any]) -> Built | None:
    base = ("Resources", name)
    out_base: Path = ("resources", name)
    marks: Marks = {out_base: t.loc(*base)}
    for key in body:
        if key not in RESOURCE_ATTRIBUTES:
            t.problem(f"unknown resource attribute '{key}'" + did_you_mean(key, RESOURCE_ATTRIBUTES), *base, key)
    for key in ("CreationPolicy", "UpdatePolicy"):
        if key in body:
            t.warn(f"{key} ignored (deployer waits for each resource in its own way, and updates in place)", *base, key)
    type_name = body.get("Type")
    if not isinstance(type_name, str) or not type_name:
        t.problem("a resource needs a Type (a string such as AWS::S3::Bucket)", *base, "Type")
        return None
    marks[(*out_base, "type")] = t.loc(*base, "Type")
    model: dict[str, Any] = {"type": type_name}
    props_node = body.get("Properties", {})
    if props_node is None:
        props_node = {}
    marks[(*out_base, "properties")] = t.loc(*base, "Properties")
    props = evaluate_properties(t, ev, type_name, props_node, (*base, "Properties"), (*out_base, "properties"), marks)
    model["properties"] = props
    depends = body.get("DependsOn")
    if depends is not None:
        items = [depends] if isinstance(depends, str) else depends
        if not isinstance(items, list) or not all(isinstance(d, str) for d in items):
            t.problem("DependsOn must be a resource name or a list of them", *base, "DependsOn")
        else:
            model["depends_on"] = list(items)
            for i, dep in enumerate(items):
                where = (*base, "DependsOn", i) if isinstance(depends, list) else (*base, "DependsOn")
                marks[(*out_base, "depends_on", i)] = t.loc(*where)
                marks.setdefault((*out_base, "depends_on"), t.loc(*base, "DependsOn"))
                if dep in ev.excluded:
                    t.problem(f"DependsOn '{dep}', which is not created: its condition '{ev.excluded[dep]}' is false",
                              *where)
    for key, field_name, allowed in (("DeletionPolicy", "deletion_policy", POLICIES),
                                     ("UpdateReplacePolicy", "update_replace_policy",
                                      {k: v for k, v in POLICIES.items() if k != "RetainExceptOnCreate"})):
        if key not in body:
            continue
        try:
            value = ev.known(ev.value(body[key], (*base, key)), (*base, key), key)
        except Failed as exc:
            t.problems.append(exc.problem)
            continue
        if value not in allowed:
            t.problem(f"{key} must be one of {', '.join(allowed)}, not {value!r}"
                      + did_you_mean(str(value), allowed), *base, key)
            continue
        model[field_name] = allowed[value]
        marks[(*out_base, field_name)] = t.loc(*base, key)
    return Built(model, marks)


def evaluate_properties(t: Template, ev: Evaluator, type_name: str, node: Any, tpath: Path, out: Path,
                        marks: Marks) -> Any:
    """A resource's properties, each evaluated on its own so every broken property is reported, and
    their scalars converted to the types the resource's schema wants (deployer.cfn.scalars)."""
    schema = resource_schema(type_name) or {}
    if not isinstance(node, dict):
        t.problem("Properties must be a mapping", *tpath)
        return {}
    if any(k == "Ref" or k.startswith("Fn::") for k in node):
        try:
            value = coerce(ev.value(node, tpath), schema, schema)
        except Failed as exc:
            t.problems.append(exc.problem)
            return {}
        result = finish(ev, value, out, marks, t.loc(*tpath))
        if not isinstance(result, dict):
            t.problem("Properties must evaluate to a mapping", *tpath)
            return {}
        return result
    props: dict[str, Any] = {}
    for key, item in node.items():
        try:
            value = coerce(ev.value(item, (*tpath, key)), (schema.get("properties") or {}).get(key), schema)
        except Failed as exc:
            t.problems.append(exc.problem)
            continue
        where = t.loc(*tpath, key)
        marks[(*out, key)] = where
        result = finish(ev, value, (*out, key), marks, where)
        if result is not NOVALUE:
            props[key] = result
    return props


def build_outputs(t: Template, ev: Evaluator) -> dict[str, Built]:
    raw = t.data.get("Outputs") or {}
    if not isinstance(raw, dict):
        t.problem("Outputs must be a mapping of output names", "Outputs")
        return {}
    out: dict[str, Built] = {}
    for name, body in raw.items():
        base = ("Outputs", name)
        if str(name).startswith("Fn::ForEach"):
            t.problem("Fn::ForEach is not supported: it belongs to the AWS::LanguageExtensions transform, which "
                      "deployer does not run", *base)
            continue
        if not isinstance(body, dict) or "Value" not in body:
            t.problem("an output needs a Value", *base)
            continue
        for key in body:
            if key not in ("Value", "Description", "Condition", "Export"):
                t.problem(f"unknown output attribute '{key}'" + did_you_mean(key, ("Value", "Description", "Condition",
                                                                                  "Export")), *base, key)
        keep, expr = resource_condition(t, ev, "Outputs", name, body)
        if not keep:
            continue
        marks: Marks = {("outputs", name): t.loc(*base), ("outputs", name, "value"): t.loc(*base, "Value")}
        try:
            value = ev.value(body["Value"], (*base, "Value"))
            model: dict[str, Any] = {"value": finish(ev, value, ("outputs", name, "value"), marks, t.loc(*base, "Value"))}
            if model["value"] is NOVALUE:
                ev.fail((*base, "Value"), "an output's Value cannot be AWS::NoValue")
            if "Description" in body:
                description = ev.known(ev.value(body["Description"], (*base, "Description")), (*base, "Description"),
                                       "an output's Description")
                model["description"] = str(description)
                marks[("outputs", name, "description")] = t.loc(*base, "Description")
            if "Export" in body:
                export = body["Export"]
                if not isinstance(export, dict) or set(export) != {"Name"}:
                    ev.fail((*base, "Export"), "Export takes {Name: ...}")
                export_name = finish(ev, ev.value(export["Name"], (*base, "Export", "Name")),
                                     ("outputs", name, "export"), marks, t.loc(*base, "Export", "Name"))
                if not isinstance(export_name, str | Text | Jinja):
                    ev.fail((*base, "Export", "Name"), "an export name must be a string")
                model["export"] = export_name
                marks[("outputs", name, "export")] = t.loc(*base, "Export", "Name")
        except Failed as exc:
            t.problems.append(exc.problem)
            continue
        out[name] = Built(model, marks, condition=expr)
    return out


def finish(ev: Evaluator, value: Any, out: Path, marks: Marks, where: Location | None) -> Any:
    """An evaluated value as the model holds it; convert keeps the evaluated form for its emitter."""
    if ev.convert:
        return value
    return to_model(value, out, marks, where)


def to_model(value: Any, out: Path, marks: Marks, where: Location | None) -> Any:
    """An evaluated value as a deployer model value (strings with `${...}`, functions in JSON form),
    recording the template location of each path. NOVALUE is returned for a removed value."""
    if value is NOVALUE:
        return NOVALUE
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Text):
        return value.deployer()
    if isinstance(value, Func):
        args = to_model(value.args, (*out, value.name), marks, where)
        return {value.name: [] if args is NOVALUE else args}
    if isinstance(value, IfVal | Jinja):
        raise TypeError("convert-only value in a loaded template")
    if isinstance(value, dict):
        locs = value.locs if isinstance(value, LDict) else {}
        result = {}
        for k, v in value.items():
            here = locs.get(k) or where
            item = to_model(v, (*out, k), marks, here)
            if item is NOVALUE:
                continue
            if here is not None:
                marks.setdefault((*out, k), here)
            result[k] = item
        return result
    if isinstance(value, list):
        locs = value.locs if isinstance(value, LList) else []
        items = []
        for i, v in enumerate(value):
            here = (locs[i] if i < len(locs) else None) or where
            item = to_model(v, (*out, len(items)), marks, here)
            if item is NOVALUE:
                continue
            if here is not None:
                marks.setdefault((*out, len(items)), here)
            items.append(item)
        return items
    return value


def make_stack(t: Template, name: str, region: str, region_override: str | None, declared: Declared,
               params: dict[str, Parameter], resources: dict[str, Built], outputs: dict[str, Built],
               sensitive: list[Any]) -> Stack:
    marks: Marks = {(): Location(t.path, 1, 1), ("stack",): Location(t.path, 1, 1)}
    if ("Resources",) in t.marks:
        marks[("resources",)] = t.marks[("Resources",)]
    if ("Outputs",) in t.marks:
        marks[("outputs",)] = t.marks[("Outputs",)]
    if ("Parameters",) in t.marks:
        marks[("variables",)] = t.marks[("Parameters",)]
    for n in declared.declarations:
        marks[("variables", n)] = t.loc("Parameters", n)
    model_resources: dict[str, Resource] = {}
    for n, built in resources.items():
        marks.update(built.marks)
        body = built.body
        model_resources[n] = Resource(
            name=n, type=body["type"], properties=body.get("properties", {}),
            depends_on=list(body.get("depends_on", [])),
            deletion_policy=body.get("deletion_policy"),  # None: the type's default, as in a deployer spec
            update_replace_policy=body.get("update_replace_policy"),  # None: as a deployer spec without one
            lifecycle=Lifecycle(),
        )
    model_outputs = {}
    for n, built in outputs.items():
        marks.update(built.marks)
        model_outputs[n] = built.body
    raw: dict[str, Any] = {"stack": name, "resources": {n: b.body for n, b in resources.items()}}
    if declared.declarations:
        raw["variables"] = declared.declarations
    if model_outputs:
        raw["outputs"] = model_outputs
    return Stack(
        name=name, region=region_override or region, path=t.path, variables={n: p.value for n, p in params.items()},
        resources=model_resources, outputs=model_outputs, sensitive_values=[str(v) for v in sensitive], raw=raw,
        marks=marks, warnings=t.warnings, source_format="cloudformation", path_words=PATH_WORDS,
    )
