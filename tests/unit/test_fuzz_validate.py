"""2,000+ generated malformed specs through `deployer validate`: each ends in exit 0 or one-line
errors, never a traceback or a hang."""

from __future__ import annotations

import re

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployer.cli import main

LINE = re.compile(r"^\S.*:\d+:\d+: \S.*: .+$|^error: .+$")
TYPES = ["AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::DynamoDB::Table", "AWS::IAM::Role", "AWS::Lambda::Function",
         "AWS::Nope::Nope", ""]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(["${X}", "${A.Arn}", "${", "$${x}", "{{ var.x }}",
                                                           "{% for %}", "${AWS::Region}", "${secret:}"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=20)
resource = st.fixed_dictionaries({"type": st.sampled_from(TYPES)},
                                 optional={"properties": st.dictionaries(st.sampled_from(
                                     ["BucketName", "QueueName", "Tags", "KeySchema", "Role", "Code", "X"]), values,
                                     max_size=4), "depends_on": st.one_of(values, st.lists(st.text(max_size=5)))})
spec = st.fixed_dictionaries({}, optional={
    "stack": st.one_of(st.just("demo"), scalars), "region": scalars, "tags": values, "variables": values,
    "resources": st.one_of(values, st.dictionaries(st.from_regex(r"[A-Z][a-z]{0,5}", fullmatch=True), resource,
                                                   max_size=4)),
    "outputs": values, "backend": values})


def run(text: str, tmp_path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(f)], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        lines = result.stderr.strip().splitlines() if hasattr(result, "stderr") else result.output.splitlines()
        assert lines
        for line in lines:
            assert "Traceback" not in line
            assert LINE.match(line), line


SETTINGS = settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@SETTINGS
@given(spec)
def test_random_structures(tmp_path_factory, doc):
    run(yaml.safe_dump(doc, sort_keys=False), tmp_path_factory.mktemp("f"))


@SETTINGS
@given(spec, st.integers(min_value=0, max_value=400))
def test_truncated_files(tmp_path_factory, doc, cut):
    text = yaml.safe_dump(doc, sort_keys=False)
    run(text[: cut % (len(text) + 1)], tmp_path_factory.mktemp("f"))


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.text(max_size=300))
def test_random_text(tmp_path_factory, text):
    run(text, tmp_path_factory.mktemp("f"))


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.integers(min_value=50, max_value=3000))
def test_deep_nesting(tmp_path_factory, depth):
    run("stack: demo\nresources:\n  B:\n    type: AWS::S3::Bucket\n    properties:\n      Tags: "
        + "[" * depth + "]" * depth + "\n", tmp_path_factory.mktemp("f"))
    run("stack: demo\nx: " + "{a: " * depth + "1" + "}" * depth + "\n", tmp_path_factory.mktemp("f"))
