"""--debug: the traceback comes before the usual error line, redacted like every other byte written
(exception messages, chained causes); without --debug there is no traceback at all."""

from __future__ import annotations

import base64

import pytest

from deployer import secrets
from deployer.cli import EXIT_INTERRUPTED, _debug_calls, _run_guarded
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
    (Interrupted(f"interrupted while writing {SECRET}"), EXIT_INTERRUPTED),
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
