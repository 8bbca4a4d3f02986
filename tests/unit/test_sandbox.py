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



def test_the_emulator_inherits_no_credentials_no_variables_and_nothing_unlisted():
    environ = {"PATH": "/usr/bin", "HOME": "/home/u", "LC_ALL": "C.UTF-8", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
               "DEPLOYER_SANDBOX_IDLE": "60", "PYTHONPATH": "/src",
               "DEPLOYER_VAR_db_password": "hunter2-secret", "AWS_SECRET_ACCESS_KEY": "k", "AWS_SESSION_TOKEN": "t",
               "AWS_ACCESS_KEY_ID": "AKIA", "AWS_PROFILE": "prod", "GITHUB_TOKEN": "ghp", "DEPLOYER_ENV": "prod",
               "HTTPS_PROXY": "http://user:pw@proxy"}
    assert sandbox.child_environment(environ, {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}) == {
        "PATH": "/usr/bin", "HOME": "/home/u", "LC_ALL": "C.UTF-8", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        "DEPLOYER_SANDBOX_IDLE": "60", "PYTHONPATH": "/src", "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


def test_the_caller_s_explicit_settings_win_over_the_inherited_ones():
    assert sandbox.child_environment({"MOTO_X": "a"}, {"MOTO_X": "b"}) == {"MOTO_X": "b"}
    assert sandbox.child_environment({}, None) == {}
