"""A fresh virtualenv and a copy of this checkout to install from, as a new user (or a CI job) has them.

Nothing of the test's own environment leaks in: PATH loses the test venv's bin/, and
VIRTUAL_ENV, PYTHONPATH and every AWS_ / DEPLOYER_ variable are dropped (the caller adds what it
means to give) except the test's empty AWS config files, so real AWS stays out of reach. The package registries are reached as pip is configured on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

# what a checkout holds beside the sources: environments, caches, build output, local state
_NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__",
                                      ".pytest-sandbox", ".deployer", ".ruff_cache", ".pytest_cache",
                                      ".hypothesis", "node_modules")


def copy_checkout(dest: Path) -> Path:
    """The project's sources in dest (builds write into the tree: each installer gets its own copy)."""
    shutil.copytree(ROOT, dest, ignore=_NOT_SOURCES)
    return dest


def make_venv(dest: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(dest)], check=True, capture_output=True, timeout=120)
    return dest


def clean_env(**extra: str) -> dict[str, str]:
    """The machine's environment without the test's virtualenv, AWS or deployer settings."""
    own_bin = str(Path(sys.prefix) / "bin")
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith(("AWS_", "DEPLOYER_", "PYTEST_"))
           or k in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}  # the test's empty files: never real AWS
    env["PATH"] = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != own_bin)
    env.update(extra)
    return env


def venv_env(venv: Path, **extra: str) -> dict[str, str]:
    """clean_env with venv activated."""
    env = clean_env(VIRTUAL_ENV=str(venv), **extra)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    return env


def installed(venv: Path) -> dict[str, str]:
    """{distribution name (lower case): version} of what pip installed into venv."""
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
                         capture_output=True, text=True, check=True, timeout=120, env=venv_env(venv)).stdout
    return {d["name"].lower(): d["version"] for d in json.loads(out)}


def site_packages_bytes(venv: Path) -> int:
    return sum(f.stat().st_size for f in (venv / "lib").rglob("*") if f.is_file() and not f.is_symlink())
