"""The `deployer` program's exit (deployer/cli.py `run`): the process skips the interpreter's
teardown, so its exit status, its output and what other threads were doing must come out exactly as
an ordinary exit would leave them."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from deployer import cli


def deployer(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deployer", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_exit_statuses_and_output_are_those_of_an_ordinary_exit(tmp_path):
    (tmp_path / "ok.yaml").write_text("stack: s\nregion: us-east-1\nresources:\n"
                                      "  Q: {type: AWS::SQS::Queue, properties: {}}\n")
    ok = deployer("validate", str(tmp_path / "ok.yaml"))
    assert ok.returncode == 0 and ok.stdout.strip(), ok.stderr
    missing = deployer("validate", str(tmp_path / "absent.yaml"))
    assert missing.returncode == 1 and "absent.yaml" in missing.stderr and "Traceback" not in missing.stderr
    usage = deployer("validate", "--no-such-option")
    assert usage.returncode == 1 and "no-such-option" in usage.stderr
    helped = deployer("--help")
    assert helped.returncode == 0 and "Usage:" in helped.stdout


def test_a_lot_of_output_is_all_written_before_the_exit(tmp_path):
    """Everything printed reaches the reader: the streams are flushed before the process ends."""
    (tmp_path / "big.yaml").write_text("stack: s\nregion: us-east-1\nresources:\n" + "".join(
        f"  Q{i}: {{type: AWS::SQS::Queue, properties: {{}}}}\n" for i in range(300)))
    out = deployer("graph", str(tmp_path / "big.yaml"), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith(("}", "]")) and out.stdout.count('"Q') >= 300


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2), ("a message", 1)])
def test_exit_status_of_sys_exit_values(code, status, capsys):
    assert cli._exit_status(code) == status
    if isinstance(code, str):
        assert capsys.readouterr().err.strip() == code


def test_run_waits_for_threads_that_are_not_daemons(monkeypatch):
    """As the interpreter's exit does: a thread still at work finishes before the process ends."""
    done, exited = [], []

    def work():
        time.sleep(0.2)
        done.append(True)

    def main():
        threading.Thread(target=work).start()
        raise SystemExit(2)

    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr(cli.os, "_exit", lambda code: exited.append((code, list(done))))
    cli.run()
    assert exited == [(2, [True])]
