"""Everything that happens to a stack before the first AWS call: load, validate, references."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deployer.spec.model import Stack


def load_and_check(path: str, cli_vars: list[str] | None = None, var_files: list[str] | None = None,
                   region: str | None = None, stack_name: str | None = None) -> Stack:
    """Load a stack and raise SpecError listing every problem, or return it valid. stack_name
    (`--stack`) names a CloudFormation template's stack."""
    from deployer.spec.load import load_stack
    from deployer.spec.validate import check

    stack = load_stack(path, cli_vars, var_files, region, stack_name=stack_name)
    check(stack)
    return stack
