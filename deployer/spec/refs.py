"""The ${...} reference language (CloudFormation's Fn::Sub) inside property and output strings.

Parsing is pure; resolving takes a callable so the same code serves plan time (values may be
unknown) and apply time (every resource a value depends on is done).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from typing import Any

from deployer.spec.yamlmarks import Path

PSEUDO = ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix", "AWS::StackId",
          "AWS::NotificationARNs")
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RefSyntaxError(ValueError):
    """A ${...} that is not one of the reference forms (reported at its line by validate)."""


@dataclass(frozen=True)
class Ref:
    """One ${...}: kind is resource, pseudo, ssm, secret or var (replaced at load time); "azs" is asked
    by Fn::GetAZs only (target: the region), never written."""

    kind: str
    target: str
    attr: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        if self.kind == "resource":
            return "${" + self.target + (f".{self.attr}" if self.attr else "") + "}"
        if self.kind == "pseudo":
            return "${" + self.target + "}"
        if self.kind == "var":
            return "${var." + self.target + "}"
        return "${" + f"{self.kind}:{self.target}" + (f":{self.key}" if self.key else "") + "}"


class Unknown:
    """A value that is not known until apply."""

    def __repr__(self) -> str:
        return "(known after apply)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return 0


UNKNOWN = Unknown()


def _parse_ref(body: str) -> Ref:
    body = body.strip()
    if body in PSEUDO:
        return Ref("pseudo", body)
    if body.startswith("AWS::"):
        raise RefSyntaxError(f"unknown pseudo parameter '${{{body}}}' (known: {', '.join(PSEUDO)})")
    if body.startswith("var."):
        if not _VAR_NAME.fullmatch(body[4:]):
            head = body[4:].split(".", 1)[0]
            if "." in body[4:] and _VAR_NAME.fullmatch(head):
                raise RefSyntaxError(f"'${{{body}}}': ${{var.NAME}} names a whole variable; reach a field of an "
                                     f"object variable in a template: {{{{ {body} }}}}")
            raise RefSyntaxError(f"'${{{body}}}' is not a variable reference: expected ${{var.NAME}}")
        return Ref("var", body[4:])
    if body.startswith("ssm:"):
        name = body[4:]
        if not name:
            raise RefSyntaxError("'${ssm:}' needs a parameter name")
        return Ref("ssm", name)
    if body.startswith("secret:"):
        rest = body[7:]
        name, _, key = rest.partition(":")
        if not name:
            raise RefSyntaxError("'${secret:}' needs a secret name")
        return Ref("secret", name, key=key or None)
    name, _, attr = body.partition(".")
    if not _NAME.fullmatch(name) or (attr and not re.fullmatch(r"[A-Za-z][A-Za-z0-9.]*", attr)):
        raise RefSyntaxError(f"'${{{body}}}' is not a reference: expected ${{Name}}, ${{Name.Attribute}}, "
                             "${AWS::...}, ${ssm:...} or ${secret:...} (write $${ for a literal ${)")
    return Ref("resource", name, attr or None)


def parse(text: str) -> list[str | Ref]:
    """Split a string into literal parts and references. Raises RefSyntaxError."""
    parts: list[str | Ref] = []
    pos = 0
    buf = ""
    for m in _TOKEN.finditer(text):
        buf += text[pos:m.start()]
        if m.group(0) == "$${":
            buf += "${"
        else:
            if buf:
                parts.append(buf)
                buf = ""
            parts.append(_parse_ref(m.group(1)))
        pos = m.end()
    buf += text[pos:]
    if "${" in text[pos:] and not text[pos:].startswith("$${"):
        tail = text[pos:]
        if re.search(r"(?<!\$)\$\{", tail):
            raise RefSyntaxError("unterminated '${' (write $${ for a literal ${)")
    if buf:
        parts.append(buf)
    return parts


def walk_refs(value: Any, path: Path = ()) -> Iterator[tuple[Path, Ref | RefSyntaxError]]:
    """Every reference (or syntax error) inside a nested value, with its path."""
    if isinstance(value, str):
        if "${" not in value:
            return
        try:
            for part in parse(value):
                if isinstance(part, Ref):
                    yield path, part
        except RefSyntaxError as exc:
            yield path, exc
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk_refs(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_refs(v, (*path, i))


def substitute(value: Any, resolve: Callable[[Ref], Any]) -> Any:
    """Replace references in a nested value. A string that is exactly one reference keeps its type;
    a string with any unknown part becomes UNKNOWN. A function in JSON form (deployer.spec.functions)
    is evaluated once its arguments are known, and is UNKNOWN until then."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        parts = parse(value)
        if len(parts) == 1 and isinstance(parts[0], Ref):
            return resolve(parts[0])
        out = []
        for part in parts:
            if isinstance(part, Ref):
                v = resolve(part)
                if isinstance(v, Unknown):
                    return UNKNOWN
                out.append(v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else str(v))
            else:
                out.append(part)
        return "".join(out)
    if isinstance(value, dict):
        from deployer.spec import functions

        if functions.is_function(value):
            name, args = next(iter(value.items()))
            args = substitute(args, resolve)
            return UNKNOWN if contains_unknown(args) else functions.evaluate(name, args, resolve)
        return {k: substitute(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, resolve) for v in value]
    return value


def escape(text: str) -> str:
    """A literal string as deployer text: every `${` written `$${`."""
    return text.replace("${", "$${")


def substitute_variables(value: Any, values: dict[str, Any], path: Path = (),
                         literal: Container[str] | None = None) -> tuple[Any, list[tuple[Path, str]]]:
    """Replace ${var.NAME} at load time: a string that is exactly one keeps the variable's type, inside a
    longer string it is its text; every other reference stays. The strings of the variables named in
    `literal` (all when None: values given from outside the spec) are literal text, `${` escaped.
    Returns the value and (path, name) of each undeclared variable."""
    missing: list[tuple[Path, str]] = []

    def as_text(name: str, text: str) -> str:
        return escape(text) if literal is None or name in literal else text

    def walk(v: Any, p: Path) -> Any:
        if isinstance(v, str):
            if "${var." not in v:
                return v
            try:
                parts = parse(v)
            except RefSyntaxError:
                return v  # validate reports it at its line
            if not any(isinstance(x, Ref) and x.kind == "var" for x in parts):
                return v
            for x in parts:
                if isinstance(x, Ref) and x.kind == "var" and x.target not in values:
                    missing.append((p, x.target))
            if len(parts) == 1:
                got = values.get(parts[0].target)
                return as_text(parts[0].target, got) if isinstance(got, str) else got
            out = []
            for x in parts:
                if isinstance(x, Ref) and x.kind == "var":
                    out.append(as_text(x.target, _text(values.get(x.target))))
                else:
                    out.append(str(x) if isinstance(x, Ref) else escape(x))
            return "".join(out)
        if isinstance(v, dict):
            return {k: walk(x, (*p, k)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, (*p, i)) for i, x in enumerate(v)]
        return v

    return walk(value, path), missing


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def has_reference(value: Any) -> bool:
    return isinstance(value, str) and "${" in value and any(isinstance(p, Ref) for p in _safe_parse(value))


def _safe_parse(text: str) -> list[str | Ref]:
    try:
        return parse(text)
    except RefSyntaxError:
        return []
