"""CloudFormation's intrinsic functions that can only be computed at apply time, in their JSON form.

A value such as `{"Fn::Join": ["", ["arn:", "${Bucket.Arn}"]]}` may stand anywhere a value may: its
arguments are ordinary deployer values (strings with `${...}` references, lists, other functions).
`refs.substitute` resolves the arguments and, once none is unknown, calls `evaluate`. Everything here
is pure except Fn::GetAZs and Fn::ResolveSecret, which ask the resolver (a `Ref` of kind "azs" or
"secret"), so plan time and apply time share one code path.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable
from typing import Any

from deployer.errors import DeployerError

JOIN, SELECT, SPLIT, BASE64, CIDR, GETAZS = "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Base64", "Fn::Cidr", "Fn::GetAZs"
RESOLVE_SECRET = "Fn::ResolveSecret"  # deployer's own: {{resolve:secretsmanager:...}} of an apply-time secret id
FUNCTIONS = (JOIN, SELECT, SPLIT, BASE64, CIDR, GETAZS, RESOLVE_SECRET)


class FunctionError(DeployerError):
    """A function's arguments have the wrong shape or value (reported with the function's name)."""


def is_function(value: Any) -> bool:
    """Whether a value is one function in JSON form: a mapping with exactly one key, a function's name."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in FUNCTIONS


def contains_function(value: Any, name: str | None = None) -> bool:
    """Whether a nested value holds a function (of the given name, or any)."""
    if isinstance(value, dict):
        if is_function(value) and (name is None or name in value):
            return True
        return any(contains_function(v, name) for v in value.values())
    if isinstance(value, list):
        return any(contains_function(v, name) for v in value)
    return False


def text_of(value: Any, where: str) -> str:
    """A scalar as the string CloudFormation would use (numbers as written, booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    raise FunctionError(f"{where}: expected a string, got {_kind(value)}")


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "null"}.get(type(value), f"a {type(value).__name__}")


def _pair(name: str, args: Any) -> list[Any]:
    if not isinstance(args, list) or len(args) != 2:
        raise FunctionError(f"{name}: expected a list of two arguments, got {_describe(args)}")
    return args


def _describe(args: Any) -> str:
    return f"a list of {len(args)}" if isinstance(args, list) else _kind(args)


def join(args: Any) -> str:
    sep, items = _pair(JOIN, args)
    if not isinstance(sep, str):
        raise FunctionError(f"{JOIN}: the delimiter must be a string, got {_kind(sep)}")
    if not isinstance(items, list):
        raise FunctionError(f"{JOIN}: the second argument must be a list, got {_kind(items)}")
    return sep.join(text_of(v, f"{JOIN}: item {i}") for i, v in enumerate(items))


def select(args: Any) -> Any:
    index, items = _pair(SELECT, args)
    if isinstance(index, str) and index.strip().isdigit():
        index = int(index)
    if isinstance(index, bool) or not isinstance(index, int):
        raise FunctionError(f"{SELECT}: the index must be an integer, got {index!r}")
    if not isinstance(items, list):
        raise FunctionError(f"{SELECT}: the second argument must be a list, got {_kind(items)}")
    if not 0 <= index < len(items):
        raise FunctionError(f"{SELECT}: index {index} is out of range for a list of {len(items)}")
    return items[index]


def split(args: Any) -> list[str]:
    sep, text = _pair(SPLIT, args)
    if not isinstance(sep, str) or not sep:
        raise FunctionError(f"{SPLIT}: the delimiter must be a non-empty string, got {sep!r}")
    return text_of(text, f"{SPLIT}: the source").split(sep)


def b64(args: Any) -> str:
    return base64.b64encode(text_of(args, BASE64).encode()).decode()


def cidr(args: Any) -> list[str]:
    if not isinstance(args, list) or len(args) != 3:
        raise FunctionError(f"{CIDR}: expected [ipBlock, count, cidrBits], got {_describe(args)}")
    block, count, bits = args
    try:
        network = ipaddress.ip_network(text_of(block, f"{CIDR}: ipBlock"), strict=False)
    except ValueError:
        raise FunctionError(f"{CIDR}: {block!r} is not a CIDR block") from None
    try:
        count, bits = int(text_of(count, f"{CIDR}: count")), int(text_of(bits, f"{CIDR}: cidrBits"))
    except ValueError:
        raise FunctionError(f"{CIDR}: count and cidrBits must be integers, got {count!r} and {bits!r}") from None
    prefix = network.max_prefixlen - bits
    if bits < 1 or prefix < network.prefixlen:
        raise FunctionError(f"{CIDR}: {bits} subnet bits do not fit in {network}")
    if not 1 <= count <= 256:
        raise FunctionError(f"{CIDR}: count must be between 1 and 256, got {count}")
    subnets = []
    for subnet in network.subnets(new_prefix=prefix):
        subnets.append(str(subnet))
        if len(subnets) == count:
            return subnets
    raise FunctionError(f"{CIDR}: {network} holds only {len(subnets)} subnets of /{prefix}, not {count}")


PURE: dict[str, Callable[[Any], Any]] = {JOIN: join, SELECT: select, SPLIT: split, BASE64: b64, CIDR: cidr}


def evaluate(name: str, args: Any, resolve: Callable[[Any], Any]) -> Any:
    """The value of one function whose arguments are fully known. `resolve` answers a refs.Ref."""
    from deployer.spec.refs import Ref

    if name in PURE:
        return PURE[name](args)
    if name == GETAZS:
        region = text_of(args, GETAZS) if args not in (None, "") else resolve(Ref("pseudo", "AWS::Region"))
        return resolve(Ref("azs", region))
    if name == RESOLVE_SECRET:
        if not isinstance(args, dict) or not isinstance(args.get("SecretId"), str):
            raise FunctionError(f"{RESOLVE_SECRET}: expected {{SecretId: ..., JsonKey: ...}}, got {_kind(args)}")
        key = args.get("JsonKey")
        return resolve(Ref("secret", args["SecretId"], key=key or None))
    raise FunctionError(f"unknown function {name}")
