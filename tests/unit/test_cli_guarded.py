"""The CLI's one guard around every command: whatever the command prints, by any route, is redacted;
--debug prints the traceback before the usual error line, redacted too (exception messages, chained
causes); without --debug there is no traceback at all."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from deployer import secrets
from deployer.cli import _debug_calls, _run_guarded
from deployer.errors import DeployerError, Interrupted

SECRET = "Tok-6f1d2c9a-secret-value"


def _raise(exc: BaseException):
    def fn():
        raise exc
    return fn


def _chained() -> RuntimeError:
    try:
        raise KeyError(SECRET)
    except KeyError as inner:
        try:
            raise RuntimeError(f"could not use {base64.b64encode(SECRET.encode()).decode()}") from inner
        except RuntimeError as exc:
            return exc


@pytest.mark.parametrize("exc,code", [
    (DeployerError(f"bad value {SECRET}"), 1),
    (ValueError(f"unforeseen {SECRET.upper()}"), 1),
    (Interrupted(f"interrupted while writing {SECRET}"), 130),
])
def test_debug_prints_a_redacted_traceback_then_the_error(capsys, exc, code):
    secrets.register(SECRET)
    with pytest.raises(SystemExit) as done:
        _run_guarded(_raise(exc), debug=True)
    assert done.value.code == code
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and type(exc).__name__ in err
    assert SECRET not in err and SECRET.upper() not in err and err.count("(sensitive)") == 2


def test_debug_redacts_every_chained_cause(capsys):
    secrets.register(SECRET)
    with pytest.raises(SystemExit):
        _run_guarded(_raise(_chained()), debug=True)
    err = capsys.readouterr().err
    assert "KeyError" in err and "direct cause" in err
    assert SECRET not in err and base64.b64encode(SECRET.encode()).decode() not in err


def test_without_debug_there_is_no_traceback(capsys):
    secrets.register(SECRET)
    with pytest.raises(SystemExit):
        _run_guarded(_raise(_chained()), debug=False)
    assert capsys.readouterr().err == "error: RuntimeError: could not use (sensitive)\n"


def test_debug_call_counts_pass_through_the_redaction(capsys):
    class Log:
        def counts(self):
            return {f"sqs.{SECRET}": 2, "sqs.CreateQueue": 1}

    class Aws:
        log = Log()

    secrets.register(SECRET)
    _debug_calls(Aws(), debug=True)
    assert capsys.readouterr().err == "api: sqs.CreateQueue x1\napi: sqs.(sensitive) x2\n"
    _debug_calls(Aws(), debug=False)
    assert capsys.readouterr().err == ""


COMMAND = f"""
import base64, logging, sys, warnings
import click
from deployer import secrets
from deployer.cli import _run_guarded

SECRET = {SECRET!r}

def command():
    click.echo(f"echo {{SECRET}}")
    click.echo(f"err {{SECRET.lower()}}", err=True)
    print(f"print {{base64.b64encode(SECRET.encode()).decode()}}")
    sys.stderr.writelines([f"lines {{SECRET}}\\n"])
    warnings.warn(f"warned {{SECRET}}", UserWarning, stacklevel=1)
    logging.getLogger("deployer.test").warning("logged %s", SECRET)
    return 7

secrets.register(SECRET)
assert _run_guarded(command, debug=False) == 7
"""


def test_everything_a_command_prints_is_redacted_whoever_prints_it():
    """click, print, the warnings module and logging's last-resort handler, in a process of its own."""
    done = subprocess.run([sys.executable, "-c", COMMAND], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "echo (sensitive)\nprint (sensitive)\n"
    for line in ("err (sensitive)", "lines (sensitive)", "warned (sensitive)", "logged (sensitive)"):
        assert line in done.stderr
    assert SECRET not in done.stderr and SECRET.lower() not in done.stderr


def test_the_streams_are_given_back_and_hide_their_binary_buffer():
    before = sys.stdout, sys.stderr
    with secrets.redacted_output():
        assert isinstance(sys.stdout, secrets.RedactingStream) and not hasattr(sys.stdout, "buffer")
        assert sys.stdout.write("abc") == 3
    assert (sys.stdout, sys.stderr) == before
