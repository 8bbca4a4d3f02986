"""Sensitive values known to this process, and the one function that hides them in any text.

Every writer (terminal, plan file, state, journal, logs) passes its text through `redact`,
so a secret that slipped into a value by any route still never reaches a byte on disk.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

MASK = "(sensitive)"
_lock = threading.Lock()
_values: set[str] = set()


def register(value: Any) -> None:
    """Remember a sensitive value (its string and its JSON-escaped forms) for redaction."""
    if value is None:
        return
    try:
        text = value if isinstance(value, str) else json.dumps(value)
    except TypeError:  # holds a value known only at apply time (refs.UNKNOWN): registered when it is known
        return
    if len(text) < 4:  # too short to redact safely without mangling ordinary text
        return
    with _lock:
        _values.add(text)
        _values.add(json.dumps(text)[1:-1])


def is_sensitive(value: Any) -> bool:
    return isinstance(value, str) and any(v in value for v in _values)


def redact(text: str) -> str:
    """Replace every occurrence of a registered sensitive value in text with (sensitive)."""
    with _lock:
        values = sorted(_values, key=len, reverse=True)
    for v in values:
        if v in text:
            text = text.replace(v, MASK)
    return text


def digest(value: Any) -> str:
    """A stable digest for comparing write-only or sensitive values without keeping them."""
    data = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


def clear() -> None:
    with _lock:
        _values.clear()
