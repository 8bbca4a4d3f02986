"""'Did you mean ...?' suggestions for misspelt names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'X'?)' for the closest choice, or '' when none is close."""
    pool = [str(c) for c in choices]
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return f" (did you mean '{lowered[name.lower()]}'?)"
    match = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""
