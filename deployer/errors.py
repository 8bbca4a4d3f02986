"""One error hierarchy; the CLI prints any DeployerError as one line per problem and exits 1."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


class DeployerError(Exception):
    """Base of every error deployer reports to a user (never shown as a traceback)."""

    def lines(self) -> list[str]:
        return [str(self)]


@dataclass(frozen=True, order=True)
class Location:
    """Where a value came from in a spec file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One problem in a spec: where, which property path, what is wrong."""

    location: Location | None
    path: str
    message: str

    def __str__(self) -> str:
        where = str(self.location) if self.location else "<spec>"
        text = f"{where}: {self.path or '<root>'}: {self.message}"
        return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)  # one problem, one line

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file, loc.line, loc.col) if loc else ("", 0, 0)


class SpecError(DeployerError):
    """One or more problems in a stack's files, each printed as FILE:LINE:COL: path: message."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class UsageError(DeployerError):
    """A command was called in a way that cannot work (bad option value, missing file...)."""


class StateError(DeployerError):
    """The state is missing, locked, corrupt or does not match what a saved plan expected."""


class PlanError(DeployerError):
    """A plan cannot be made or applied (prevent_destroy, ownership conflict, stale plan...)."""


class AwsError(DeployerError):
    """An AWS call failed; names the resource, the operation and the AWS error code."""

    def __init__(self, resource: str, message: str, code: str | None = None):
        self.resource = resource
        self.code = code
        text = f"{resource}: {message}" if resource else message
        if code and code not in message:
            text += f" ({code})"
        super().__init__(text)


class ApplyFailed(DeployerError):
    """An apply stopped at a failed step; carries the root cause and what rollback did."""

    def __init__(self, root_cause: str, rolled_back: bool, notes: list[str] | None = None, undone: int = 1):
        self.root_cause = root_cause
        self.rolled_back = rolled_back
        self.notes = notes or []
        self.undone = undone  # how many completed steps there were to undo
        super().__init__(root_cause)

    def lines(self) -> list[str]:
        if not self.rolled_back:
            tail = "completed steps were left in place (--no-rollback)"
        elif self.notes:
            tail = (f"rollback incomplete: {len(self.notes)} of {self.undone} step(s) not fully undone (above); "
                    "the next plan reads every resource again and shows what is left")
        elif not self.undone:
            tail = "no step had completed, so there was nothing to roll back"
        else:
            tail = f"rolled back every completed step ({self.undone})"
        return [f"apply failed: {self.root_cause}", *self.notes, f"apply failed: {tail}"]


class Interrupted(DeployerError):
    """The user pressed Ctrl-C; exit status 130."""
