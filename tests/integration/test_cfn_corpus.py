"""Every template of the corpus (tests/cfn/templates/), unchanged, through the real CLI against the moto
server: validate, plan, apply, a plan right after exits 0 with --detailed-exitcode, destroy; the account
is then as before except for what `DeletionPolicy: Retain` keeps (read with plain boto3). The spec that
`convert` makes of the template validates and plans exactly as the template does: before the apply
(same plan JSON) and after it (no changes).

The whole corpus takes 45 to 90 s (the emulator's first calls to each service are slow), so it is marked slow:
`pytest -m slow tests/integration/test_cfn_corpus.py`; one template of it runs in the default suite.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, boto
from tests.faults.snapshot import account
from tests.integration.harness import Project

CORPUS = ROOT / "tests" / "cfn" / "templates"
TEMPLATES = sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".yaml", ".json"))
FAST = "work-queue.yaml"  # in the default run

# what each template needs that a user would pass or have: variables without defaults, SSM parameters
VARS = {"upload-trigger.yaml": ["BucketSuffix=itest"]}
SSM = {"app-logs.yaml": {"/corpus/audit-retention-days": "14"}}
# what destroy leaves behind: the resources with DeletionPolicy Retain, as account keys
RETAINED = {
    "static-site.yaml": {"bucket:corpus-site-us-east-1-logs"},
    "encrypted-bucket.yaml": {"key:Encrypts corpus-encrypted-data"},
    "team-access.json": {"user:ben"},
    "app-logs.yaml": {"loggroup:/corpus-app/dev/audit"},
}


def iam_extra(endpoint: str) -> dict[str, dict]:
    """IAM users, groups, customer managed policies and instance profiles (the snapshot has roles only)."""
    iam = boto("iam", endpoint)
    out: dict[str, dict] = {f"user:{u['UserName']}": {} for u in iam.list_users()["Users"]}
    out.update({f"group:{g['GroupName']}": {} for g in iam.list_groups()["Groups"]})
    out.update({f"policy:{p['PolicyName']}": {} for p in iam.list_policies(Scope="Local")["Policies"]})
    out.update({f"profile:{p['InstanceProfileName']}": {} for p in iam.list_instance_profiles()["InstanceProfiles"]})
    return out


def snapshot(endpoint: str) -> set[str]:
    return set(account(endpoint)) | set(iam_extra(endpoint))


def plan_of(doc: dict) -> dict:
    """A plan without where it was read from (the converted spec is another file) and without the
    loader's notes on the template (convert writes them as comments of the spec)."""
    return {k: v for k, v in doc.items() if k not in ("source", "warnings")}


def run_template(tmp_path: Path, endpoint: str, name: str) -> None:
    from deployer.cfn.convert import convert

    template = str(CORPUS / name)
    project = Project(tmp_path / "work", stack=Path(name).stem)
    project.root.mkdir()
    ssm = boto("ssm", endpoint)
    for key, value in SSM.get(name, {}).items():
        ssm.put_parameter(Name=key, Value=value, Type="String", Overwrite=True)
    secret = f"token-{uuid.uuid4().hex}"
    given = VARS.get(name, []) + (["ApiToken=" + secret] if name == "app-secrets.yaml" else [])
    var_args = [a for v in given for a in ("--var", v)]

    res = project.run("validate", template, *var_args)
    assert res.code == 0, res.err
    first = project.run("plan", template, "--format", "json", *var_args)
    assert first.code == 0, first.err

    converted = tmp_path / "converted.yaml"
    converted.write_text(convert(template))
    spec_project = Project(tmp_path / "spec-work", stack=project.stack)
    spec_project.root.mkdir()
    res = spec_project.run("validate", str(converted), *var_args)
    assert res.code == 0, res.err + converted.read_text()
    again = spec_project.run("plan", str(converted), "--format", "json", *var_args)
    assert again.code == 0, again.err
    assert plan_of(again.json()) == plan_of(first.json()), "the converted spec plans differently"

    before = snapshot(endpoint)
    res = project.run("apply", template, "--auto-approve", *var_args)
    assert res.code == 0, res.out + res.err
    applied = snapshot(endpoint)
    assert applied - before, "the apply created nothing"
    res = project.run("plan", template, "--detailed-exitcode", "--format", "json", *var_args)
    assert res.code == 0, json.dumps([a for a in res.json()["actions"] if a["action"] != "noop"], indent=1) \
        if res.out else res.err
    res = project.run("plan", str(converted), "--detailed-exitcode", "--format", "json", "--state-dir",
                      str(project.state_dir), *var_args)
    assert res.code == 0, "the converted spec does not plan clean against the template's apply:\n" + res.out + res.err

    res = project.run("destroy", template, "--auto-approve", *var_args)
    assert res.code == 0, res.out + res.err
    assert project.state()["resources"] == {}
    assert snapshot(endpoint) - before == RETAINED.get(name, set())
    assert secret not in json.dumps(project.state()) + first.out


@pytest.mark.parametrize("name", [FAST])
def test_template_applies_replans_clean_and_destroys(tmp_path, aws_endpoint, name):
    run_template(tmp_path, aws_endpoint, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [t for t in TEMPLATES if t != FAST])
def test_corpus_template_applies_replans_clean_and_destroys(tmp_path, aws_endpoint, name):
    run_template(tmp_path, aws_endpoint, name)
