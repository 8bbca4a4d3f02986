"""Just enough of a GitHub Actions runner to run a workflow file's jobs on this machine, for a test.

Every `run:` step runs as the runner runs it (`bash --noprofile --norc -eo pipefail FILE` for
`shell: bash`), with the runner's variables (GITHUB_*, RUNNER_TEMP), GITHUB_ENV / GITHUB_PATH /
GITHUB_OUTPUT carried between steps, and `${{ }}` expressions in `if:`, `env:` and `with:`
evaluated from a context the test gives (event, sha, secrets). Each job gets a fresh workspace.
The `uses:` steps the documented workflow needs are played by `Actions`; any other one fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# ---- expressions -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\|\||&&|==|!=|[!().\[\],])|'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w-]*))")
_WRAPPED = re.compile(r"\$\{\{(.*?)\}\}", re.S)


class ExpressionError(ValueError):
    """An expression this runner does not understand (so the test fails instead of guessing)."""


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()  # GitHub compares strings ignoring case
    return a == b


class _Parser:
    def __init__(self, text: str, context: dict[str, Any], functions: dict[str, Callable[[], Any]]):
        self.tokens: list[tuple[str, Any]] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise ExpressionError(f"cannot read {text[pos:]!r}")
            op, string, number, name = m.groups()
            self.tokens.append(("op", op) if op else ("str", string.replace("''", "'")) if string is not None
                               else ("num", float(number)) if number else ("name", name))
            pos = m.end()
        self.i, self.context, self.functions = 0, context, functions

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, op: str | None = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None or (op is not None and tok != ("op", op)):
            raise ExpressionError(f"expected {op or 'a value'}, got {tok}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.unary()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.unary()
            value = right if _truthy(value) else value
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        value = self.primary()
        if self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            same = _equal(value, self.primary())
            return same if op == "==" else not same
        return value

    def primary(self) -> Any:
        kind, value = self.take()
        if (kind, value) == ("op", "("):
            inner = self.or_()
            self.take(")")
            return inner
        if kind in ("str", "num"):
            return value
        if kind != "name":
            raise ExpressionError(f"unexpected {value!r}")
        if value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        if self.peek() == ("op", "("):
            self.take()
            self.take(")")
            if value not in self.functions:
                raise ExpressionError(f"unknown function {value}()")
            return self.functions[value]()
        if value not in self.context:
            raise ExpressionError(f"unknown context {value!r}")
        current = self.context[value]
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.take()[1]
                self.take("]")
            current = current.get(key) if isinstance(current, dict) else None
        return current


def evaluate(text: str, context: dict[str, Any], functions: dict[str, Callable[[], Any]] | None = None) -> Any:
    """The value of an `if:` condition (with or without its `${{ }}`)."""
    m = _WRAPPED.fullmatch(text.strip())
    return _Parser(m[1] if m else text, context, functions or {}).parse()


def substitute(text: Any, context: dict[str, Any]) -> str:
    """A string field with every `${{ expr }}` replaced by its value, as the runner does."""

    def one(m: re.Match) -> str:
        value = _Parser(m[1], context, {}).parse()
        return "" if value is None else str(value).lower() if isinstance(value, bool) else \
            str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    return _WRAPPED.sub(one, str(text))


# ---- the runner --------------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    seconds: float = 0.0


@dataclass
class JobResult:
    name: str
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return all(s.outcome != "failure" for s in self.steps)

    @property
    def ran(self) -> list[StepResult]:
        return [s for s in self.steps if s.outcome != "skipped"]

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)

    @property
    def log(self) -> str:
        return "\n".join(f"--- {s.name} [{s.outcome}, {s.seconds:.1f}s]\n{s.stdout}{s.stderr}" for s in self.steps)


@dataclass
class Job:
    """A job while it runs: its workspace, its variables, what the steps so far wrote."""

    name: str
    workspace: Path
    temp: Path
    env: dict[str, str]  # the runner's variables and the workflow's and job's `env:`
    declared: dict[str, str]  # the workflow's and job's `env:`, for the `env` context
    context: dict[str, Any]

    def files(self, name: str) -> Path:
        return Path(self.env[name])

    def current_env(self) -> dict[str, str]:
        """What a step starts with: the job's variables, GITHUB_ENV's, PATH with GITHUB_PATH's entries first."""
        env = {**self.env, **read_env_file(self.files("GITHUB_ENV"))}
        added = self.files("GITHUB_PATH").read_text().splitlines() if self.files("GITHUB_PATH").exists() else []
        env["PATH"] = os.pathsep.join([*reversed(added), env["PATH"]])
        return env

    def env_context(self) -> dict[str, str]:
        return {**self.declared, **read_env_file(self.files("GITHUB_ENV"))}


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value and NAME<<DELIM ... DELIM lines, as GITHUB_ENV and GITHUB_OUTPUT take them."""
    values, lines = {}, path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            values[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


class Runner:
    """Runs the jobs of one workflow file for an event, with `actions` playing its `uses:` steps."""

    def __init__(self, workflow: Path, base_env: dict[str, str], actions: Actions, root: Path,
                 overrides: dict[str, str] | None = None):
        """overrides replace values of the workflow's top-level `env:` (each must be declared there)."""
        self.doc = yaml.safe_load(workflow.read_text())
        self.base_env, self.actions, self.root = base_env, actions, root
        self.run_id = 7000
        unknown = set(overrides or {}) - set(self.doc.get("env", {}))
        if unknown:
            raise ExpressionError(f"the workflow declares no {sorted(unknown)} in its env")
        self.doc["env"] = {**self.doc.get("env", {}), **(overrides or {})}

    def run_lines(self) -> list[tuple[str, str]]:
        """(job, step name) of every `run:` step in the file."""
        return [(j, s.get("name", s["run"])) for j, job in self.doc["jobs"].items() for s in job["steps"] if "run" in s]

    def trigger(self, event_name: str, event: dict[str, Any], sha: str, ref: str,
                secrets: dict[str, str]) -> dict[str, JobResult]:
        """Run every job whose `if:` holds for this event; {job name: result}."""
        self.run_id += 1
        github = {"event_name": event_name, "event": event, "sha": sha, "ref": ref,
                  "ref_name": re.sub(r"^refs/(heads|tags|pull)/", "", ref), "repository": self.actions.repo,
                  "run_id": str(self.run_id), "server_url": "https://github.com", "token": secrets["GITHUB_TOKEN"],
                  "workflow": self.doc["name"]}
        results = {}
        for name, job in self.doc["jobs"].items():
            context = {"github": github, "secrets": secrets, "inputs": event.get("inputs", {}), "vars": {}}
            if "if" in job and not _truthy(evaluate(job["if"], context)):
                continue
            results[name] = self.run_job(name, job, context)
        return results

    def run_job(self, name: str, job: dict[str, Any], context: dict[str, Any]) -> JobResult:
        base = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))
        (base / "workspace").mkdir()
        (base / "temp").mkdir()
        github = context["github"]
        env = dict(self.base_env, CI="true", GITHUB_ACTIONS="true", GITHUB_EVENT_NAME=github["event_name"],
                   GITHUB_SHA=github["sha"], GITHUB_REF=github["ref"], GITHUB_REF_NAME=github["ref_name"],
                   GITHUB_REPOSITORY=github["repository"], GITHUB_RUN_ID=github["run_id"],
                   GITHUB_SERVER_URL=github["server_url"], GITHUB_WORKFLOW=github["workflow"],
                   GITHUB_WORKSPACE=str(base / "workspace"), RUNNER_TEMP=str(base / "temp"),
                   GITHUB_EVENT_PATH=str(base / "event.json"), GITHUB_STEP_SUMMARY=str(base / "summary.md"),
                   GITHUB_ENV=str(base / "env"), GITHUB_PATH=str(base / "path"))
        (base / "event.json").write_text(json.dumps(github["event"]))
        run = Job(name, base / "workspace", base / "temp", env, {}, dict(context, steps={}))
        for layer in (self.doc.get("env", {}), job.get("env", {})):
            for key, value in layer.items():
                run.declared[key] = substitute(value, {**run.context, "env": dict(run.declared)})
        run.env.update(run.declared)
        shell = (job.get("defaults") or self.doc.get("defaults") or {}).get("run", {}).get("shell", "bash")
        if shell != "bash":
            raise ExpressionError(f"only shell: bash is played, not {shell}")
        result = JobResult(name)
        for index, step in enumerate(job["steps"]):
            result.steps.append(self.run_step(run, step, index, result))
        summary = base / "summary.md"
        result.summary = summary.read_text() if summary.exists() else ""
        return result

    def run_step(self, run: Job, step: dict[str, Any], index: int, so_far: JobResult) -> StepResult:
        name = step.get("name") or step.get("uses") or step["run"]
        failed = any(s.outcome == "failure" for s in so_far.steps)
        status = {"success": lambda: not failed, "failure": lambda: failed, "always": lambda: True,
                  "cancelled": lambda: False}
        context = {**run.context, "env": run.env_context()}
        if not _truthy(evaluate(step.get("if", "success()"), context, status)):
            return StepResult(name, "skipped")
        if "uses" in step:
            with_ = {k: substitute(v, context) for k, v in (step.get("with") or {}).items()}
            return self.actions.play(step["uses"], with_, run, name)
        env = run.current_env()
        env.update({k: substitute(v, context) for k, v in (step.get("env") or {}).items()})
        script, output = run.temp.parent / f"step-{index}.sh", run.temp.parent / f"output-{index}"
        script.write_text(step["run"])
        env["GITHUB_OUTPUT"] = str(output)
        started = time.monotonic()
        res = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=run.workspace,
                             env=env, capture_output=True, text=True, timeout=600)
        if step.get("id"):
            run.context["steps"][step["id"]] = {"outputs": read_env_file(output)}
        return StepResult(name, "success" if res.returncode == 0 else "failure", res.stdout, res.stderr,
                          res.returncode, time.monotonic() - started)


class Actions:
    """The `uses:` steps of the documented workflow, played on this machine.

    checkout copies the commit's files into the fresh workspace; setup-python puts a prepared
    virtualenv's bin/ on PATH (nothing is installed in it: the workflow's own install line does
    that); configure-aws-credentials exports the region and the emulator's credentials;
    upload-artifact hands the files to the fake GitHub.
    """

    def __init__(self, repo: str, snapshots: dict[str, Path], venv: Path, credentials: dict[str, str],
                 upload: Callable[[str, list[Path], Job], None]):
        self.repo, self.snapshots, self.venv, self.credentials, self.upload = repo, snapshots, venv, credentials, upload

    def play(self, uses: str, with_: dict[str, str], run: Job, name: str) -> StepResult:
        action = uses.split("@", 1)[0]
        if action == "actions/checkout":
            shutil.copytree(self.snapshots[run.context["github"]["sha"]], run.workspace, dirs_exist_ok=True)
        elif action == "actions/setup-python":
            with run.files("GITHUB_PATH").open("a") as fh:
                fh.write(f"{self.venv / 'bin'}\n")
        elif action == "aws-actions/configure-aws-credentials":
            if not with_.get("role-to-assume"):
                return StepResult(name, "failure", stderr="role-to-assume is empty (a secret not set?)")
            with run.files("GITHUB_ENV").open("a") as fh:
                for key, value in {**self.credentials, "AWS_REGION": with_["aws-region"],
                                   "AWS_DEFAULT_REGION": with_["aws-region"]}.items():
                    fh.write(f"{key}={value}\n")
        elif action == "actions/upload-artifact":
            files = [run.workspace / p for p in with_["path"].split()]
            if not all(f.exists() for f in files):
                if with_.get("if-no-files-found", "warn") == "error":
                    return StepResult(name, "failure", stderr=f"No files were found with the path: {with_['path']}")
                return StepResult(name, "success")
            self.upload(with_["name"], files, run)
        else:
            return StepResult(name, "failure", stderr=f"the test runner does not play {uses}")
        return StepResult(name, "success")
