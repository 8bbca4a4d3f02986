"""JSON Schema `pattern` with the meaning JSON Schema gives it (ECMA-262), not Python's.

In Python's `re`, `$` also matches before a trailing newline, so `^[a-z]+$` accepts "demo\\n": a stack,
resource or variable name ending in a newline would pass validation. ECMA-262's `$` (without the
multiline flag) matches only at the end. Patterns are translated once: every `$` that is an anchor
(not escaped, not in a character class) becomes `\\Z`. The validators here use the translation for
`pattern`, `patternProperties` and `additionalProperties`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import ValidationError


def ecma_anchored(pattern: str, class_dollar: str = "$") -> str:
    """The pattern with ECMA-262's end anchor: every `$` that is an anchor (not escaped, not in a
    character class) becomes `\\Z`; a `$` inside a class is written `class_dollar`."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
            out.append(class_dollar if ch == "$" else ch)
        else:
            in_class = ch == "["
            out.append(r"\Z" if ch == "$" else ch)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def compiled(pattern: str) -> re.Pattern[str]:
    """The pattern with ECMA-262's end anchor, compiled."""
    return re.compile(ecma_anchored(pattern))


def search(pattern: str, text: str) -> bool:
    return compiled(pattern).search(text) is not None


def _pattern(validator, patrn: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not search(patrn, instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")


def _pattern_properties(validator, patterns: dict, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in patterns.items():
        for k, v in instance.items():
            if search(patrn, k):
                yield from validator.descend(v, subschema, path=k, schema_path=patrn)


def extra_properties(instance: dict, schema: dict) -> list[str]:
    """The keys neither `properties` nor a `patternProperties` pattern covers."""
    named = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return [k for k in instance if k not in named and not any(search(p, k) for p in patterns)]


def _additional_properties(validator, allowed: Any, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = extra_properties(instance, schema)
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        from jsonschema import ValidationError

        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(e) for e in sorted(extras))
            patterns = ", ".join(repr(p) for p in sorted(schema["patternProperties"]))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {patterns}")
        else:
            listed = ", ".join(repr(e) for e in extras)
            was = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({listed} {was} unexpected)")


KEYWORDS = {"pattern": _pattern, "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties}


@functools.cache
def _validators() -> dict[str, Any]:
    import jsonschema

    return {"Draft202012Validator": jsonschema.validators.extend(jsonschema.Draft202012Validator, KEYWORDS),
            "Draft7Validator": jsonschema.validators.extend(jsonschema.Draft7Validator, KEYWORDS)}


def __getattr__(name: str) -> Any:
    """Draft202012Validator and Draft7Validator with ECMA-262 patterns, made (and jsonschema imported)
    when first used: the pattern translation alone needs no jsonschema."""
    if name in ("Draft202012Validator", "Draft7Validator"):
        return _validators()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
