"""The sandbox refuses to start, in one line that says what to install, when the emulator is missing."""

from __future__ import annotations

import importlib.util

import pytest

from deployer import sandbox
from deployer.errors import DeployerError


def test_start_without_the_emulator_says_how_to_install_it(tmp_path, monkeypatch):
    assert sandbox.require_emulator() is None  # installed here (the dev extra pulls in the sandbox extra)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "flask_cors" else real(name, *a))
    with pytest.raises(DeployerError) as exc:
        sandbox.start(str(tmp_path))
    assert exc.value.lines() == [
        "the sandbox needs the emulator (moto), which is not installed: pip install 'deployer-aws[sandbox]'"]
    assert not (tmp_path / "sandbox.log").exists()  # refused before anything was started

