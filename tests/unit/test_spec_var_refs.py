"""${var.NAME} in a deployer spec: replaced at load time after parsing, typed when it is the whole string,
its text inside a longer one; other references stay; an undeclared name is an error at its line."""

from __future__ import annotations

import pytest

from deployer.errors import SpecError
from deployer.spec import load_and_check
from deployer.spec.refs import substitute_variables

SPEC = """stack: demo
variables:
  memory: {type: integer, default: 256}
  env: {type: string, default: dev}
  zones: {type: array, default: [a, b]}
  on: {type: boolean, default: true}
resources:
  Fn:
    type: AWS::SQS::Queue
    properties:
      DelaySeconds: ${var.memory}
      QueueName: "${var.env}-${AWS::Region}-q"
      Tags: [{Key: env, Value: "env=${var.env}; on=${var.on}"}]
outputs:
  Zones: ${var.zones}
"""


def test_typed_whole_values_and_text_inside_strings(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(SPEC.replace("DelaySeconds: ${var.memory}", "DelaySeconds: ${var.memory}\n      VisibilityTimeout: 30"))
    stack = load_and_check(str(f))
    props = stack.resources["Fn"].properties
    assert props["DelaySeconds"] == 256 and props["QueueName"] == "dev-${AWS::Region}-q"
    assert props["Tags"] == [{"Key": "env", "Value": "env=dev; on=true"}]
    assert stack.outputs["Zones"] == ["a", "b"]


def test_values_from_the_command_line(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(SPEC)
    stack = load_and_check(str(f), ["memory=512", "env=prod"])
    assert stack.resources["Fn"].properties["DelaySeconds"] == 512
    assert stack.resources["Fn"].properties["QueueName"] == "prod-${AWS::Region}-q"


def test_undeclared_variable_is_an_error_at_its_line(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(SPEC.replace("${var.env}-${AWS", "${var.evn}-${AWS"))
    with pytest.raises(SpecError) as e:
        load_and_check(str(f))
    assert [str(p) for p in e.value.problems] == [
        f"{f}:12:7: resources.Fn.properties.QueueName: undeclared variable 'evn' in ${{var.evn}} (did you mean 'env'?); "
        "declared variables: env, memory, on, zones"]


def test_literal_dollar_braces_in_values_stay_literal():
    value, missing = substitute_variables({"a": "${var.x}", "b": "p-${var.x}-$${literal}"}, {"x": "v${y}"})
    assert value == {"a": "v$${y}", "b": "p-v$${y}-$${literal}"} and missing == []
