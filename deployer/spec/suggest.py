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
    if match:
        return f" (did you mean '{match[0]}'?)"
    # a short name the long one starts with (`enviroment` for `env`), or the other way round
    stems = [c for c in pool if len(c) >= 3 and len(name) >= 3 and (name.lower().startswith(c.lower())
                                                                    or c.lower().startswith(name.lower()))]
    return f" (did you mean '{max(stems, key=len)}'?)" if stems else ""


def terraform_habit(args: list[str], long_options: list[str]) -> str | None:
    """A hint for an argument written the Terraform way (`-var x=1`, `-auto-approve`): a single-dash
    word whose double-dash form is one of the command's options."""
    for arg in args:
        if arg == "--":
            break
        if len(arg) > 2 and arg.startswith("-") and not arg.startswith("--"):
            word = arg[1:].split("=", 1)[0]
            if f"--{word}" in long_options:
                return f"'{arg}' is Terraform's spelling: deployer's options take two dashes (did you mean '-{arg}'?)"
    return None
