"""Builds what a command needs from its options: the stack, AWS access, the state backend."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deployer.errors import UsageError

if TYPE_CHECKING:  # boto3 is imported by the commands that call AWS, when they do
    from deployer.aws import Aws
    from deployer.spec.model import Stack


@dataclass
class Options:
    path: str | None = None
    cli_vars: list[str] = field(default_factory=list)
    var_files: list[str] = field(default_factory=list)
    var_order: list[str] | None = None  # "var"/"file" per --var/--var-file as given (their precedence)
    env: str | None = None
    region: str | None = None
    stack_name: str | None = None  # --stack: a CloudFormation template's stack name
    profile: str | None = None
    sandbox: bool = False
    state_dir: str | None = None
    no_color: bool = False
    debug: bool = False

    @property
    def state_root(self) -> str:
        """Where deployer keeps its files: --state-dir, DEPLOYER_STATE_DIR, or ./.deployer."""
        return self.state_dir or os.environ.get("DEPLOYER_STATE_DIR") or ".deployer"

    @property
    def states_root(self) -> str:
        """Where the local backend keeps states: the sandbox's apart from real AWS's (SPEC §4)."""
        return os.path.join(self.state_root, "sandbox") if self.sandbox else self.state_root


def make_aws(opts: Options) -> Aws:
    """AWS access for a command: the sandbox's endpoint with --sandbox, else the standard environment."""
    from deployer.aws import Aws

    if opts.sandbox:
        from deployer import sandbox

        running = sandbox.status(opts.state_root)
        info = running or sandbox.start(opts.state_root)
        if not running:
            print(f"sandbox started at {info['url']} (pid {info['pid']}); `deployer sandbox stop` stops it",
                  file=sys.stderr)
        return Aws(profile=opts.profile, endpoint_url=info["url"], sandbox=True)
    return Aws(profile=opts.profile)


def load(opts: Options) -> Stack:
    """The stack PATH names, checked; --stack names a template's stack and must agree with a spec's."""
    from deployer.spec import load_and_check

    if not opts.path:
        raise UsageError("a stack PATH is required")
    stack = load_and_check(opts.path, opts.cli_vars, opts.var_files, opts.region, opts.stack_name, opts.var_order,
                           env=opts.env)
    if opts.stack_name and stack.name != opts.stack_name:
        raise UsageError(f"--stack {opts.stack_name}: {opts.path} names its stack '{stack.name}' (its `stack:` key); "
                         "--stack names the stack of a CloudFormation template")
    return stack


def load_every_environment(opts: Options) -> list[Stack]:
    """The stack for --env, or, without it, for each environment it declares (SPEC §9), so
    `validate` checks them all; a problem of only some environments names them."""
    from dataclasses import replace

    from deployer.errors import Problem, SpecError
    from deployer.spec.load import environment_names

    names = [] if opts.env or not opts.path else environment_names(opts.path)
    if not names:
        return [load(opts)]
    stacks: list[Stack] = []
    failed: dict[str, list[Problem]] = {}
    for name in names:
        try:
            stacks.append(load(replace(opts, env=name)))
        except SpecError as exc:
            failed[name] = exc.problems
    if not failed:
        return stacks
    everywhere = set.intersection(*(set(map(str, p)) for p in failed.values())) if len(failed) == len(names) else set()
    problems: dict[str, Problem] = {}
    for name, found in failed.items():
        for p in found:
            if str(p) in everywhere:
                problems.setdefault(str(p), p)
            else:
                problems[f"{p}@{name}"] = Problem(p.location, p.path, f"{p.message} (environment '{name}')")
    raise SpecError(list(problems.values()))


def backend_for(stack: Stack, opts: Options, aws: Aws):
    """The state backend the stack's `backend:` names (local by default), checked against what the
    state was made for (deployer/state/identity.py)."""
    from deployer.state.identity import CheckedBackend, Identity, endpoint_of

    kind = (stack.backend or {}).get("type", "local")
    if kind == "s3":
        from deployer.state.s3 import S3Backend

        backend = S3Backend(aws, stack.backend, stack.name, stack.backend.get("region") or stack.region)
    else:
        from deployer.state.local import LocalBackend

        backend = LocalBackend(opts.states_root, stack.name)
    return CheckedBackend(backend, lambda: Identity(stack.name, stack.environment, aws.account_id(stack.region),
                                                    endpoint_of(aws)))
