"""Jinja2 for spec files (the sandbox itself: deployer.spec.jinja_render, imported only for a file that
is a template): a sandbox with budgets, expression values kept as values, and a map from the
rendered text's lines back to the source file's.

- Values, not text: every `{{ expression }}` outputs a placeholder (two noncharacters around an index)
  instead of its text. The YAML parser reads the structure the template's literal text gives, then puts
  each value back (deployer.spec.yamlmarks calls `Values.restore`), so no value — a branch name from CI,
  a loop item — can close a quote, add a key or start a document. An unquoted scalar that is exactly one
  expression keeps the value's type (`MemorySize: {{ var.memory }}` is the integer); anywhere else the
  value is its text. Strings of variables given from outside the spec (--var, a var file,
  DEPLOYER_VAR_*) reach templates as deployer text, `${` written `$${`, so such a value never becomes a
  reference either, whatever the template does with it (filters that encode — b64encode, urlencode —
  read the text as it was first). A default is the spec's own text and may hold references.
- Source lines: literal template text carries a marker of the source line it comes from; the markers are
  removed before parsing and give every rendered line its source line, so an error inside a `{% for %}`
  points at the loop body in the file, not at the N-th line of the output.
- Budgets: one CPU-time budget for all of a stack's templates (checked on every loop iteration, call,
  filter and intercepted operator), a bound on the rendered size and on the values placed, integers and
  sequences that `*`, `**`, `%`, format widths or string methods would make too large are refused before
  they are built. Each ends in one `template error:` line at the template line that hit it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

VALUE_OPEN, VALUE_CLOSE = "\ufdd0", "\ufdd1"  # around a value's index: noncharacters, never in a spec file
LINE_OPEN, LINE_CLOSE = "\ufdd2", "\ufdd3"  # around a source line number, removed before parsing
RESERVED = re.compile("[\ufdd0-\ufdd3]")
_VALUE = re.compile(f"{VALUE_OPEN}([0-9]+){VALUE_CLOSE}")
_LINE = re.compile(f"{LINE_OPEN}([0-9]+){LINE_CLOSE}")

TEMPLATE_CPU_SECONDS = 0.5  # for all of a stack's templates together (a real one takes milliseconds)
MAX_RENDERED_BYTES = 5 * 1024 * 1024  # a rendered file, like a file (load.MAX_FILE_BYTES)
MAX_INT_BITS = 100_000  # about 30,000 digits
MAX_FORMAT_WIDTH = 100_000
_CHECK_EVERY = 32  # ticks between two reads of the CPU clock


class TemplateLimit(Exception):
    """A template went over one of its budgets."""


class Budget:
    """CPU time spent rendering, shared by every template of one load."""

    def __init__(self, cpu_seconds: float = TEMPLATE_CPU_SECONDS):
        self.limit = cpu_seconds
        self.spent = 0.0
        self._started: float | None = None
        self._ticks = 0

    def start(self) -> None:
        self._started = time.process_time()

    def stop(self) -> None:
        if self._started is not None:
            self.spent += time.process_time() - self._started
            self._started = None

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % _CHECK_EVERY == 0 and self._started is not None:
            if self.spent + time.process_time() - self._started > self.limit:
                raise TemplateLimit(f"evaluation takes more than {self.limit:g} s of CPU "
                                    "(a loop or an expression too large for a spec)")


class Variables(dict):
    """`var` in templates: a mapping whose names win over the mapping's own methods (`var.items` is the
    variable `items` when one is declared), and that names itself in undefined-name messages."""


def template_values(values: Mapping[str, Any], literal: Container[str] | None = None) -> Variables:
    """The variables as templates see them: in the strings of those named in `literal` (all when
    None) every `${` written `$${`, a literal, never a reference, once the text is parsed."""
    return Variables({k: _escape_refs(v) if literal is None or k in literal else v for k, v in values.items()})


def _escape_refs(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {_escape_refs(k): _escape_refs(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escape_refs(v) for v in value]
    return value


# --- values --------------------------------------------------------------------------------------

class Values:
    """The values a render's expressions produced, by placeholder."""

    def __init__(self, budget: Budget, limit: int = MAX_RENDERED_BYTES):
        self.items: list[Any] = []
        self.weight = 0
        self.limit = limit
        self.budget = budget

    def placeholder(self, value: Any) -> str:
        """The text an expression outputs for `value` (Jinja's `finalize`)."""
        from jinja2 import Undefined  # rendering: Jinja2 is loaded

        self.budget.tick()
        if isinstance(value, Undefined):
            return str(value)  # strict: raises the undefined error; lenient: ""
        if isinstance(value, str) and VALUE_OPEN in value:
            whole = _VALUE.fullmatch(value)
            if whole and int(whole.group(1)) < len(self.items):
                return value  # a captured block that is one value: the same value
            value = self.text(value)  # a captured block: its values' text, in place
        plain = _plain(value)
        self.weight += _weight(plain)
        if self.weight > self.limit:
            raise TemplateLimit(f"the values placed add up to more than {self.limit} characters")
        self.items.append(plain)
        return f"{VALUE_OPEN}{len(self.items) - 1}{VALUE_CLOSE}"

    def text(self, text: str) -> str:
        """A string with each placeholder replaced by its value's text."""
        return _VALUE.sub(lambda m: text_of(self._item(m)), text)

    def restore(self, text: str, typed: bool) -> Any:
        """The value a scalar holding placeholders stands for: exactly one placeholder in an unquoted
        scalar (`typed`) is the value itself; otherwise the text with each value's text in place."""
        whole = _VALUE.fullmatch(text)
        if typed and whole:
            return _copy(self._item(whole))
        return self.text(text)

    def _item(self, match: re.Match) -> Any:
        index = int(match.group(1))
        if index >= len(self.items):
            raise TemplateLimit("a reserved character (U+FDD0) is in the text")
        return self.items[index]


def text_of(value: Any) -> str:
    """A value's text inside a longer string: booleans as YAML writes them, lists and maps as JSON."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def _plain(value: Any, depth: int = 0) -> Any:
    """A value as data: what YAML could hold (tuples as lists, other objects as their text)."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if depth > 64:
        raise TemplateLimit("a value nested deeper than 64 levels")
    if isinstance(value, Mapping):
        return {text_of(_plain(k, depth + 1)): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    return str(value)


def _weight(value: Any) -> int:
    if isinstance(value, str):
        return len(value) + 1
    if isinstance(value, dict):
        return 1 + sum(_weight(k) + _weight(v) for k, v in value.items())
    if isinstance(value, list):
        return 1 + sum(_weight(v) for v in value)
    return 1


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _marked(text: str, line: int) -> str:
    parts = text.split("\n")
    return "\n".join(f"{LINE_OPEN}{line + i}{LINE_CLOSE}{part}" for i, part in enumerate(parts))


def unmark(text: str) -> tuple[str, list[int]]:
    """The rendered text without line markers, and the source line of each of its lines (a line takes
    the line of the last marker before its first character)."""
    out: list[str] = []
    lines: list[int] = []
    current, started = 1, False
    pieces = _LINE.split(text)
    for i, piece in enumerate(pieces):
        if i % 2:
            current = int(piece)
            continue
        segments = piece.split("\n")
        for j, segment in enumerate(segments):
            if j:
                if not started:
                    lines.append(current)
                started = False
            if segment and not started:
                lines.append(current)
                started = True
        out.append(piece)
    if not started:
        lines.append(current)
    return "".join(out), lines


# --- rendering -----------------------------------------------------------------------------------

@dataclass
class Rendered:
    """A rendered file: the text to parse, the source line of each of its lines (None: the same
    lines), and its values."""

    text: str
    lines: list[int] | None
    values: Values


def has_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text

def render(text: str, filename: str, context: Mapping[str, Any], budget: Budget, strict: bool = True) -> Rendered:
    """Render one file. A template error (syntax, undefined name, budget) is a YamlProblem at its line
    of the source file. Plain YAML is its own rendering, without Jinja2."""
    if not has_template(text):  # plain YAML: nothing to render, its lines are the file's
        return Rendered(text, None, Values(budget))
    from deployer.spec.jinja_render import render_template

    return render_template(text, filename, context, budget, strict)

