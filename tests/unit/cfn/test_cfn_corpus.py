"""The corpus of templates (tests/cfn/templates/) offline: each is valid CloudFormation (cfn-lint),
loads and validates without an AWS call, and converts to a spec that loads into the same model. Together
they use the features the corpus is for. Their run against the emulator is tests/integration/test_cfn_corpus.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deployer.cfn.convert import convert
from deployer.cfn.loader import read_template
from deployer.spec import load_and_check
from deployer.spec.load import load_stack

CORPUS = Path(__file__).resolve().parents[2] / "cfn" / "templates"
TEMPLATES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".json"))
VARS = {"upload-trigger.yaml": ["BucketSuffix=unit"], "app-secrets.yaml": ["ApiToken=0123456789abcdef-unit"]}


def test_the_corpus_uses_every_supported_type():
    from deployer.resources import registry

    used = {body.get("Type") for p in TEMPLATES for body in (read_template(str(p)).data.get("Resources") or {}).values()}
    assert set(registry()) - used == set()


def test_the_corpus_is_big_enough_and_covers_its_features():
    assert len(TEMPLATES) >= 12
    texts = {p.name: p.read_text() for p in TEMPLATES}
    assert any(p.suffix == ".json" for p in TEMPLATES) and any("\t" in t for t in texts.values())
    assert sum("!Ref" in t or "!Sub" in t for t in texts.values()) >= 10  # short forms
    datas = [read_template(str(p)).data for p in TEMPLATES]
    params = [body for d in datas for body in (d.get("Parameters") or {}).values()]
    assert any("Default" in b for b in params) and any("Default" not in b for b in params)
    assert any(b.get("NoEcho") for b in params) and any(str(b["Type"]).startswith("AWS::SSM") for b in params)
    assert sum(bool(d.get("Conditions")) for d in datas) >= 4 and sum(bool(d.get("Mappings")) for d in datas) >= 2
    assert any("{{resolve:ssm:" in t for t in texts.values()) and any("{{resolve:secretsmanager:" in t
                                                                       for t in texts.values())
    resources = [r for d in datas for r in d["Resources"].values()]
    assert sum(r.get("DeletionPolicy") == "Retain" for r in resources) >= 4
    assert any("UpdateReplacePolicy" in r for r in resources) and any("Condition" in r for r in resources)
    functions = "".join(texts.values())
    for fn in ("GetAZs", "Cidr", "Base64", "Select", "Join", "Split", "FindInMap", "If", "Not", "And", "Or",
               "Equals", "GetAtt", "Sub", "Condition"):
        assert fn in functions, fn


def test_every_template_is_valid_cloudformation():
    """cfn-lint (a dev dependency) finds no error and no warning in any template."""
    lint = Path(sys.executable).parent / "cfn-lint"
    res = subprocess.run([str(lint), "--regions", "us-east-1", "--format", "parseable", "--",
                          *[str(p) for p in TEMPLATES]], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_loads_validates_and_converts_to_the_same_model(tmp_path, path):
    given = VARS.get(path.name, [])
    stack = load_and_check(str(path), given)
    assert stack.resources and stack.source_format == "cloudformation"
    spec = tmp_path / "spec.yaml"
    spec.write_text(convert(str(path)))
    converted = load_and_check(str(spec), given)
    assert {n: (r.type, r.properties, r.depends_on, r.deletion_policy, r.update_replace_policy)
            for n, r in converted.resources.items()} == \
           {n: (r.type, r.properties, r.depends_on, r.deletion_policy, r.update_replace_policy)
            for n, r in stack.resources.items()}
    assert converted.outputs == stack.outputs and converted.name == stack.name
    assert load_stack(str(spec), given, environ={}).variables == stack.variables
