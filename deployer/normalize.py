"""Canonical forms for comparing desired and live values, so apply-then-plan shows no changes.

Numbers and booleans compare by value ("5" == 5, "true" == True), JSON strings compare as
the data they hold, tag lists compare as maps, and IAM-style policy documents compare by
meaning (single values and one-item lists equal, statement and set order ignored, defaults folded).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^-?[0-9]+\.[0-9]+$")
POLICY_SET_KEYS = ("Action", "NotAction", "Resource", "NotResource")
DEFAULT_POLICY_VERSION = "2012-10-17"


def canon(value: Any) -> Any:
    """The canonical form of any value (pure; used on both sides of every comparison)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, str):
        s = value.strip()
        if _INT.match(s):
            return int(s)
        if _FLOAT.match(s):
            f = float(s)
            return int(f) if f.is_integer() else f
        if s.lower() in ("true", "false"):
            return s.lower() == "true"
        if s[:1] in "{[" and s[-1:] in "}]":
            try:
                return canon(json.loads(s))
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        if is_policy(value):
            return canon_policy(value)
        return {str(k): canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and all(isinstance(t, dict) and set(t) <= {"Key", "Value"} and "Key" in t for t in value):
            return {str(t["Key"]): canon(t.get("Value", "")) for t in value}  # a tag list
        return [canon(v) for v in value]
    return value


def is_policy(value: Any) -> bool:
    return isinstance(value, dict) and "Statement" in value


def holds_policy(value: Any) -> bool:
    """Whether a value is, or contains, a policy document (a role's Policies list holds several)."""
    if is_policy(value):
        return True
    if isinstance(value, dict):
        return any(holds_policy(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_policy(v) for v in value)
    return False


# Fields that name an item of a list of maps (SPEC §5: a change's path is `List[KEY]` then): a policy
# statement's Sid, an index's name, an inline policy's name, a tag's key, a key schema's attribute...
NATURAL_KEYS = ("Sid", "IndexName", "PolicyName", "Key", "AttributeName", "Id", "Name", "StatusCode")
# A security group rule has no name: its protocol, ports and peer are what a reviewer calls it by.
RULE_PEERS = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId", "SourcePrefixListId",
              "DestinationPrefixListId", "SourceSecurityGroupName")


def _rule_label(rule: dict[str, Any]) -> str | None:
    """`tcp 443-443 10.0.0.0/16` for a security group rule; None for anything else."""
    if "IpProtocol" not in rule:
        return None
    peer = next((str(rule[k]) for k in RULE_PEERS if rule.get(k) is not None), "")
    ports = f"{rule.get('FromPort', '')}-{rule.get('ToPort', '')}" if "FromPort" in rule or "ToPort" in rule else ""
    return " ".join(p for p in (str(rule["IpProtocol"]), ports, peer) if p)


def _field_label(field: str) -> Callable[[dict[str, Any]], str | None]:
    def label(item: dict[str, Any]) -> str | None:
        value = item.get(field)
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    return label


def natural_key(*lists: list[Any]) -> Callable[[dict[str, Any]], str] | None:
    """How to name every item of these lists (each a map) uniquely within its list, or None."""
    items = [i for items in lists for i in items]
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for label in (*map(_field_label, NATURAL_KEYS), _rule_label):
        if all(label(i) is not None for i in items) and \
                all(len({label(i) for i in items}) == len(items) for items in lists):
            return label  # type: ignore[return-value]
    return None


def _as_sorted_set(value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    items = [canon(i) if not isinstance(i, str) else i for i in items]
    unique = {json.dumps(i, sort_keys=True): i for i in items}
    return [unique[k] for k in sorted(unique)]


def _canon_principal(p: Any) -> Any:
    if p == "*":
        return {"AWS": ["*"]}
    if isinstance(p, dict):
        return {k: _as_sorted_set(v) for k, v in sorted(p.items())}
    return p


def _canon_statement(st: Any) -> Any:
    if not isinstance(st, dict):
        return canon(st)
    out: dict[str, Any] = {}
    for k, v in st.items():
        if k == "Sid" and v in ("", None):
            continue
        if k in POLICY_SET_KEYS:
            out[k] = _as_sorted_set(v)
        elif k in ("Principal", "NotPrincipal"):
            out[k] = _canon_principal(v)
        elif k == "Condition" and isinstance(v, dict):
            out[k] = {op: {ck: _as_sorted_set(cv) for ck, cv in sorted(body.items())} if isinstance(body, dict) else body
                      for op, body in sorted(v.items())}
        else:
            out[k] = v if isinstance(v, str) else canon(v)
    return out


def canon_policy(doc: dict[str, Any]) -> dict[str, Any]:
    """A policy document by meaning: statements as a sorted list of canonical statements."""
    statements = doc.get("Statement")
    if not isinstance(statements, list):
        statements = [statements]
    canon_statements = [_canon_statement(s) for s in statements]
    out = {k: canon(v) if not isinstance(v, str) else v for k, v in doc.items() if k not in ("Statement", "Version", "Id")}
    out["Version"] = doc.get("Version") or DEFAULT_POLICY_VERSION
    if doc.get("Id"):
        out["Id"] = doc["Id"]
    out["Statement"] = sorted(canon_statements, key=lambda s: json.dumps(s, sort_keys=True))
    return out


def parse_policy(value: Any) -> Any:
    """A policy as AWS returns it (JSON text, maybe URL-encoded) -> data."""
    if isinstance(value, str):
        from urllib.parse import unquote

        text = value if value.lstrip().startswith("{") else unquote(value)
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def equal(a: Any, b: Any) -> bool:
    return canon(a) == canon(b)
