"""Sensitive values known to this process, and the one function that hides them in any text.

Every writer (terminal, plan file, state, journal, --debug tracebacks) passes its text through `redact`,
so a secret that slipped into a value by any route still never reaches a byte on disk. A value is
registered by its leaves (each field of an object, each item of a list) and every leaf by the forms a
template or a writer can turn it into: escaped for JSON, HTML, Python or a URL, base64, case changes,
reversed. docs/spec.md ("Sensitive values") states the rules; `unhideable` names the values they
cannot cover (too short, booleans), which the loaders refuse.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import re
import sys
import threading
import traceback
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

MASK = "(sensitive)"
MIN_LENGTH = 4  # a shorter text cannot be told apart from ordinary output
MIN_ANYWHERE = 8  # a shorter form counts only as a whole word: in hex ids and digests it occurs by chance
MIN_LINE = 8  # lines of a multi-line value that are matched on their own
ANYWHERE, NOT_BESIDE_ALNUM, NOT_BESIDE_DIGIT = "", "alnum", "digit"
_LOOKAROUND = {ANYWHERE: ("", ""), NOT_BESIDE_ALNUM: (r"(?<![^\W_])", r"(?![^\W_])"),
               NOT_BESIDE_DIGIT: (r"(?<![0-9])", r"(?![0-9])")}
_STRICTNESS = {ANYWHERE: 0, NOT_BESIDE_DIGIT: 1, NOT_BESIDE_ALNUM: 2}

_lock = threading.Lock()
_forms: dict[str, str] = {}  # form -> where it counts (ANYWHERE, NOT_BESIDE_ALNUM, NOT_BESIDE_DIGIT)
_probes: dict[str, set[str]] = {}  # a part every one of these forms contains: one search finds them absent
_cache: dict[tuple[str, ...], re.Pattern[str]] = {}


def register(value: Any, fields: bool = False) -> None:
    """Remember a sensitive value for redaction: a string or number of MIN_LENGTH characters or more in
    each of its forms; an object or a list by its own JSON and Python texts (and their base64) and, with
    fields (a sensitive variable or parameter), by every string and number leaf too."""
    found: dict[str, str] = {}
    _collect(value, found, fields)
    if not found:
        return
    with _lock:
        _merge(_forms, found)
        for form in found:
            _probes.setdefault(_probe(form), set()).add(form)
        _cache.clear()


def unhideable(value: Any, declaration: Mapping[str, Any] | None = None, path: str = "") -> list[str]:
    """Why parts of a sensitive value could not be hidden in output, one message per part (never the
    value itself): booleans, and strings or numbers shorter than MIN_LENGTH characters. Empty strings
    and nulls hide nothing, and the declaration's own default is written in the spec for anyone to
    read: both are accepted."""
    if declaration is not None and "default" in declaration and declaration["default"] == value:
        return []
    if isinstance(value, dict):
        return [m for k, v in value.items() for m in unhideable(v, None, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list | tuple):
        return [m for i, v in enumerate(value) for m in unhideable(v, None, f"{path}[{i}]")]
    where = f"field '{path}' of a sensitive value" if path else "a sensitive value"
    advice = "; keep it in a variable that is not sensitive" if path else ""
    if isinstance(value, bool):
        return [f"{where} is a boolean, which cannot be hidden in output{advice}"]
    text = _leaf_text(value)
    if text and len(text) < MIN_LENGTH:
        return [f"{where} is shorter than {MIN_LENGTH} characters, too short to be hidden in output{advice}"]
    return []


def is_sensitive(text: Any) -> bool:
    """Whether text holds a registered sensitive value in any of its forms."""
    if not isinstance(text, str):
        return False
    pattern = _pattern_for(text)
    return pattern is not None and pattern.search(text) is not None


def redact(text: str) -> str:
    """text with every registered sensitive value, in any of its forms, replaced by (sensitive); a number,
    true, false, null, an object or a list standing as a JSON value by "(sensitive)" in quotes, so a
    redacted JSON document stays JSON."""
    pattern = _pattern_for(text)
    return text if pattern is None else pattern.sub(_mask_for, text)


_JSON_SCALAR = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")
_JSON_BEFORE = re.compile(r"[:\[,]\s*$")
_JSON_AFTER = re.compile(r"[ \t]*(?:[,\]}\r\n]|$)")


def _mask_for(match: re.Match[str]) -> str:
    found, text = match.group(0), match.string
    if (found[0] in "{[" or _JSON_SCALAR.fullmatch(found)) and _JSON_BEFORE.search(text, max(0, match.start() - 64), match.start()) \
            and _JSON_AFTER.match(text, match.end()):
        return json.dumps(MASK)
    return MASK


def redacted_traceback(exc: BaseException) -> str:
    """A traceback as Python prints it (chained causes, exception messages and notes included), redacted."""
    return redact("".join(traceback.format_exception(exc)))


class RedactingStream:
    """A text stream whose every write is redacted first: what a command prints reaches the terminal
    only through redact, whichever code printed it. It has no binary `buffer`: bytes written there
    would bypass the redaction."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: Any) -> int:
        self._stream.write(redact(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":
            raise AttributeError(name)
        return getattr(self._stream, name)


@contextlib.contextmanager
def redacted_output() -> Iterator[None]:
    """sys.stdout and sys.stderr as RedactingStreams while the block runs (warnings and logging too)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(saved[0]), RedactingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def digest(value: Any) -> str:
    """A stable digest for comparing write-only or sensitive values without keeping them."""
    data = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


def clear() -> None:
    with _lock:
        _forms.clear()
        _probes.clear()
        _cache.clear()


def forms(text: str) -> dict[str, str]:
    """Each form of one string's text and where it counts; {} for a text too short to hide."""
    return _leaf_forms(text)


def _pattern_for(text: str) -> re.Pattern[str] | None:
    """One expression for the registered forms present in text, longest first (so a JSON-escaped form
    wins over the plain value it contains); cached per set of forms."""
    with _lock:
        present = tuple(sorted((f for probe, group in _probes.items() if probe in text for f in group if f in text),
                               key=lambda f: (-len(f), f)))
        if not present:
            return None
        pattern = _cache.get(present)
        if pattern is None:
            parts = []
            for form in present:
                before, after = _LOOKAROUND[_forms[form]]
                parts.append(before + re.escape(form) + after)
            pattern = _cache[present] = re.compile("|".join(parts))
        return pattern


def _probe(form: str) -> str:
    """The form's longest run of ASCII letters and digits (escaping, URL-encoding and HTML leave those
    alone, so a value's variants share it), or the form itself when that run is short."""
    run = max(_ALNUM_RUN.findall(form), key=len, default="")
    return run if len(run) >= MIN_LENGTH else form


_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")


def _leaf_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _collect(value: Any, found: dict[str, str], fields: bool) -> None:
    if isinstance(value, dict | list | tuple):
        if fields:
            for item in value.values() if isinstance(value, dict) else value:
                _collect(item, found, fields)
        for text in _container_texts(value):
            _merge(found, _whole_forms(text))
        return
    text = _leaf_text(value)
    if text is not None:
        _merge(found, forms(text))


def _merge(found: dict[str, str], more: dict[str, str]) -> None:
    for form, bound in more.items():
        known = found.get(form)
        if known is None or _STRICTNESS[bound] < _STRICTNESS[known]:
            found[form] = bound


def _whole_forms(text: str) -> dict[str, str]:
    """An object's or a list's text: as written, quoted, and in base64."""
    if len(text) < MIN_LENGTH:
        return {}
    return dict.fromkeys({text, *_quoted_forms(text), *_base64_forms(text)}, ANYWHERE)


def _container_texts(value: Any) -> set[str]:
    """The texts a template gives an object or a list: JSON (Jinja's `tojson` sorts keys and escapes for
    HTML), compact JSON, and Python's repr (what `{{ value }}` and `b64encode` print)."""
    texts = {str(value)}
    for sort_keys in (False, True):
        for separators in (None, (",", ":")):
            try:
                texts.add(json.dumps(value, sort_keys=sort_keys, separators=separators))
            except (TypeError, ValueError):  # a value known only at apply time, or keys that do not sort
                continue
    texts |= {_html_safe_json(t) for t in list(texts) if t.startswith(("{", "["))}
    return texts


def _leaf_forms(text: str) -> dict[str, str]:
    forms: dict[str, str] = {}
    if len(text) < MIN_LENGTH:
        return forms

    def add(form: str, bound: str) -> None:
        if len(form) < MIN_ANYWHERE:
            bound = NOT_BESIDE_ALNUM
        known = forms.get(form)
        if len(form) >= MIN_LENGTH and (known is None or _STRICTNESS[bound] < _STRICTNESS[known]):
            forms[form] = bound

    if text.isascii() and text.isdigit():  # a number: not inside a longer number (account ids, timestamps)
        add(text, NOT_BESIDE_DIGIT)
        add(text[::-1], NOT_BESIDE_DIGIT)
    else:
        for form in _escaped_forms(text):
            add(form, ANYWHERE)
        for variant in {text.upper(), text.lower(), text.title(), _jinja_title(text), text.capitalize(),
                        text.swapcase(), text.casefold(), text[::-1]} - {text}:
            for form in _escaped_forms(variant, url=False):
                add(form, NOT_BESIDE_ALNUM)
        collapsed = " ".join(text.split())  # how a one-line error message shows it
        if collapsed != text:
            add(collapsed, ANYWHERE)
        for line in text.splitlines():
            if len(line.strip()) >= MIN_LINE:
                add(line.strip(), ANYWHERE)
    quoted = json.dumps(text)
    for source in {text, quoted, _html_safe_json(quoted), json.dumps(text, ensure_ascii=False),
                   text.upper(), text.lower()}:
        for form in _base64_forms(source):
            add(form, ANYWHERE)
    # every form again as it reads inside a JSON string or a repr (plans, state and tracebacks quote
    # what they hold), and the value itself quoted twice (a JSON document held in a JSON string)
    for form, bound in list(forms.items()):
        for escaped in _quoted_forms(form):
            add(escaped, bound)
    for escaped in _quoted_forms(text):
        for twice in _quoted_forms(escaped):
            if twice not in forms:
                add(twice, ANYWHERE)
    return forms


def _jinja_title(text: str) -> str:
    """Jinja's `title`: each word capitalised, words split at whitespace, '-' and opening brackets
    (str.title also capitalises after digits)."""
    return "".join(part[:1].upper() + part[1:].lower() for part in _JINJA_WORDS.split(text))


_JINJA_WORDS = re.compile(r"([-\s({\[<]+)")


def _quoted_forms(text: str) -> set[str]:
    """text inside a JSON string (ASCII-escaped or not) and inside a Python repr."""
    return {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1]}


def _escaped_forms(text: str, url: bool = True) -> set[str]:
    """text as it reads inside a JSON string (ASCII or not, and Jinja's HTML-safe `tojson`), a Python
    repr, HTML (`escape`) and, with url, a URL (`urlencode`: quote and quote_plus, '/' kept or not)."""
    out = {text, _html_safe_json(json.dumps(text)[1:-1]), html.escape(text),
           html.escape(text).replace("&#x27;", "&#39;").replace("&quot;", "&#34;"), *_quoted_forms(text)}
    if url:
        for safe in ("", "/"):
            for encoded in (urllib.parse.quote(text, safe=safe), urllib.parse.quote_plus(text, safe=safe)):
                out |= {encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)}
    return out


def _html_safe_json(text: str) -> str:
    """JSON text as Jinja's `tojson` writes it: <, >, & and ' as \\u escapes."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("'", "\\u0027"))


def _base64_forms(text: str) -> set[str]:
    """Standard and URL-safe base64 of text, with and without '=' padding."""
    raw = text.encode()
    out = set()
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        out |= {encoded, encoded.rstrip("=")}
    return out
