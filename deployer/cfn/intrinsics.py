"""Evaluate a template's intrinsic functions and conditions.

What is known when the template is loaded (parameters, mappings, constants, the region, the stack
name) is computed now; what is known only at apply time stays a reference (`Text`) or an intrinsic in
its JSON form (`Func`), to be computed by deployer.spec.functions. Every problem is raised as a
`Failed` carrying the template location of the offending node.

In `convert` mode a parameter is a reference to a deployer variable (`${var.NAME}`), a condition
that depends on one is kept as a Jinja expression, and a load-time function over one becomes a Jinja
expression (`Jinja`), so the converted spec stays parameterised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from deployer.cfn.values import MISSING, NOVALUE, Func, IfVal, Jinja, LDict, LList, Part, Text, jinja_literal
from deployer.errors import Location, Problem
from deployer.regions import partition_of, url_suffix_of
from deployer.spec import functions
from deployer.spec.functions import FunctionError, text_of
from deployer.spec.suggest import did_you_mean
from deployer.spec.yamlmarks import Marks, Path, format_path

PSEUDO_PARAMETERS = ("AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
                     "AWS::StackId", "AWS::StackName", "AWS::URLSuffix")
CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not")
UNSUPPORTED = {
    "Fn::ImportValue": "deployer keeps no CloudFormation exports; pass the value as a parameter instead",
    "Fn::Transform": "transforms (macros) are not supported",
    "Fn::Length": "it belongs to the AWS::LanguageExtensions transform, which deployer does not run",
    "Fn::ToJsonString": "it belongs to the AWS::LanguageExtensions transform, which deployer does not run",
    "Fn::ForEach": "it belongs to the AWS::LanguageExtensions transform, which deployer does not run",
}
SUPPORTED = ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::GetAZs",
             "Fn::Cidr", "Fn::Base64", "Fn::If")
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_DYNAMIC = re.compile(r"\{\{resolve:([^}]*)\}\}")


class Failed(Exception):
    """One problem in the template, at its location."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


class NotKnown(Exception):
    """A value needed at load time is known only at apply time."""


@dataclass
class Parameter:
    """A template parameter with its value: `ssm` when the value names an SSM parameter."""

    name: str
    value: Any
    list_type: bool = False
    ssm: bool = False
    string_type: bool = True


@dataclass
class Cond:
    """A condition's value, and (convert only) its Jinja expression when it depends on parameters."""

    value: bool
    expr: str | None = None


@dataclass
class Evaluator:
    filename: str
    marks: Marks
    parameters: dict[str, Parameter]
    mappings: dict[str, Any]
    conditions: dict[str, Any]
    resources: dict[str, str]  # logical id -> type
    region: str
    stack_name: str
    convert: bool = False
    excluded: dict[str, str] = field(default_factory=dict)  # resource -> the false condition that drops it
    _memo: dict[str, Cond] = field(default_factory=dict)
    _evaluating: list[str] = field(default_factory=list)
    _dead: int = 0

    # --- errors and locations -------------------------------------------------------------------
    def loc(self, tpath: Path) -> Location:
        for n in range(len(tpath), -1, -1):
            if tpath[:n] in self.marks:
                return self.marks[tpath[:n]]
        return Location(self.filename, 1, 1)

    def fail(self, tpath: Path, message: str) -> NoReturn:
        raise Failed(Problem(self.loc(tpath), format_path(tpath), message))

    # --- values ---------------------------------------------------------------------------------
    def value(self, node: Any, tpath: Path) -> Any:
        """The evaluated value of one template node."""
        if isinstance(node, str):
            return self.literal(node, tpath)
        if isinstance(node, list):
            items, locs = [], []
            for i, item in enumerate(node):
                items.append(self.value(item, (*tpath, i)))
                locs.append(self.marks.get((*tpath, i)))
            return LList(items, self.marks.get(tpath), locs)
        if isinstance(node, dict):
            fn = self._function_key(node, tpath)
            if fn is not None:
                return self.function(fn, node[fn], (*tpath, fn))
            items, locs = {}, {}
            for k, v in node.items():
                items[k] = self.value(v, (*tpath, k))
                locs[k] = self.marks.get((*tpath, k))
            return LDict(items, self.marks.get(tpath), locs)
        return node

    def _function_key(self, node: dict, tpath: Path) -> str | None:
        fns = [k for k in node if k == "Ref" or k.startswith("Fn::")]
        if not fns:
            return None
        if len(node) != 1:
            self.fail((*tpath, fns[0]), f"{fns[0]} must be the only key of its mapping (found also "
                                        f"{', '.join(k for k in node if k != fns[0])})")
        return fns[0]

    def literal(self, text: str, tpath: Path) -> Any:
        """A plain template string: literal text, except dynamic references ({{resolve:...}})."""
        if "{{resolve:" not in text:
            return text
        return self.dynamic(Text((text,)), tpath)

    def function(self, fn: str, args: Any, tpath: Path) -> Any:
        handler: Callable[[Any, Path], Any] | None = {
            "Ref": self.ref, "Fn::GetAtt": self.get_att, "Fn::Sub": self.sub, "Fn::Join": self.join,
            "Fn::Select": self.select, "Fn::Split": self.split, "Fn::FindInMap": self.find_in_map,
            "Fn::GetAZs": self.get_azs, "Fn::Cidr": self.cidr, "Fn::Base64": self.base64, "Fn::If": self.if_,
        }.get(fn)
        if handler is not None:
            return handler(args, tpath)
        if fn in CONDITION_FUNCTIONS:
            self.fail(tpath, f"{fn} may be used only in Conditions (and inside Fn::If's condition name)")
        if fn in UNSUPPORTED:
            self.fail(tpath, f"{fn} is not supported: {UNSUPPORTED[fn]}")
        self.fail(tpath, f"unknown function '{fn}'" + did_you_mean(fn, SUPPORTED) + f" (supported: {', '.join(SUPPORTED)})")

    # --- references -----------------------------------------------------------------------------
    def ref(self, args: Any, tpath: Path) -> Any:
        if not isinstance(args, str):
            self.fail(tpath, f"Ref takes the name of a parameter, resource or pseudo parameter, not {_kind(args)}")
        if args in self.parameters:
            return self.parameter_value(args)
        if args in self.resources:
            self.check_included(args, tpath)
            return Text((Part(args),))
        if args.startswith("AWS::"):
            return self.pseudo(args, tpath)
        names = list(self.parameters) + list(self.resources)
        self.fail(tpath, f"Ref to '{args}': no parameter, resource or pseudo parameter has that name"
                         + did_you_mean(args, names + list(PSEUDO_PARAMETERS)))

    def parameter_value(self, name: str) -> Any:
        p = self.parameters[name]
        if p.ssm:
            # convert: the name is the variable's, written in by Jinja (deployer.cfn.convert.VAR_MARK)
            read = Text((Part(f"ssm:\x00{name}\x00" if self.convert else f"ssm:{p.value}"),))
            return Func(functions.SPLIT, [",", read]) if p.list_type else read
        if self.convert:
            return Text((Part(f"var.{name}", p.value),))
        return p.value

    def pseudo(self, name: str, tpath: Path) -> Any:
        if name == "AWS::NoValue":
            return NOVALUE
        if name == "AWS::NotificationARNs":
            return []
        known = {"AWS::Region": self.region, "AWS::StackName": self.stack_name,
                 "AWS::Partition": partition_of(self.region), "AWS::URLSuffix": url_suffix_of(self.region)}
        if name in known:
            return Text((Part(name, known[name]),))
        if name in ("AWS::AccountId", "AWS::StackId"):
            return Text((Part(name),))
        self.fail(tpath, f"unknown pseudo parameter '{name}'" + did_you_mean(name, PSEUDO_PARAMETERS))

    def check_included(self, name: str, tpath: Path) -> None:
        if name in self.excluded and not self._dead:
            self.fail(tpath, f"'{name}' is not created: its condition '{self.excluded[name]}' is false "
                             "(refer to it only under the same condition, e.g. inside Fn::If)")

    def get_att(self, args: Any, tpath: Path) -> Any:
        if isinstance(args, str):
            name, _, attr = args.partition(".")
        elif isinstance(args, list) and len(args) == 2:
            name = args[0]
            attr = self.known(self.value(args[1], (*tpath, 1)), (*tpath, 1), "Fn::GetAtt's attribute name")
        else:
            self.fail(tpath, f"Fn::GetAtt takes [Resource, Attribute] or 'Resource.Attribute', got {_describe(args)}")
        if not isinstance(name, str) or not isinstance(attr, str) or not name or not attr:
            self.fail(tpath, f"Fn::GetAtt takes [Resource, Attribute] or 'Resource.Attribute', got {args!r}")
        if name not in self.resources:
            self.fail(tpath, f"Fn::GetAtt of '{name}': no resource has that name" + did_you_mean(name, self.resources))
        self.check_included(name, tpath)
        return Text((Part(f"{name}.{attr}"),))

    # --- Fn::Sub --------------------------------------------------------------------------------
    def sub(self, args: Any, tpath: Path) -> Any:
        variables: dict[str, Any] = {}
        if isinstance(args, list):
            if len(args) != 2 or not isinstance(args[0], str) or not isinstance(args[1], dict):
                self.fail(tpath, f"Fn::Sub takes a string or [string, {{variables}}], got {_describe(args)}")
            template = args[0]
            for k, v in args[1].items():
                variables[k] = self.value(v, (*tpath, 1, k))
            spath = (*tpath, 0)
        elif isinstance(args, str):
            template, spath = args, tpath
        else:
            self.fail(tpath, f"Fn::Sub takes a string or [string, {{variables}}], got {_kind(args)}")
        pieces: list[Any] = []
        pos = 0
        for m in _SUB_VAR.finditer(template):
            pieces.append(template[pos:m.start()])
            pos = m.end()
            body = m.group(1).strip()
            if body.startswith("!"):
                pieces.append("${" + body[1:] + "}")
                continue
            pieces.append(self.sub_variable(body, variables, spath))
        pieces.append(template[pos:])
        return self.concat(pieces, spath)

    def sub_variable(self, body: str, variables: dict[str, Any], tpath: Path) -> Any:
        if body in variables:
            return variables[body]
        if body in self.parameters:
            value = self.parameter_value(body)
            if isinstance(value, list):
                self.fail(tpath, f"Fn::Sub: '${{{body}}}' is a list parameter; use Fn::Join to make it a string")
            return value
        if body.startswith("AWS::"):
            value = self.pseudo(body, tpath)
            if value is NOVALUE or isinstance(value, list):
                self.fail(tpath, f"Fn::Sub: '${{{body}}}' has no string value")
            return value
        name, dot, attr = body.partition(".")
        if name in self.resources:
            self.check_included(name, tpath)
            return Text((Part(body),))
        choices = list(variables) + list(self.parameters) + list(self.resources)
        self.fail(tpath, f"Fn::Sub: '${{{body}}}' is not a parameter, resource, attribute or pseudo parameter"
                         + (" of this template" if not dot else "") + did_you_mean(name if dot else body, choices)
                         + " (write ${!" + body + "} for a literal)")

    def concat(self, pieces: list[Any], tpath: Path) -> Any:
        """Strings, Texts and known scalars joined into one value: a str when all are known, a Text
        when the unknown parts are references, an Fn::Join otherwise."""
        if self.convert and any(isinstance(p, IfVal) for p in pieces):
            return self.lift(pieces, lambda ps: self.concat(ps, tpath))
        if any(isinstance(p, Jinja) for p in pieces) and not any(self._apply_time(p) for p in pieces):
            return Jinja(" ~ ".join(self.jinja_text(p) for p in pieces), MISSING)
        parts: list[Any] = []
        funcs = False
        for p in pieces:
            if isinstance(p, Text):
                parts.extend(p.parts)
            elif isinstance(p, Func | Jinja):
                parts.append(p)
                funcs = True
            elif isinstance(p, list | dict):
                self.fail(tpath, f"expected a string, got {_kind(p)}")
            elif p is NOVALUE:
                self.fail(tpath, "AWS::NoValue cannot stand inside a string")
            else:
                parts.append(text_of(p, "value"))
        merged: list[Any] = []
        for p in parts:
            if isinstance(p, str) and merged and isinstance(merged[-1], str):
                merged[-1] += p
            elif p != "":
                merged.append(p)
        if funcs:  # runs of text and references between the functions, each one item of an Fn::Join
            items: list[Any] = []
            run: list[Any] = []
            for p in [*merged, None]:
                if isinstance(p, str | Part):
                    run.append(p)
                    continue
                if run:
                    items.append(run[0] if len(run) == 1 and isinstance(run[0], str) else Text(tuple(run)))
                    run = []
                if p is not None:
                    items.append(p)
            return self.dynamic_join(items, tpath)
        if all(isinstance(p, str) for p in merged):
            return "".join(merged) if "{{resolve:" not in "".join(merged) else self.dynamic(Text(tuple(merged)), tpath)
        return self.dynamic(Text(tuple(merged)), tpath)

    def dynamic_join(self, items: list[Any], tpath: Path) -> Any:
        return Func(functions.JOIN, ["", LList(items)]) if len(items) != 1 else items[0]

    # --- dynamic references ---------------------------------------------------------------------
    def dynamic(self, text: Text, tpath: Path) -> Any:
        """{{resolve:ssm:NAME}} -> ${ssm:NAME}; {{resolve:secretsmanager:ID:SecretString:KEY}} -> ${secret:ID:KEY},
        or an Fn::ResolveSecret when ID is known only at apply time (a secret of this template)."""
        tokens: list[Any] = list(text.parts)  # literal pieces as str, references as Part
        out: list[Any] = []
        i = 0
        funcs = False
        while i < len(tokens):
            tok = tokens[i]
            if not isinstance(tok, str) or "{{resolve:" not in tok:
                out.append(tok)
                i += 1
                continue
            before, _, rest = tok.partition("{{resolve:")
            out.append(before)
            body: list[Any] = []
            # collect the reference's body up to the closing }}
            while True:
                if isinstance(rest, str) and "}}" in rest:
                    inside, _, after = rest.partition("}}")
                    body.append(inside)
                    tokens[i] = after
                    break
                body.append(rest)
                i += 1
                if i >= len(tokens):
                    self.fail(tpath, "unterminated dynamic reference '{{resolve:' (no closing '}}')")
                rest = tokens[i]
            value = self.dynamic_reference(body, tpath)
            funcs = funcs or isinstance(value, Func)
            out.append(value)
        parts: list[Any] = []
        for p in out:
            if isinstance(p, str) and parts and isinstance(parts[-1], str):
                parts[-1] += p
            elif p != "":
                parts.append(p)
        if funcs:
            return self.dynamic_join([Text((p,)) if isinstance(p, Part) else p for p in parts], tpath)
        if all(isinstance(p, str) for p in parts):
            return "".join(parts)
        return Text(tuple(parts))

    def dynamic_reference(self, body: list[Any], tpath: Path) -> Any:
        if self.convert:  # a variable's text is filled in by Jinja (deployer.cfn.convert.VAR_MARK)
            body = [f"\x00{b.ref[4:]}\x00" if isinstance(b, Part) and b.ref.startswith("var.") else b for b in body]
        literal = all(isinstance(b, str) for b in body)
        text = "".join(b for b in body if isinstance(b, str))
        service = text.split(":", 1)[0] if isinstance(body[0], str) else ""
        if service in ("ssm", "ssm-secure"):
            if not literal:
                self.fail(tpath, "{{resolve:ssm:...}} needs a parameter name known before the apply")
            name = text.split(":", 1)[1] if ":" in text else ""
            if not name:
                self.fail(tpath, "{{resolve:ssm:NAME}} needs a parameter name")
            return Part(f"ssm:{name}")
        if service != "secretsmanager":
            self.fail(tpath, f"unsupported dynamic reference '{{{{resolve:{text[:40]}...}}}}' "
                             "(supported: ssm, ssm-secure, secretsmanager)")
        fields = _split_fields(body)[1:]  # after 'secretsmanager': ID:SecretString:KEY:STAGE:VERSION
        width = 7 if fields and fields[0] == ["arn"] else 1  # an ARN id holds six colons itself
        id_fields, tail = fields[:width], fields[width:]
        secret_id: list[Any] = []
        for n, f in enumerate(id_fields):
            secret_id += ([":"] if n else []) + f
        tail_text = ["".join(x for x in f if isinstance(x, str)) for f in tail]
        if any(not isinstance(x, str) for f in tail for x in f) or (tail_text and tail_text[0] not in ("", "SecretString")):
            self.fail(tpath, "{{resolve:secretsmanager:ID:SecretString:KEY}}: the field after the id must be "
                             "SecretString (or empty)")
        key = tail_text[1] if len(tail_text) > 1 else ""
        if any(tail_text[2:]):
            self.fail(tpath, "dynamic reference: version stages and version ids are not supported; "
                             "refer to the secret's current value")
        if not secret_id or secret_id == [""]:
            self.fail(tpath, "{{resolve:secretsmanager:ID...}} needs a secret id")
        if all(isinstance(x, str) for x in secret_id):
            sid = "".join(secret_id)
            if ":" not in sid:
                return Part(f"secret:{sid}" + (f":{key}" if key else ""))
            args = {"SecretId": sid} | ({"JsonKey": key} if key else {})
            return Func(functions.RESOLVE_SECRET, LDict(args))
        sid_value = Text(tuple(x for x in secret_id if x != ""))
        return Func(functions.RESOLVE_SECRET, LDict({"SecretId": sid_value} | ({"JsonKey": key} if key else {})))

    # --- list and string functions --------------------------------------------------------------
    def _args(self, fn: str, args: Any, tpath: Path, count: int | tuple[int, ...]) -> list[Any]:
        counts = (count,) if isinstance(count, int) else count
        if not isinstance(args, list) or len(args) not in counts:
            want = " or ".join(str(c) for c in counts)
            self.fail(tpath, f"{fn} takes a list of {want} arguments, got {_describe(args)}")
        return [self.value(a, (*tpath, i)) for i, a in enumerate(args)]

    def join(self, args: Any, tpath: Path) -> Any:
        sep, items = self._args("Fn::Join", args, tpath, 2)
        if self.convert and (self.has_if(sep) or self.has_if(items)):
            return self.lift([sep, items], lambda a: self._join(a[0], a[1], tpath))
        return self._join(sep, items, tpath)

    def _join(self, sep: Any, items: Any, tpath: Path) -> Any:
        sep = self.known(sep, (*tpath, 0), "Fn::Join's delimiter")
        if not isinstance(sep, str):
            self.fail((*tpath, 0), f"Fn::Join's delimiter must be a string, got {_kind(sep)}")
        if (isinstance(items, Jinja) or (isinstance(items, Text) and self._input(items))) \
                and not self._apply_time(items):
            return Jinja(f"({self.jinja(items)}) | join({jinja_literal(sep)})", MISSING)
        if isinstance(items, Func | Text):
            return Func(functions.JOIN, [sep, items])
        if not isinstance(items, list):
            self.fail((*tpath, 1), f"Fn::Join's second argument must be a list, got {_kind(items)}")
        kept = [v for v in items if v is not NOVALUE]
        for n, v in enumerate(kept):
            if isinstance(v, list | dict) and not isinstance(v, Func):
                self.fail((*tpath, 1, n), f"Fn::Join's items must be strings, got {_kind(v)}")
        pieces: list[Any] = []
        for n, v in enumerate(kept):
            if n:
                pieces.append(sep)
            pieces.append(v)
        return self.concat(pieces, tpath) if pieces else ""

    def select(self, args: Any, tpath: Path) -> Any:
        index, items = self._args("Fn::Select", args, tpath, 2)
        if self.convert and (self.has_if(index) or isinstance(items, IfVal)):
            return self.lift([index, items], lambda a: self._select(a[0], a[1], tpath))
        return self._select(index, items, tpath)

    def _select(self, index: Any, items: Any, tpath: Path) -> Any:
        if isinstance(items, Func) or (isinstance(items, Text) and not self._input(items)) or self._apply_time(index):
            if not isinstance(index, Text | Func | Jinja) and not _index_like(index):
                self.fail((*tpath, 0), f"Fn::Select's index must be an integer, got {_kind(index)}")
            return Func(functions.SELECT, [index, items])  # the range is checked when the list is known
        if isinstance(index, Jinja) or (isinstance(index, Text) and self._input(index)) \
                or isinstance(items, Jinja) or (isinstance(items, Text) and self._input(items)):
            if self._apply_time(items):
                return Func(functions.SELECT, [index, items])
            return Jinja(f"({self.jinja(items)})[({self.jinja(index)}) | int]", MISSING)
        try:
            index = self.known_or_raise(index)
        except NotKnown:
            return Func(functions.SELECT, [index, items])
        if isinstance(index, str) and index.strip().isdigit():
            index = int(index)
        if isinstance(index, bool) or not isinstance(index, int):
            self.fail((*tpath, 0), f"Fn::Select's index must be an integer, got {_kind(index)}")
        if isinstance(items, list):
            return self._pure(functions.SELECT, [index, [v for v in items if v is not NOVALUE]], tpath)
        self.fail((*tpath, 1), f"Fn::Select's second argument must be a list, got {_kind(items)}")

    def split(self, args: Any, tpath: Path) -> Any:
        sep, source = self._args("Fn::Split", args, tpath, 2)
        if self.convert and self.has_if(source):
            return self.lift([sep, source], lambda a: self._split(a[0], a[1], tpath))
        return self._split(sep, source, tpath)

    def _split(self, sep: Any, source: Any, tpath: Path) -> Any:
        sep = self.known(sep, (*tpath, 0), "Fn::Split's delimiter")
        if not isinstance(sep, str) or not sep:
            self.fail((*tpath, 0), f"Fn::Split's delimiter must be a non-empty string, got {sep!r}")
        if (isinstance(source, Jinja) or (isinstance(source, Text) and self._input(source))) \
                and not self._apply_time(source):
            return Jinja(f"({self.jinja_text(source)}).split({jinja_literal(sep)})", MISSING)
        if isinstance(source, list | dict) and not isinstance(source, Func):
            self.fail((*tpath, 1), f"Fn::Split's source must be a string, got {_kind(source)}")
        try:
            return self._pure(functions.SPLIT, [sep, self.known_or_raise(source)], tpath)
        except NotKnown:
            return Func(functions.SPLIT, [sep, source])

    def base64(self, args: Any, tpath: Path) -> Any:
        value = self.value(args, tpath)
        if self.convert and self.has_if(value):
            return self.lift([value], lambda a: self._base64(a[0], tpath))
        return self._base64(value, tpath)

    def _base64(self, value: Any, tpath: Path) -> Any:
        if isinstance(value, list | dict) and not isinstance(value, Func):
            self.fail(tpath, f"Fn::Base64 takes a string, got {_kind(value)}")
        if (isinstance(value, Jinja) or (isinstance(value, Text) and self._input(value))) \
                and not self._apply_time(value):
            return Jinja(f"({self.jinja_text(value)}) | b64encode", MISSING)
        try:
            return self._pure(functions.BASE64, self.known_or_raise(value), tpath)
        except NotKnown:
            return Func(functions.BASE64, value)

    def cidr(self, args: Any, tpath: Path) -> Any:
        values = self._args("Fn::Cidr", args, tpath, 3)
        try:
            return self._pure(functions.CIDR, [self.known_or_raise(v) for v in values], tpath)
        except NotKnown:
            return Func(functions.CIDR, values)

    def get_azs(self, args: Any, tpath: Path) -> Any:
        region = self.value(args, tpath)
        if isinstance(region, list | dict) and not isinstance(region, Func):
            self.fail(tpath, f"Fn::GetAZs takes a region name (or ''), got {_kind(region)}")
        if isinstance(region, Text) and region.parts == (Part("AWS::Region", self.region),):
            region = ""
        return Func(functions.GETAZS, region)

    def _pure(self, fn: str, args: Any, tpath: Path) -> Any:
        try:
            return functions.PURE[fn](args)
        except FunctionError as exc:
            self.fail(tpath, str(exc))

    def find_in_map(self, args: Any, tpath: Path) -> Any:
        if not isinstance(args, list) or len(args) != 3:
            self.fail(tpath, f"Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey], got {_describe(args)}")
        keys = [self.value(a, (*tpath, i)) for i, a in enumerate(args)]
        if self.convert and any(self.has_if(k) for k in keys):
            return self.lift(keys, lambda ks: self._find(ks, tpath))
        return self._find(keys, tpath)

    def _find(self, keys: list[Any], tpath: Path) -> Any:
        if self.convert and any(self._depends_on_input(k) for k in keys[1:]):
            name = self.known(keys[0], (*tpath, 0), "Fn::FindInMap's map name")
            if name not in self.mappings:
                self.fail((*tpath, 0), f"Fn::FindInMap: unknown mapping '{name}'" + did_you_mean(str(name), self.mappings))
            index = "".join(f"[{self.jinja_text(k)}]" for k in keys[1:])
            return Jinja(f"{jinja_literal(self.mappings[name])}{index}", MISSING)
        words = ("map name", "top-level key", "second-level key")
        name, top, second = (self.known(k, (*tpath, i), f"Fn::FindInMap's {words[i]}") for i, k in enumerate(keys))
        for i, k in enumerate((name, top, second)):
            if not isinstance(k, str | int | float) or isinstance(k, bool):
                self.fail((*tpath, i), f"Fn::FindInMap's {words[i]} must be a string, got {_kind(k)}")
        name, top, second = str(name), str(top), str(second)
        if name not in self.mappings:
            self.fail((*tpath, 0), f"Fn::FindInMap: unknown mapping '{name}'" + did_you_mean(name, self.mappings))
        level = self.mappings[name]
        if top not in level:
            self.fail((*tpath, 1), f"Fn::FindInMap: mapping '{name}' has no key '{top}'" + did_you_mean(top, level))
        if not isinstance(level[top], dict) or second not in level[top]:
            inner = level[top] if isinstance(level[top], dict) else {}
            self.fail((*tpath, 2), f"Fn::FindInMap: mapping '{name}' has no key '{second}' under '{top}'"
                                   + did_you_mean(second, inner))
        return level[top][second]

    # --- conditions -----------------------------------------------------------------------------
    def if_(self, args: Any, tpath: Path) -> Any:
        if not isinstance(args, list) or len(args) != 3:
            self.fail(tpath, f"Fn::If takes [ConditionName, ValueIfTrue, ValueIfFalse], got {_describe(args)}")
        if not isinstance(args[0], str):
            self.fail((*tpath, 0), f"Fn::If's first argument must be a condition name, got {_kind(args[0])}")
        cond = self.condition(args[0], (*tpath, 0))
        if cond.expr is not None:
            return IfVal(cond.expr, self.value(args[1], (*tpath, 1)), self.value(args[2], (*tpath, 2)))
        chosen, other = (1, 2) if cond.value else (2, 1)
        self._dead += 1
        try:
            self.value(args[other], (*tpath, other))  # checked too, its value unused
        finally:
            self._dead -= 1
        return self.value(args[chosen], (*tpath, chosen))

    def condition(self, name: str, tpath: Path) -> Cond:
        if name not in self.conditions:
            self.fail(tpath, f"unknown condition '{name}'" + did_you_mean(name, self.conditions)
                             + (f" (conditions: {', '.join(self.conditions)})" if self.conditions else
                                " (the template declares no Conditions)"))
        if name in self._memo:
            return self._memo[name]
        if name in self._evaluating:
            cycle = " -> ".join([*self._evaluating[self._evaluating.index(name):], name])
            self.fail(("Conditions", name), f"condition cycle: {cycle}")
        self._evaluating.append(name)
        try:
            result = self.cond_value(self.conditions[name], ("Conditions", name))
        finally:
            self._evaluating.pop()
        self._memo[name] = result
        return result

    def cond_value(self, node: Any, tpath: Path) -> Cond:
        if not isinstance(node, dict) or len(node) != 1:
            self.fail(tpath, "a condition must be one of Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
        fn, args = next(iter(node.items()))
        p = (*tpath, fn)
        if fn == "Condition":
            if not isinstance(args, str):
                self.fail(p, f"Condition takes a condition name, got {_kind(args)}")
            return self.condition(args, p)
        if fn == "Fn::Equals":
            if not isinstance(args, list) or len(args) != 2:
                self.fail(p, f"Fn::Equals takes a list of 2 values, got {_describe(args)}")
            sides = [self.value(a, (*p, i)) for i, a in enumerate(args)]
            return self.equals(sides, p)
        if fn in ("Fn::And", "Fn::Or"):
            if not isinstance(args, list) or not 2 <= len(args) <= 10:
                self.fail(p, f"{fn} takes a list of 2 to 10 conditions, got {_describe(args)}")
            parts = [self.cond_value(a, (*p, i)) for i, a in enumerate(args)]
            value = all(c.value for c in parts) if fn == "Fn::And" else any(c.value for c in parts)
            return self.combine(fn, parts, value)
        if fn == "Fn::Not":
            if not isinstance(args, list) or len(args) != 1:
                self.fail(p, f"Fn::Not takes a list of 1 condition, got {_describe(args)}")
            inner = self.cond_value(args[0], (*p, 0))
            return Cond(not inner.value, None if inner.expr is None else f"not ({inner.expr})")
        self.fail(p, f"'{fn}' is not a condition function (Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition)")

    def equals(self, sides: list[Any], tpath: Path) -> Cond:
        if self.convert and any(self._depends_on_input(s) for s in sides):
            try:
                a, b = (self.jinja_text(side, condition=True) for side in sides)
                return Cond(False, f"{a} == {b}")
            except NotKnown:
                pass  # a side known only at apply time: the error below
        a, b = (self.known(s, (*tpath, i), "Fn::Equals' value") for i, s in enumerate(sides))
        return Cond(_comparable(a) == _comparable(b))

    def combine(self, fn: str, parts: list[Cond], value: bool) -> Cond:
        if all(c.expr is None for c in parts):
            return Cond(value)
        word = " and " if fn == "Fn::And" else " or "
        return Cond(value, word.join(f"({c.expr})" if c.expr is not None else ("true" if c.value else "false")
                                     for c in parts))

    # --- known values ---------------------------------------------------------------------------
    def known_or_raise(self, value: Any) -> Any:
        """The load-time value of an evaluated value; NotKnown if part of it is known only at apply time."""
        if isinstance(value, Text):
            if all(isinstance(p, str) or p.known is not MISSING for p in value.parts):
                if len(value.parts) == 1 and isinstance(value.parts[0], Part):
                    return value.parts[0].known
                return "".join(p if isinstance(p, str) else text_of(p.known, "value") for p in value.parts)
            raise NotKnown()
        if isinstance(value, Func | Jinja | IfVal):
            raise NotKnown()
        if isinstance(value, dict):
            return {k: self.known_or_raise(v) for k, v in value.items() if v is not NOVALUE}
        if isinstance(value, list):
            return [self.known_or_raise(v) for v in value if v is not NOVALUE]
        return value

    def known(self, value: Any, tpath: Path, what: str) -> Any:
        try:
            return self.known_or_raise(value)
        except NotKnown:
            self.fail(tpath, f"{what} must be known before the apply (parameters, mappings, constants, the "
                             "region), not a value only known at apply time")

    # --- convert mode ---------------------------------------------------------------------------
    def _input(self, value: Text) -> bool:
        """convert: whether a text depends on a variable, the region or the stack name (so a load-time
        function of it is a Jinja expression rather than the value it has now)."""
        return self.convert and self._depends_on_input(value)

    def _apply_time(self, value: Any) -> bool:
        """convert: whether a value holds a reference known only at apply time (not a variable)."""
        if isinstance(value, Func):
            return True
        if isinstance(value, Text):
            return any(isinstance(p, Part) and not p.ref.startswith("var.") and p.known is MISSING for p in value.parts)
        if isinstance(value, dict):
            return any(self._apply_time(v) for v in value.values())
        if isinstance(value, list):
            return any(self._apply_time(v) for v in value)
        return False

    def _depends_on_input(self, value: Any) -> bool:
        """convert: whether a value depends on a parameter or the region (so a condition on it is Jinja)."""
        if isinstance(value, Jinja):
            return True
        if isinstance(value, Text):
            return any(isinstance(p, Part) and (p.ref.startswith("var.") or p.ref in ("AWS::Region", "AWS::StackName",
                                                                                     "AWS::Partition", "AWS::URLSuffix"))
                       for p in value.parts)
        if isinstance(value, dict):
            return any(self._depends_on_input(v) for v in value.values())
        if isinstance(value, list):
            return any(self._depends_on_input(v) for v in value)
        return False

    def jinja(self, value: Any) -> str:
        """convert: a load-time value as a Jinja expression over `var`, `region` and `stack`."""
        if isinstance(value, Jinja):
            return f"({value.expr})"
        if isinstance(value, Text):
            if len(value.parts) == 1 and isinstance(value.parts[0], Part):
                return self._jinja_part(value.parts[0], typed=True)
            return self.jinja_text(value)
        if isinstance(value, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))}: {self.jinja(v)}" for k, v in value.items()) + " }"
        if isinstance(value, list):
            return "[" + ", ".join(self.jinja(v) for v in value if v is not NOVALUE) + "]"
        if isinstance(value, Func):
            raise NotKnown()
        return jinja_literal(value)

    def jinja_text(self, value: Any, condition: bool = False) -> str:
        """convert: a value as a Jinja string expression (CloudFormation compares and joins text). A
        reference known only at apply time raises NotKnown: a Jinja expression computes a value at load
        time."""
        if isinstance(value, Jinja):
            return f"(({value.expr}) | string)"
        if isinstance(value, Text):
            pieces = [jinja_literal(p) if isinstance(p, str) else self._jinja_part(p, typed=False) for p in value.parts]
            return pieces[0] if len(pieces) == 1 else "(" + " ~ ".join(pieces) + ")" if pieces else '""'
        if isinstance(value, str):
            return jinja_literal(value)
        if isinstance(value, list | dict | Func | IfVal):
            return self.jinja(value)
        return jinja_literal(text_of(value, "value"))

    def _jinja_part(self, part: Part, typed: bool) -> str:
        if part.ref.startswith("var."):
            return part.ref if typed else f"({part.ref} | string)"
        names = {"AWS::Region": "region", "AWS::StackName": "stack"}
        if part.ref in names:
            return names[part.ref]
        if part.known is not MISSING:
            return jinja_literal(part.known)
        raise NotKnown()  # known only at apply time

    def has_if(self, value: Any) -> bool:
        if isinstance(value, IfVal):
            return True
        if isinstance(value, dict):
            return any(self.has_if(v) for v in value.values())
        if isinstance(value, list):
            return any(self.has_if(v) for v in value)
        return False

    def lift(self, args: list[Any], rebuild: Callable[[list[Any]], Any]) -> Any:
        """convert: a function of a value that holds an Fn::If on a parameter condition is the Fn::If of
        the function of each branch."""
        found = _first_if(args)
        if found is None:
            return rebuild(args)
        return IfVal(found.expr, self.lift(_replace(args, found, found.then), rebuild),
                     self.lift(_replace(args, found, found.other), rebuild))


def _first_if(value: Any) -> IfVal | None:
    if isinstance(value, IfVal):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for v in items:
        found = _first_if(v)
        if found is not None:
            return found
    return None


def _replace(value: Any, target: IfVal, replacement: Any) -> Any:
    if value is target:
        return replacement
    if isinstance(value, LDict):
        return LDict({k: _replace(v, target, replacement) for k, v in value.items()}, value.loc, value.locs)
    if isinstance(value, LList):
        return LList([_replace(v, target, replacement) for v in value], value.loc, value.locs)
    if isinstance(value, dict):
        return {k: _replace(v, target, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, target, replacement) for v in value]
    return value


def _index_like(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.strip().isdigit())


def _split_fields(body: list[Any]) -> list[list[Any]]:
    """A dynamic reference's body split at ':' in its literal pieces (references stay whole)."""
    fields: list[list[Any]] = [[]]
    for piece in body:
        if isinstance(piece, str):
            chunks = piece.split(":")
            for n, chunk in enumerate(chunks):
                if n:
                    fields.append([])
                if chunk:
                    fields[-1].append(chunk)
        else:
            fields[-1].append(piece)
    return [[x for x in f] for f in fields]


def _comparable(value: Any) -> Any:
    """Fn::Equals compares as CloudFormation does: scalars by their text."""
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    return text_of(value, "value") if value is not None else ""


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__} ({value!r})" if isinstance(value, int | float | bool) else f"a {type(value).__name__}"


def _describe(args: Any) -> str:
    return f"a list of {len(args)}" if isinstance(args, list) else _kind(args)
