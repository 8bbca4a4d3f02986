"""CloudFormation templates as input: read an unchanged template into the same Stack model the
deployer format produces (deployer.cfn.loader), or print the equivalent deployer spec (convert)."""

from __future__ import annotations

import re
from pathlib import Path as FsPath

from deployer.cfn.template import looks_like_template

STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def is_template(path: str) -> bool:
    """Whether PATH is a CloudFormation template: one file whose top-level mapping has `Resources`."""
    return looks_like_template(path)


def default_stack_name(path: str) -> str:
    """The file's name without extension, lower-cased, every character outside [a-z0-9-] as `-`;
    a name that does not start with a letter gets `stack-` in front, and it is cut to 63 characters."""
    name = re.sub(r"[^a-z0-9-]", "-", FsPath(path).stem.lower())
    if not name or not name[0].isalpha():
        name = "stack-" + name
    name = name[:63]
    return name if STACK_NAME.match(name) else "stack"


__all__ = ["default_stack_name", "is_template"]
