"""Property-by-property comparison of one resource: desired (or last applied) against live."""

from __future__ import annotations

from typing import Any

from deployer import secrets
from deployer.normalize import canon, holds_policy, is_policy, natural_key
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


def leaf_changes(path: str, before: Any, after: Any, in_policy: bool = False,
                 keyed: bool = False) -> list[tuple[str, Any, Any, bool]]:
    """(path, before, after, in a policy) of each changed leaf: maps descend by key (`A.B`), lists of
    maps by their items' natural key (`A[key]`) or, without one, by position (`A[0]`) after equal items
    are paired; a list of scalars is one leaf (the renderers show its items added and removed).
    `keyed`: the map's keys are list keys (a tag map: `Tags[team]`)."""
    in_policy = in_policy or is_policy(before) or is_policy(after)
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for k in sorted(set(before) | set(after), key=str):
            if before.get(k) != after.get(k):
                out += leaf_changes(f"{path}[{k}]" if keyed else f"{path}.{k}", before.get(k), after.get(k),
                                    in_policy)
        return out
    if isinstance(before, list) and isinstance(after, list) and \
            any(isinstance(i, dict) for i in (*before, *after)):
        out = []
        for label, b, a in _paired(before, after):
            if b != a:
                out += leaf_changes(f"{path}[{label}]", b, a, in_policy)
        return out
    return [(path, before, after, in_policy or holds_policy(before) or holds_policy(after))]


def _paired(before: list[Any], after: list[Any]) -> list[tuple[str, Any, Any]]:
    """(label, before item, after item) of two lists: by natural key, else equal items paired first
    and the rest in order, labelled by position (in `after`, or in `before` for removed items)."""
    label = natural_key(before, after)
    if label:
        old = {label(i): i for i in before}
        new = {label(i): i for i in after}
        return [(k, old.get(k), new.get(k)) for k in sorted(old.keys() | new.keys(), key=_natural_order)]
    left = list(range(len(before)))
    pairs: list[tuple[str, Any, Any]] = []
    unmatched_after = []
    for j, item in enumerate(after):
        i = next((i for i in left if before[i] == item), None)
        if i is None:
            unmatched_after.append(j)
        else:
            left.remove(i)
    for j in unmatched_after:
        i = left.pop(0) if left else None
        pairs.append((str(j), before[i] if i is not None else None, after[j]))
    pairs += [(str(i), before[i], None) for i in left]
    return pairs


def _natural_order(key: str) -> tuple[int, Any]:
    return (0, int(key)) if key.isdigit() else (1, key)


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
            for path, b, af, policy in leaf_changes(key, ca, cd, keyed=key == tags_key):
                changes.append(Change(path, b, af, replace=key in create_only, policy=policy))
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
