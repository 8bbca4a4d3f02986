"""Parse YAML into plain Python data while remembering where every key and value came from.

PyYAML silently keeps the last of two duplicate keys and expands aliases without limit;
this parser reports duplicates and refuses alias bombs and absurd nesting, so hostile or
mistaken files end in one clear error (a big text's events are counted before its nodes are built, so
a million-item list is refused before it costs seconds). Unquoted dates and timestamps
(`Version: 2012-10-17`) load as the text written, as CloudFormation reads them; every other scalar keeps
YAML's type.

A rendered template is parsed with two more inputs (deployer.spec.template): the source line of each
rendered line, so every mark points into the file as written, and the values its expressions produced,
put back into the scalars that hold their placeholders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import yaml

from deployer.errors import Location, Problem

try:  # the C composer is much faster on big files and keeps the same marks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

Path = tuple[str | int, ...]
Marks = dict[Path, Location]

MAX_NODES = 200_000
MAX_DEPTH = 64
PRESCAN_BYTES = 256 * 1024  # texts larger than this have their events counted before composing
VALUE_MARK = "\ufdd0"  # a template value's placeholder starts with it (deployer.spec.template)
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"  # dates and timestamps stay the text written (SPEC §3)
STR_TAG = "tag:yaml.org,2002:str"  # its value is the node's text (what the constructor would return)


def format_path(path: Path) -> str:
    """('resources', 'A', 'Tags', 0, 'Key') -> 'resources.A.Tags[0].Key'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class YamlProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


class Restorer(Protocol):
    """Puts template values back: `typed` when the scalar is unquoted (it may then be the value itself)."""

    def restore(self, text: str, typed: bool) -> Any: ...


def source_line(lines: Sequence[int] | None, line: int) -> int:
    """The source line of a 1-based line of the parsed text."""
    if not lines:
        return line
    return lines[min(line, len(lines)) - 1]


class _Builder:
    def __init__(self, filename: str, lines: Sequence[int] | None = None, values: Restorer | None = None):
        self.filename = filename
        self.lines = lines
        self.values = values
        self.marks: Marks = {}
        self.count = 0
        self.constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
        yaml.constructor.SafeConstructor.__init__(self.constructor)

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.filename, source_line(self.lines, node.start_mark.line + 1), node.start_mark.column + 1)

    def fail(self, node: yaml.Node, path: Path, message: str) -> None:
        raise YamlProblem(Problem(self.loc(node), format_path(path), message))

    def build(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            self.fail(node, path, f"document too large or alias expansion too deep (more than {MAX_NODES} values)")
        if depth > MAX_DEPTH:
            self.fail(node, path, f"nesting deeper than {MAX_DEPTH} levels")
        if path not in self.marks:  # a mapping's value keeps its key's mark
            self.marks[path] = self.loc(node)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _COLLECTION_TAGS:
            # `!Tag`s are a subclass's to read when it overrides build (CloudFormation's short forms)
            if not (node.tag.startswith("!") and type(self).build is not _Builder.build):
                self.fail(node, path, f"unsupported tag '{node.tag}'")
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)
            out: dict[str, Any] = {}
            seen: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                key = self.build_scalar_key(key_node, path)
                where = self.loc(key_node)
                if key in seen:
                    first = self.loc(seen[key])
                    again = " (the template writes it twice)" if first == where else ""
                    self.fail(key_node, (*path, key), f"duplicate key '{key}' (first defined at {first}){again}")
                seen[key] = key_node
                self.marks[(*path, key)] = where
                out[key] = self.build(value_node, (*path, key), depth + 1)
                self.marks[(*path, key)] = where
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if self.values is not None and isinstance(node.value, str) and VALUE_MARK in node.value:
            return self.restored(node, path)
        if node.tag == TIMESTAMP_TAG or node.tag == STR_TAG:
            return node.value  # `Version: 2012-10-17` is the string CloudFormation sees, not a date
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.fail(node, path, f"invalid value: {exc}")

    def restored(self, node: yaml.ScalarNode, path: Path) -> Any:
        """A scalar holding template values: the value (unquoted, exactly one) or the text."""
        try:
            value = self.values.restore(node.value, typed=not node.style)  # plain: None or ""
        except Exception as exc:  # noqa: BLE001 - a stray reserved character
            self.fail(node, path, f"template error: {exc}")
        self.count += count_values(value, MAX_NODES - self.count + 1) - 1
        if self.count > MAX_NODES:
            self.fail(node, path, f"document too large (more than {MAX_NODES} values once template values are placed)")
        return value

    def build_scalar_key(self, node: yaml.Node, path: Path) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, path, "mapping keys must be plain strings")
        if self.values is not None and VALUE_MARK in node.value:
            return str(self.values.restore(node.value, typed=False))
        if node.tag == TIMESTAMP_TAG or node.tag == STR_TAG:
            return node.value
        key = self.constructor.construct_object(node)
        if isinstance(key, bool | int | float) or key is None:
            return str(node.value)
        return str(key)


def count_values(value: Any, limit: int) -> int:
    """How many values a nested value holds (stops counting past limit)."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        total += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return total


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int) -> int:
    """How many values the node stands for once aliases are expanded, counted without expanding
    (each distinct node once): a billion-laughs document is refused in microseconds."""
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > MAX_DEPTH:
        return 1  # the builder reports the nesting itself
    memo[key] = MAX_NODES + 1  # a node reached again while being counted is a cycle: too large
    if isinstance(node, yaml.MappingNode):
        total = 1 + sum(_expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded_size(v, memo, depth + 1) for v in node.value)
    else:
        total = 1
    memo[key] = min(total, MAX_NODES + 1)
    return memo[key]


_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


def _prescan(text: str, filename: str, lines: Sequence[int] | None) -> bool:
    """Refuse a text with more YAML events than MAX_NODES values allow, before composing it (composing
    a million-item list takes seconds; counting its events stops at the limit). True when it holds an
    alias."""
    count, aliases = 0, False
    for event in yaml.parse(text, Loader=_Loader):
        if not isinstance(event, _NODE_EVENTS):
            continue
        aliases = aliases or isinstance(event, yaml.AliasEvent)
        count += 1  # one node per scalar, alias, sequence or mapping
        if count > MAX_NODES:
            loc = Location(filename, source_line(lines, event.start_mark.line + 1), event.start_mark.column + 1)
            raise YamlProblem(Problem(loc, "", f"document too large (more than {MAX_NODES} values)"))
    return aliases


def parse_yaml(text: str, filename: str, lines: Sequence[int] | None = None,
               values: Restorer | None = None) -> tuple[Any, Marks]:
    """Parse one YAML document; return the data and the marks of every path in it. `lines` gives the
    source line of each line of a rendered text, `values` the template values to put back."""
    for lineno, line in enumerate(text.splitlines() if "\t" in text else (), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            loc = Location(filename, source_line(lines, lineno), len(line) - len(stripped) + 1)
            raise YamlProblem(Problem(loc, "", "tab character in indentation; YAML indents with spaces"))
    aliases = "*" in text  # an alias is written *name: without one, every value is a node of its own
    try:
        if len(text) > PRESCAN_BYTES:
            aliases = _prescan(text, filename, lines)
        documents = yaml.compose_all(text, Loader=_Loader)  # lazily: a second document is enough to refuse
        nodes = [n for n in (next(documents, None), next(documents, None)) if n is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = (Location(filename, source_line(lines, mark.line + 1), mark.column + 1) if mark
               else Location(filename, 1, 1))
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise YamlProblem(Problem(loc, "", f"invalid YAML: {message}")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(Location(filename, 1, 1), "", f"invalid YAML: {exc}")) from None
    except (RecursionError, MemoryError):
        raise YamlProblem(Problem(Location(filename, 1, 1), "", "invalid YAML: nesting too deep")) from None
    if len(nodes) > 1:
        second = nodes[1]
        loc = Location(filename, source_line(lines, second.start_mark.line + 1), second.start_mark.column + 1)
        raise YamlProblem(Problem(loc, "", "a spec file holds one YAML document; found a second one"))
    if not nodes:
        return None, {}
    size = _expanded_size(nodes[0], {}, 0) if aliases else 0  # else the builder counts the nodes
    if size > MAX_NODES:
        loc = Location(filename, source_line(lines, nodes[0].start_mark.line + 1), nodes[0].start_mark.column + 1)
        raise YamlProblem(Problem(loc, "", f"document too large or alias expansion too deep "
                                           f"(more than {MAX_NODES} values once aliases are expanded)"))
    builder = _Builder(filename, lines, values)
    data = builder.build(nodes[0], ())
    return data, builder.marks
