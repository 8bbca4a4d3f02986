"""`deployer convert TEMPLATE`: the deployer spec equivalent to a CloudFormation template, as YAML text.

The template is evaluated as the loader does, except that a parameter stays a variable: a whole value
is `${var.NAME}`, a string built from one holds `${var.NAME}`, a load-time function of one (a
FindInMap keyed by it, a Select over a list parameter, a condition on it...) is a Jinja expression,
and a resource or output whose condition depends on one is wrapped in `{% if ... %}`. What does not
depend on a parameter is written as its value. The spec validates and plans as the template does.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from deployer import regions
from deployer.cfn.intrinsics import Parameter
from deployer.cfn.loader import (
    build_outputs,
    build_resources,
    check_envelope,
    evaluator_for,
    read_template,
    stack_name_for,
)
from deployer.cfn.parameters import declare, normalise
from deployer.cfn.values import MISSING, NOVALUE, Func, IfVal, Jinja, Text
from deployer.errors import SpecError
from deployer.regions import override_region
from deployer.spec import variables as variables_mod
from deployer.spec.refs import escape

_PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
VAR_MARK = re.compile(r"\\u0000(\w+)\\u0000|\x00(\w+)\x00")  # a variable's text, Jinja fills it in
_PLAIN_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9._/-]*(::?[A-Za-z0-9._/*-]+)*$")
_JINJA_OPEN = re.compile(r"\{[{%#]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\x85\ufeff]")


def convert(path: str, cli_vars: list[str] | None = None, var_files: list[str] | None = None,
            region: str | None = None, environ: Mapping[str, str] | None = None,
            stack_name: str | None = None) -> str:
    """The deployer spec for a template. Raises SpecError with every problem of the template."""
    environ = os.environ if environ is None else environ
    t = read_template(path)
    check_envelope(t)
    name = stack_name_for(path, stack_name, t)
    stack_region = regions.stack_region(override_region(region, environ), None, environ)
    declared = declare(t.data.get("Parameters"), t.marks, path)
    t.problems += declared.problems
    given, problems = variables_mod.gather_values(declared.declarations, cli_vars or [], var_files or [], environ)
    t.problems += problems
    if t.problems:
        raise SpecError(t.problems)
    params = {}
    for n, decl in declared.declarations.items():
        kind = declared.kinds[n]
        value = normalise(given[n], kind) if n in given else decl.get("default", MISSING)
        params[n] = Parameter(n, value, list_type=kind.schema_type == "array" or kind.item_type == "array",
                              ssm=kind.ssm, string_type=kind.schema_type == "string")
    ev = evaluator_for(t, params, stack_region, name, convert=True)
    resources = build_resources(t, ev)
    outputs = build_outputs(t, ev)
    if t.problems:
        raise SpecError(t.problems)
    lines = [f"# deployer spec converted from the CloudFormation template {os.path.basename(path)}",
             *[f"# note: {w}" for w in t.warnings], f"stack: {name}"]
    if declared.declarations:
        lines.append("variables:")
        for n, decl in declared.declarations.items():  # a default is deployer text: a parameter's never refers
            if "default" in decl:
                decl = {**decl, "default": _literal(decl["default"])}
            lines.append(f"  {_key(n)}: {_no_jinja(json.dumps(decl))}")
    lines.append("resources:")
    for n, built in resources.items():
        body = dict(built.body)
        block = [f"  {_key(n)}:", f"    type: {_scalar(body.pop('type'))}"]
        props = body.pop("properties", {})
        for k in ("depends_on", "deletion_policy", "update_replace_policy"):
            if k in body:
                block.append(f"    {k}: {_scalar(body[k])}")
        if props:
            block.append("    properties:")
            for k, v in props.items():
                block += _entry(k, v, 6)
        lines += _conditional(built.condition, block, 2)
    if outputs:
        lines.append("outputs:")
        for n, built in outputs.items():
            block = [f"  {_key(n)}:"]
            for k, v in built.body.items():
                block += _entry(k, v, 4)
            lines += _conditional(built.condition, block, 2)
    return "\n".join(lines) + "\n"


def _literal(value: Any) -> Any:
    """A parameter's value as deployer text: every `${` is literal."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [_literal(v) for v in value]
    return value


def _conditional(expr: str | None, block: list[str], indent: int) -> list[str]:
    if expr is None:
        return block
    pad = " " * indent
    return [f"{pad}{{% if {expr} %}}", *block, f"{pad}{{% endif %}}"]


def _branches(expr: str, then: list[str], other: list[str], pad: str) -> list[str]:
    """Jinja choosing between two blocks of lines (an empty one is left out)."""
    if not then and not other:
        return []
    if not then:
        return [f"{pad}{{% if not ({expr}) %}}", *other, f"{pad}{{% endif %}}"]
    if not other:
        return [f"{pad}{{% if {expr} %}}", *then, f"{pad}{{% endif %}}"]
    return [f"{pad}{{% if {expr} %}}", *then, f"{pad}{{% else %}}", *other, f"{pad}{{% endif %}}"]


def _entry(key: Any, value: Any, indent: int) -> list[str]:
    """The lines of `key: value` at an indentation; an Fn::If on a variable condition becomes Jinja."""
    pad = " " * indent
    if value is NOVALUE:
        return []
    if isinstance(value, IfVal):
        return _branches(value.expr, _entry(key, value.then, indent), _entry(key, value.other, indent), pad)
    if isinstance(value, Func):
        value = {value.name: value.args}
    if isinstance(value, dict) and value:
        lines = [f"{pad}{_key(key)}:"]
        for k, v in value.items():
            lines += _entry(k, v, indent + 2)
        return lines
    if isinstance(value, list) and value:
        lines = [f"{pad}{_key(key)}:"]
        for item in value:
            lines += _item(item, indent + 2)
        return lines
    block = _block_text(value, indent + 2)
    if block:
        return [f"{pad}{_key(key)}: {block[0]}", *block[1:]]
    return [f"{pad}{_key(key)}: {_scalar(value)}"]


def _block_text(value: Any, indent: int) -> list[str] | None:
    """A multi-line string as a YAML literal block (its indicator, then its lines), when it can be one."""
    text = escape(value) if isinstance(value, str) else value.deployer() if isinstance(value, Text) else None
    if text is None or "\n" not in text.rstrip("\n") or _CONTROL.search(text) or text[:1] in (" ", "\n"):
        return None
    body = text.rstrip("\n")
    if any(line != line.rstrip() for line in body.split("\n")):
        return None
    trailing = len(text) - len(body)
    indicator = "|-" if trailing == 0 else "|" if trailing == 1 else "|+"
    pad = " " * indent
    lines = [_no_jinja(pad + line) if line else "" for line in body.split("\n")]
    return [indicator, *lines, *([""] * (trailing - 1) if trailing > 1 else [])]


def _item(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if value is NOVALUE:
        return []
    if isinstance(value, IfVal):
        return _branches(value.expr, _item(value.then, indent), _item(value.other, indent), pad)
    if isinstance(value, Func):
        value = {value.name: value.args}
    if isinstance(value, dict | list) and value:
        inner = []
        if isinstance(value, dict):
            for k, v in value.items():
                inner += _entry(k, v, indent + 2)
        else:
            for v in value:
                inner += _item(v, indent + 2)
        first = inner[0] if inner else ""
        if first.startswith(pad + "  ") and not first.lstrip().startswith("{%"):
            return [f"{pad}- {first[len(pad) + 2:]}", *inner[1:]]
        return [f"{pad}-", *inner]
    block = _block_text(value, indent + 2)
    if block:
        return [f"{pad}- {block[0]}", *block[1:]]
    return [f"{pad}- {_scalar(value)}"]


def _key(key: Any) -> str:
    text = str(key)
    if _PLAIN_KEY.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return _no_jinja(json.dumps(text))


def _scalar(value: Any) -> str:
    """One value on one line: JSON (which YAML reads), Jinja left only where it is meant."""
    if isinstance(value, Jinja):  # a value computed at load time, placed as a typed value (deployer text)
        return "{{ (" + value.expr + ") }}"
    if isinstance(value, IfVal):
        raise TypeError("Fn::If is written as lines, not a scalar")
    plain = _plain(value)
    if isinstance(plain, str) and _PLAIN_VALUE.match(plain) and plain.lower() not in _YAML_WORDS:
        return plain
    return _no_jinja(json.dumps(plain))


def _plain(value: Any) -> Any:
    """A value with no Jinja inside as deployer data: strings escaped, Texts as `${...}` strings."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Text):
        return value.deployer()
    if isinstance(value, Func):
        return {value.name: _plain(value.args)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not NOVALUE}
    if isinstance(value, list):
        return [_plain(v) for v in value if v is not NOVALUE]
    if isinstance(value, Jinja | IfVal):
        raise TypeError("a Jinja value inside a one-line value")
    return value


def _no_jinja(text: str) -> str:
    """Text that Jinja renders as itself: every `{{`, `{%` and `{#` written as a Jinja string, except the
    marks where a variable's text goes (an SSM parameter type's name), which become `{{ var.NAME }}`."""
    text = _JINJA_OPEN.sub(lambda m: "{{ '" + m.group() + "' }}", text)
    return VAR_MARK.sub(lambda m: "{{ var." + (m.group(1) or m.group(2)) + " }}", text)
