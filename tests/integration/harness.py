"""Drives the real CLI (in-process, click's runner) against the moto server over HTTP.

A `Project` is a stack directory of the test's own: write a spec, run deployer commands, read
the state and the JSON plan back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from deployer.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Project:
    root: Path
    stack: str = "itest"
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def spec_dir(self) -> Path:
        d = self.root / "spec"
        d.mkdir(parents=True, exist_ok=True)
        return d

    @property
    def state_dir(self) -> Path:
        return self.root / ".deployer"

    def write(self, resources: dict[str, Any], outputs: dict[str, Any] | None = None,
              extra: dict[str, Any] | None = None) -> None:
        doc: dict[str, Any] = {"stack": self.stack, "region": "us-east-1"}
        if self.tags:
            doc["tags"] = self.tags
        doc.update(extra or {})
        doc["resources"] = resources
        if outputs:
            doc["outputs"] = outputs
        (self.spec_dir / "stack.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        argv = list(args)
        if argv and argv[0] in ("plan", "apply", "destroy", "drift", "import", "outputs") and "--state-dir" not in argv:
            argv += ["--state-dir", str(self.state_dir)]
        if argv[:2] in (["state", "rebuild"], ["state", "list"]) and "--state-dir" not in argv:
            argv += ["--state-dir", str(self.state_dir)]
        res = CliRunner().invoke(main, argv, env=env, catch_exceptions=False)
        return Result(res.exit_code, res.stdout, res.stderr)

    def apply(self, *extra: str) -> Result:
        res = self.run("apply", str(self.spec_dir), "--auto-approve", *extra)
        assert res.code == 0, f"apply failed:\n{res.out}\n{res.err}"
        return res

    def plan(self, *extra: str) -> dict[str, Any]:
        res = self.run("plan", str(self.spec_dir), "--format", "json", *extra)
        assert res.code == 0, f"plan failed:\n{res.err}"
        return res.json()

    def actions(self, *extra: str) -> dict[str, str]:
        return {a["name"]: a["action"] for a in self.plan(*extra)["actions"]}

    def assert_clean(self) -> None:
        doc = self.plan()
        changed = [a for a in doc["actions"] if a["action"] != "noop"]
        assert not changed, json.dumps(changed, indent=1)

    def destroy(self) -> Result:
        res = self.run("destroy", str(self.spec_dir), "--auto-approve")
        assert res.code == 0, f"destroy failed:\n{res.out}\n{res.err}"
        return res

    def state(self) -> dict[str, Any]:
        path = self.state_dir / "state" / f"{self.stack}.json"
        return json.loads(path.read_text()) if path.exists() else {"resources": {}}

    def physical_id(self, name: str) -> str:
        return self.state()["resources"][name]["physical_id"]
