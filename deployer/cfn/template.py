"""Read a CloudFormation template (YAML with short-form tags, or JSON, tabs allowed) into plain data
with the location of every key and value.

Short forms become their long forms (`!Ref X` -> {"Ref": "X"}, `!GetAtt A.B` -> {"Fn::GetAtt": "A.B"}),
the long form's key marked at the tag. Unquoted YAML dates and timestamps stay the text written,
as CloudFormation reads them. Size, duplicate-key, alias-bomb and nesting limits are the deployer
spec parser's (deployer.spec.yamlmarks).
"""

from __future__ import annotations

import re
from pathlib import Path as FsPath
from typing import Any

import yaml

from deployer.errors import Location, Problem
from deployer.spec import yamlmarks
from deployer.spec.yamlmarks import Marks, Path, YamlProblem

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

SHORT_TAGS = {
    "!Ref": "Ref", "!Condition": "Condition", "!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!Join": "Fn::Join",
    "!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap", "!GetAZs": "Fn::GetAZs",
    "!Cidr": "Fn::Cidr", "!Base64": "Fn::Base64", "!If": "Fn::If", "!Equals": "Fn::Equals", "!And": "Fn::And",
    "!Or": "Fn::Or", "!Not": "Fn::Not", "!ImportValue": "Fn::ImportValue", "!Transform": "Fn::Transform",
    "!Length": "Fn::Length", "!ToJsonString": "Fn::ToJsonString", "!ForEach": "Fn::ForEach",
    # the functions of Rules (which deployer ignores), so a template with Rules parses
    "!Contains": "Fn::Contains", "!EachMemberEquals": "Fn::EachMemberEquals", "!EachMemberIn": "Fn::EachMemberIn",
    "!RefAll": "Fn::RefAll", "!ValueOf": "Fn::ValueOf", "!ValueOfAll": "Fn::ValueOfAll",
}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TemplateBuilder(yamlmarks._Builder):
    """The spec parser's builder, plus CloudFormation's short-form tags."""

    def build(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        tag = node.tag or ""
        if tag.startswith("!"):
            name = SHORT_TAGS.get(tag)
            if name is None:
                self.fail(node, path, f"unknown tag '{tag}' (CloudFormation's short forms: "
                                      f"{', '.join(sorted(SHORT_TAGS))})")
            self.marks.setdefault(path, self.loc(node))
            self.marks[(*path, name)] = self.loc(node)
            if isinstance(node, yaml.ScalarNode):
                self.count += 1
                return {name: node.value}
            return {name: super().build(node, (*path, name), depth + 1)}
        if tag == _TIMESTAMP and isinstance(node, yaml.ScalarNode):
            self.count += 1
            self.marks.setdefault(path, self.loc(node))
            return node.value
        return super().build(node, path, depth)


def is_json(text: str) -> bool:
    return text.lstrip().startswith("{")


def _untab_json(text: str) -> str:
    """JSON allows tabs between tokens, YAML's flow style does not: each tab outside a string becomes
    one space, so every line and column stays where it was."""
    out = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "\t":
            ch = " "
        out.append(ch)
    return "".join(out)


def parse_template(text: str, filename: str) -> tuple[Any, Marks]:
    """Parse one template; return the data and the marks of every path in it. Raises YamlProblem."""
    if is_json(text):
        text = _untab_json(text)
    else:
        for lineno, line in enumerate(text.splitlines(), start=1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                loc = Location(filename, lineno, len(line) - len(stripped) + 1)
                raise YamlProblem(Problem(loc, "", "tab character in indentation; YAML indents with spaces"))
    kind = "JSON" if is_json(text) else "YAML"
    try:
        documents = yaml.compose_all(text, Loader=_Loader)
        nodes = [n for n in (next(documents, None), next(documents, None)) if n is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename, 1, 1)
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise YamlProblem(Problem(loc, "", f"invalid {kind}: {message}")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(Location(filename, 1, 1), "", f"invalid {kind}: {exc}")) from None
    except (RecursionError, MemoryError):
        raise YamlProblem(Problem(Location(filename, 1, 1), "", f"invalid {kind}: nesting too deep")) from None
    if len(nodes) > 1:
        second = nodes[1]
        loc = Location(filename, second.start_mark.line + 1, second.start_mark.column + 1)
        raise YamlProblem(Problem(loc, "", "a template holds one YAML document; found a second one"))
    if not nodes:
        raise YamlProblem(Problem(Location(filename, 1, 1), "", "empty template"))
    if yamlmarks._expanded_size(nodes[0], {}, 0) > yamlmarks.MAX_NODES:
        loc = Location(filename, nodes[0].start_mark.line + 1, nodes[0].start_mark.column + 1)
        raise YamlProblem(Problem(loc, "", f"document too large or alias expansion too deep "
                                           f"(more than {yamlmarks.MAX_NODES} values once aliases are expanded)"))
    builder = _TemplateBuilder(filename)
    data = builder.build(nodes[0], ())
    if not isinstance(data, dict):
        raise YamlProblem(Problem(Location(filename, 1, 1), "",
                                  f"a template must be a mapping of top-level keys, not a {type(data).__name__}"))
    return data, builder.marks


_RESOURCES_KEY = re.compile(r'^(Resources\s*:|\s*"Resources"\s*:)', re.MULTILINE)


def looks_like_template(path: str) -> bool:
    """Whether PATH is one file whose top-level mapping has `Resources` (a CloudFormation template).
    A file that does not parse still counts when a line starts the `Resources` key, so a broken
    template gets the template parser's error rather than the spec loader's."""
    p = FsPath(path)
    if not p.is_file():
        return False
    try:
        if p.stat().st_size > 5 * 1024 * 1024:
            return False
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if "Resources" not in text:
        return False
    try:
        data, _ = parse_template(text, str(p))
    except YamlProblem:
        return bool(_RESOURCES_KEY.search(text)) and "{%" not in text
    return isinstance(data, dict) and "Resources" in data
