"""What a state belongs to — its stack, environment, AWS account and custom endpoint — checked on
every read, so a command never plans (or deletes) against another stack's state or another account.

Terraform checks a state's lineage; CloudFormation scopes every resource to its stack. deployer
records the four facts in the state at its first write and refuses a state that names others: two
stacks whose `backend` points at the same key, a copied state, a wrong `--state-dir`, a state made
against the sandbox used against AWS. A state that records none of them yet (made by an older
deployer) is accepted and stamped at its next write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from deployer.errors import StateError
from deployer.state.model import State

SANDBOX = "sandbox"  # the endpoint a sandbox state records (its port changes at every start)


@dataclass(frozen=True)
class Identity:
    stack: str
    environment: str | None
    account: str | None
    endpoint: str | None

    def describe(self) -> str:
        parts = [f"stack '{self.stack}'"]
        if self.environment:
            parts.append(f"environment '{self.environment}'")
        parts.append(f"account {self.account}" if self.account else "an unknown account")
        parts.append(f"endpoint {self.endpoint}" if self.endpoint else "AWS's own endpoints")
        return ", ".join(parts)


def endpoint_of(aws: Any) -> str | None:
    """The custom endpoint commands reach: the sandbox, AWS_ENDPOINT_URL, or None for AWS itself."""
    if getattr(aws, "sandbox", False):
        return SANDBOX
    return getattr(aws, "endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL") or None


def recorded(state: State) -> Identity:
    return Identity(state.stack, state.environment, state.account, state.endpoint)


def mismatches(state: State, expected: Identity) -> list[str]:
    """What the state names that this command is not: empty when it may be used."""
    found = []
    if state.stack != expected.stack:
        found.append("stack")
    if state.environment is not None and state.environment != expected.environment:
        found.append("environment")
    if state.account and expected.account and state.account != expected.account:
        found.append("account")
    if state.account and state.endpoint != expected.endpoint:
        found.append("endpoint")
    return found


class CheckedBackend:
    """A state backend whose reads refuse a state of another identity and whose writes record it."""

    def __init__(self, backend: Any, identity: Any):
        self._backend = backend
        self._identity = identity  # an Identity, or a callable making one (the account is read lazily)

    @property
    def identity(self) -> Identity:
        if callable(self._identity):
            self._identity = self._identity()
        return self._identity

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def read(self) -> State:
        state = self._backend.read()
        if not state.resources and not state.lineage:
            return state  # nothing stored yet
        problems = mismatches(state, self.identity)
        if problems:
            raise StateError(
                f"{self._backend.describe()} is the state of {recorded(state).describe()}; this command runs for "
                f"{self.identity.describe()}: refusing to use it ({', '.join(problems)} differ). Check the "
                "stack's `backend` key, --state-dir, --env, AWS_PROFILE and AWS_ENDPOINT_URL")
        return state

    def write(self, state: State) -> None:
        ident = self.identity
        state.stack, state.environment = ident.stack, ident.environment
        state.account, state.endpoint = ident.account, ident.endpoint
        self._backend.write(state)
