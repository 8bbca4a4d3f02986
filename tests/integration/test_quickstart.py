"""The README's quickstart, as a new user runs it: real `deployer` processes, the embedded sandbox."""

from __future__ import annotations

import shutil

from tests.conftest import EXAMPLES


def test_quickstart_plan_apply_replan_destroy(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    shutil.copytree(EXAMPLES / "webapp", tmp_path / "specs" / "examples" / "webapp")
    path = "specs/examples/webapp"
    try:
        plan = cli("plan", path, "--sandbox")
        assert plan.returncode == 0, plan.stderr
        assert "5 to create" in plan.stdout
        apply = cli("apply", path, "--sandbox", "--auto-approve")
        assert apply.returncode == 0, apply.stderr
        assert "Apply complete: 5 created" in apply.stdout
        again = cli("plan", path, "--sandbox", "--detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr
        status = cli("sandbox", "status")
        assert status.returncode == 0 and "127.0.0.1" in status.stdout
        gone = cli("destroy", path, "--sandbox", "--auto-approve")
        assert gone.returncode == 0, gone.stderr
    finally:
        cli("sandbox", "stop")
    assert cli("sandbox", "status").returncode == 1


def test_validate_every_example(cli):
    for example in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        res = cli("validate", str(example))
        assert res.returncode == 0, f"{example.name}: {res.stderr}"
