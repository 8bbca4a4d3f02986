"""Property-by-property comparison of one resource: desired (or last applied) against live."""

from __future__ import annotations

from typing import Any

from deployer import secrets
from deployer.normalize import canon
from deployer.plan import Change
from deployer.spec.refs import Unknown, contains_unknown


def get_path(data: Any, dotted: str) -> tuple[bool, Any]:
    cur = data
    for part in dotted.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return False, None
    return True, cur


def set_path(data: dict, dotted: str, value: Any, present: bool) -> None:
    parts = dotted.split(".")
    cur = data
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            if not present:
                return
            nxt = {}
            cur[part] = nxt
        cur = nxt
    if present:
        cur[parts[-1]] = value
    else:
        cur.pop(parts[-1], None)


def mask_ignored(desired: dict[str, Any], live: dict[str, Any] | None, paths: list[str]) -> dict[str, Any]:
    """Desired with the live value put back at every ignore_changes path (so those never differ)."""
    if not paths or live is None:
        return desired
    import copy

    out = copy.deepcopy(desired)
    for p in paths:
        present, value = get_path(live, p)
        set_path(out, p, value, present)
    return out


def _leaf_changes(path: str, before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """Descend into maps so a reviewer sees the one nested value that changed."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for k in sorted(set(before) | set(after), key=str):
            b, a = before.get(k), after.get(k)
            if b != a:
                out += _leaf_changes(f"{path}.{k}", b, a)
        return out
    return [(path, before, after)]


def compare(
    keys: set[str],
    desired: dict[str, Any],
    actual: dict[str, Any],
    defaults: dict[str, Any],
    create_only: set[str],
    sensitive: set[str],
    tags_key: str | None = None,
) -> list[Change]:
    """Changes for `keys`, each side falling back to the service default when absent; the tags
    property compares as a map whatever its shape (a list, a map, or nothing)."""
    changes: list[Change] = []
    for key in sorted(keys):
        d = desired[key] if key in desired else defaults.get(key)
        a = actual[key] if key in actual else defaults.get(key)
        if key == tags_key:
            d, a = _tag_map(d), _tag_map(a)
        if isinstance(d, Unknown) or contains_unknown(d):
            changes.append(Change(key, canon(a), d, replace=key in create_only, sensitive=key in sensitive))
            continue
        if key in sensitive:
            dd = d if _is_digest(d) else secrets.digest(d)  # exact value: "True" and "true" are different secrets
            ad = a if _is_digest(a) else secrets.digest(a)
            if dd != ad:
                changes.append(Change(key, a, d, replace=key in create_only, sensitive=True))
            continue
        cd, ca = canon(d), canon(a)
        if cd != ca:
            for path, b, af in _leaf_changes(key, ca, cd):
                changes.append(Change(path, b, af, replace=key in create_only))
    return changes


def changed_keys(before: dict[str, Any], after: dict[str, Any], defaults: dict[str, Any],
                 tags_key: str | None = None, keys: set[str] | None = None) -> frozenset[str]:
    """The top-level properties whose canonical values differ, an absent one meaning its default:
    what a handler's update is told to change."""
    out = set()
    for k in keys if keys is not None else set(before) | set(after):
        b, a = before.get(k, defaults.get(k)), after.get(k, defaults.get(k))
        if k == tags_key:
            b, a = _tag_map(b), _tag_map(a)
        if canon(b) != canon(a):
            out.add(k)
    return frozenset(out)


def _tag_map(value: Any) -> Any:
    if isinstance(value, Unknown) or (isinstance(value, str) and "${" in value):
        return value
    from deployer.resources.base import tags_to_map

    return tags_to_map(value) if isinstance(value, list | dict) or value is None else value


def _is_digest(v: Any) -> bool:
    return isinstance(v, str) and v.startswith("sha256:")
