"""`pip install .` into a fresh virtualenv, as a CI job that talks to real AWS installs deployer:
no emulator comes along, the commands that need none work, and `--sandbox` says what to install."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import EXAMPLES
from tests.integration.clean_install import copy_checkout, installed, make_venv, site_packages_bytes, venv_env

HINT = "the sandbox needs the emulator (moto), which is not installed: pip install 'deployer-aws[sandbox]'"


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory):
    """A fresh virtualenv with `pip install .` of a copy of this checkout (about 20 s)."""
    base = tmp_path_factory.mktemp("runtime")
    venv, source = make_venv(base / "venv"), copy_checkout(base / "src")
    res = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "."], cwd=source, env=venv_env(venv),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return venv


def run(venv, *args, cwd):
    return subprocess.run([str(venv / "bin" / "deployer"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=venv_env(venv, AWS_ACCESS_KEY_ID="testing",
                                                    AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"))


def test_runtime_install_without_the_sandbox_extra(runtime_venv, tmp_path):
    """One test, so that one virtualenv serves every check (xdist would spread tests over workers)."""
    dists = installed(runtime_venv)
    assert "deployer-aws" in dists
    assert {"moto", "werkzeug", "flask", "flask-cors", "responses"} & set(dists) == set()
    assert len(dists) <= 30, sorted(dists)  # 25 measured, the venv's pip and setuptools included
    assert site_packages_bytes(runtime_venv) < 150 * 2**20  # 106 MB measured (332 MB with the sandbox extra)

    version = run(runtime_venv, "--version", cwd=tmp_path)
    assert version.returncode == 0 and "0.1.0" in version.stdout, version.stderr
    res = run(runtime_venv, "validate", str(EXAMPLES / "webapp"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr

    for args in (["plan", str(EXAMPLES / "webapp"), "--sandbox"], ["sandbox", "start"]):
        res = run(runtime_venv, *args, cwd=tmp_path)
        assert (res.returncode, res.stderr.strip().splitlines()) == (1, [HINT]), res.stdout + res.stderr
    assert run(runtime_venv, "sandbox", "status", cwd=tmp_path).returncode == 1  # not running; no emulator needed
