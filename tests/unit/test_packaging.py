"""What the distribution promises: its name, the emulator as an extra, and the README's two commands.

The clean-install proof (a fresh virtualenv, `pip install .`) is tests/integration/test_packaging.py;
here, the same promise is checked in this environment by hiding the emulator's modules.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from tests.conftest import EXAMPLES, ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()
EMULATOR = ("moto", "werkzeug", "flask", "flask_cors")


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", text, re.S)


def test_the_distribution_is_not_the_unrelated_deployer_on_the_index():
    assert PYPROJECT["project"]["name"] == "deployer-aws"
    assert PYPROJECT["project"]["scripts"] == {"deployer": "deployer.cli:run"}


def test_the_emulator_is_an_extra_that_dev_pulls_in():
    project = PYPROJECT["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith(("moto", "werkzeug", "flask"))]
    assert [d for d in project["optional-dependencies"]["sandbox"] if d.startswith("moto[server]")]
    assert "deployer-aws[sandbox]" in project["optional-dependencies"]["dev"]


def test_readme_main_job_installs_the_sandbox_extra_and_test_command_is_ci():
    main_job, tests = _shell_blocks(README)[:2]
    assert "pip install -e '.[sandbox]'" in main_job and "--sandbox" in main_job
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert tests == ci


BLOCKED_RUN = """
import importlib, pkgutil, sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, NotInstalled())
import deployer
for mod in pkgutil.walk_packages(deployer.__path__, "deployer."):
    if mod.name != "deployer.__main__":
        importlib.import_module(mod.name)
from deployer.cli import main
sys.argv = ["deployer", *sys.argv[1:]]
main()
"""


def _without_emulator(*args: str, cwd=None) -> subprocess.CompletedProcess:
    code = BLOCKED_RUN.format(blocked=set(EMULATOR))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_every_module_imports_and_validate_runs_without_the_emulator():
    res = _without_emulator("validate", str(EXAMPLES / "webapp"))
    assert res.returncode == 0, res.stderr


def test_sandbox_without_the_emulator_is_one_line_saying_how_to_install_it(tmp_path):
    for args in (["plan", str(EXAMPLES / "webapp"), "--sandbox"], ["sandbox", "start"]):
        res = _without_emulator(*args, cwd=tmp_path)
        assert res.returncode == 1, res.stdout + res.stderr
        assert res.stderr.strip().splitlines() == [
            "the sandbox needs the emulator (moto), which is not installed: pip install 'deployer-aws[sandbox]'"]


def test_the_jinja2_floor_excludes_releases_whose_sandbox_can_be_escaped():
    """Jinja2 3.1.5 and older: |attr('format') reaches str.format past the sandbox (CVE-2025-27516)."""
    from packaging.requirements import Requirement

    (jinja,) = [Requirement(d) for d in PYPROJECT["project"]["dependencies"] if d.lower().startswith("jinja2")]
    assert not jinja.specifier.contains("3.1.5") and jinja.specifier.contains("3.1.6")
    import pytest

    from deployer.spec.template import Budget, render
    from deployer.spec.yamlmarks import YamlProblem

    with pytest.raises(YamlProblem) as refused:  # the installed release refuses the 3.1.5 escape
        render("{{ ('{0.__class__.__mro__}' | attr('format'))(1) }}", "t.yaml", {}, Budget())
    assert "not allowed" in refused.value.problem.message
