"""Environments (SPEC §9): one spec, several deployments of it — dev, staging, prod — each with its
own variables, region, tags and backend, and its own state and lock.

A stack that declares `environments` is always loaded for one of them (`--env NAME` or
DEPLOYER_ENV): its variables are a layer between the defaults and DEPLOYER_VAR_* (SPEC §2), its
region replaces the stack's default (--region and AWS_REGION still win), its tags are merged over
the stack's, its backend replaces the stack's. The stack's name becomes `<stack>-<env>`, so the state
file, the lock, the ownership tags, the names deployer generates and `${AWS::StackName}` all differ
per environment: planning `staging` never reads or touches `dev`. A stack's own s3 backend, used by
every environment, keeps one object per environment under `env:/<env>/<key>` (Terraform's
workspace layout).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deployer.errors import Location, Problem, SpecError, UsageError
from deployer.spec.suggest import did_you_mean

NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
ENV_KEY_PREFIX = "env:/"  # a shared s3 backend's key per environment: env:/<env>/<key>


@dataclass(frozen=True)
class Environment:
    """The environment a stack is loaded for, as the spec declares it."""

    name: str
    variables: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)  # of each variable's value
    region: str | None = None


def declared(top: Mapping[str, Any]) -> dict[str, Any]:
    """The `environments` map a spec declares (empty when it declares none)."""
    found = top.get("environments")
    return found if isinstance(found, dict) else {}


def choose(top: Mapping[str, Any], marks: Mapping[tuple, Location], requested: str | None, path: str) -> Environment | None:
    """The environment to load the stack for, or None for a stack without environments. A stack
    with environments needs one; a name it does not declare, or one given to a stack without
    environments, is an error naming what is declared."""
    envs = declared(top)
    if not envs:
        if requested:
            raise UsageError(f"--env {requested} (or DEPLOYER_ENV): {path} declares no environments; drop the "
                             "option, or declare `environments:` in the spec (docs/environments.md)")
        return None
    names = ", ".join(str(n) for n in envs)
    stack = f"stack '{top['stack']}'" if isinstance(top.get("stack"), str) else path
    if not requested:
        raise UsageError(f"{stack} declares environments ({names}): choose one with --env NAME (or DEPLOYER_ENV)")
    if requested not in envs:
        raise UsageError(f"--env {requested}: {stack} declares no environment '{requested}'"
                         f"{did_you_mean(requested, [str(n) for n in envs])}; declared: {names}")
    body = envs[requested] if isinstance(envs[requested], dict) else {}
    values = body.get("variables") if isinstance(body.get("variables"), dict) else {}
    locations = {n: marks[("environments", requested, "variables", n)] for n in values
                 if ("environments", requested, "variables", n) in marks}
    region = body.get("region") if isinstance(body.get("region"), str) else None
    return Environment(requested, dict(values), locations, region)


def apply_to(stack: Any, env: Environment) -> None:
    """Make a loaded stack the environment's: its name, tags and backend (SPEC §9)."""
    body = declared(stack.raw).get(env.name)
    body = body if isinstance(body, dict) else {}
    base = stack.name
    stack.name = f"{base}-{env.name}"
    stack.environment = env.name
    if isinstance(body.get("tags"), dict):
        stack.tags = {**stack.tags, **{str(k): str(v) for k, v in body["tags"].items()}}
    if isinstance(body.get("backend"), dict):
        stack.backend = dict(body["backend"])
    elif stack.backend.get("type") == "s3" and isinstance(stack.backend.get("key"), str):
        stack.backend = {**stack.backend, "key": f"{ENV_KEY_PREFIX}{env.name}/{stack.backend['key']}"}


def check_names(top: Mapping[str, Any], marks: Mapping[tuple, Location], path: str) -> None:
    """Environment names as SPEC §9 allows them (the schema says the same; this runs before the
    stack is rendered, so a bad name is reported at its line and not as a stray --env error)."""
    problems = [Problem(marks.get(("environments", n)) or Location(path, 1, 1), f"environments.{n}",
                        f"'{n}' is not an environment name (lower-case letters, digits and '-', starting "
                        "with a letter, at most 32 characters)")
                for n in declared(top) if not isinstance(n, str) or not NAME.match(n)]
    if problems:
        raise SpecError(problems)
