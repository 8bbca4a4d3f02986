"""Start-up: `deployer validate` imports what validating needs and nothing of AWS — no boto3 or
botocore, no networkx (no graph is built), no Jinja2 for a file that is not a template, and no
jsonschema for a valid stack (the compiled tests pass it) — for a deployer spec and for a
CloudFormation template — and collects cycles at a command's pace, not the interpreter's default.
Run in a fresh interpreter, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deployer.cli import GC_THRESHOLDS

PROBE = """
import gc, json, sys
from deployer.cli import main
code = 0
try:
    main(["validate", sys.argv[1]])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": sorted(m for m in ("boto3", "botocore", "networkx", "jinja2", "jsonschema")
                                                  if m in sys.modules), "gc": list(gc.get_threshold())}))
"""

SPEC = "stack: one\nregion: us-east-1\nresources:\n  Q: {type: AWS::SQS::Queue, properties: {QueueName: one-q}}\n"
TEMPLATE = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Sub '${AWS::StackName}-q'}\n"


@pytest.mark.parametrize("text", [SPEC, TEMPLATE], ids=["spec", "cloudformation"])
def test_validate_of_one_resource_imports_no_aws_sdk(tmp_path, text):
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=60)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "loaded": [], "gc": list(GC_THRESHOLDS)}, out.stderr


def test_an_invalid_stack_is_explained_by_jsonschema(tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_text(SPEC.replace("QueueName: one-q", "QueueName: one-q, Nope: 1"))
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=60)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["code"] == 1 and "jsonschema" in result["loaded"], out.stderr
    assert "resources.Q.properties.Nope: unknown property 'Nope'" in out.stderr
