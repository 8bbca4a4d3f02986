"""The loader: files, Jinja2 sandbox, YAML marks, duplicates, merging, variables."""

from __future__ import annotations

import pytest

from deployer.errors import SpecError
from deployer.spec import load_and_check
from deployer.spec.load import load_stack


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def problems(excinfo) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


def test_directory_files_merge_in_name_order(tmp_path):
    write(tmp_path, "a.yaml", "stack: demo\nresources:\n  Q1: {type: AWS::SQS::Queue}\n")
    write(tmp_path, "b.yml", "resources:\n  Q2: {type: AWS::SQS::Queue}\n")
    write(tmp_path, "ignored.txt", "not yaml")
    stack = load_and_check(str(tmp_path))
    assert list(stack.resources) == ["Q1", "Q2"]


def test_logical_id_defined_twice_names_both_places(tmp_path):
    write(tmp_path, "a.yaml", "stack: demo\nresources:\n  Q: {type: AWS::SQS::Queue}\n")
    write(tmp_path, "b.yaml", "resources:\n  Q: {type: AWS::SQS::Queue}\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(tmp_path))
    (msg,) = problems(e)
    assert "b.yaml:2:3" in msg and "a.yaml:3:3" in msg and "defined twice" in msg


def test_top_level_key_defined_twice(tmp_path):
    write(tmp_path, "a.yaml", "stack: demo\n")
    write(tmp_path, "b.yaml", "stack: other\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(tmp_path))
    assert "a.yaml:1:1" in problems(e)[0] and "b.yaml:1:1" in problems(e)[0]


def test_duplicate_key_in_one_file(tmp_path):
    f = write(tmp_path, "s.yaml", "stack: demo\nresources:\n  Q: {type: AWS::SQS::Queue}\n  Q: {type: AWS::SQS::Queue}\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f))
    assert f"{f}:4:3: resources.Q: duplicate key 'Q' (first defined at {f}:3:3)" == problems(e)[0]


@pytest.mark.parametrize("text,expected", [
    ("", "empty file"),
    ("- a\n- b\n", "must be a mapping"),
    ("stack: demo\nresources:\n\tQ: 1\n", "tab character"),
    ("stack: [demo\n", "invalid YAML"),
    ("stack: demo\n---\nstack: x\n", "second one"),
])
def test_malformed_files(tmp_path, text, expected):
    f = write(tmp_path, "s.yaml", text)
    with pytest.raises(SpecError) as e:
        load_stack(str(f))
    assert expected in problems(e)[0]
    assert problems(e)[0].startswith(f"{f}:")


def test_jinja_loops_and_variables(tmp_path):
    f = write(tmp_path, "s.yaml", """
stack: demo
variables:
  count: {type: integer, default: 2}
resources:
{% for i in range(var.count) %}
  Q{{ i }}: {type: AWS::SQS::Queue, properties: {QueueName: "{{ stack }}-{{ region }}-{{ i }}"}}
{% endfor %}
""")
    stack = load_and_check(str(f), ["count=3"], region="eu-west-1")
    assert sorted(stack.resources) == ["Q0", "Q1", "Q2"]
    assert stack.resources["Q2"].properties["QueueName"] == "demo-eu-west-1-2"


def test_undefined_template_name_is_an_error_at_its_line(tmp_path):
    f = write(tmp_path, "s.yaml", "stack: demo\n\nregion: \"{{ var.nope }}\"\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f))
    assert problems(e)[0].startswith(f"{f}:3:") and "nope" in problems(e)[0]


@pytest.mark.parametrize("expr", ["''.__class__.__mro__", "lipsum.__globals__", "cycler.__init__.__globals__",
                                  "self._TemplateReference__context", "range.__class__"])
def test_template_cannot_reach_python_internals(tmp_path, expr):
    f = write(tmp_path, "s.yaml", f"stack: demo\nregion: \"{{{{ {expr} }}}}\"\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f))
    assert "template error" in problems(e)[0]


def test_variables_precedence_and_types(tmp_path, monkeypatch):
    f = write(tmp_path, "s.yaml", """
stack: demo
variables:
  env: {type: string, default: dev, enum: [dev, prod]}
  memory: {type: integer, default: 256, minimum: 128}
  flag: {type: boolean, default: false}
""")
    vf = write(tmp_path, "vars.yml", "env: prod\n")
    stack = load_stack(str(f), ["memory=512", "flag=true", "env=dev"], [str(vf)], environ={})
    assert stack.variables == {"env": "prod", "memory": 512, "flag": True}
    stack = load_stack(str(f), ["env=dev"], [str(vf)], environ={"DEPLOYER_VAR_memory": "1024", "DEPLOYER_VAR_env": "dev"})
    assert stack.variables["memory"] == 1024 and stack.variables["env"] == "dev"


@pytest.mark.parametrize("args,expected", [
    (["memory=64"], "minimum"),
    (["memory=abc"], "not of type 'integer'"),
    (["nope=1"], "undeclared variable 'nope'"),
    (["env=qa"], "is not one of"),
])
def test_variable_errors(tmp_path, args, expected):
    f = write(tmp_path, "s.yaml", """stack: demo
variables:
  env: {type: string, default: dev, enum: [dev, prod]}
  memory: {type: integer, default: 256, minimum: 128}
""")
    with pytest.raises(SpecError) as e:
        load_stack(str(f), args, environ={})
    assert expected in " ".join(problems(e))


def test_missing_required_variable(tmp_path):
    f = write(tmp_path, "s.yaml", "stack: demo\nvariables:\n  pw: {type: string, sensitive: true}\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f), environ={})
    assert f"{f}:3:3: variables.pw: variable 'pw' is required" in problems(e)[0]


def test_sensitive_variable_value_is_never_in_an_error(tmp_path):
    f = write(tmp_path, "s.yaml", "stack: demo\nvariables:\n  pw: {type: string, sensitive: true, minLength: 40}\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f), ["pw=hunter2-secret"], environ={})
    assert "hunter2-secret" not in str(e.value) and "(sensitive)" in str(e.value)


def test_yaml_error_in_a_templated_file_is_reported_not_its_echo(tmp_path):
    f = write(tmp_path, "s.yaml", "stack: demo\nvariables:\n  p: {type: string, default: x}\n"
                                  "region: \"{{ var.p }}\"\nresources:\n  Q: {type: AWS::SQS::Queue}\n   bad: [\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f), environ={})
    assert "invalid YAML" in problems(e)[0] and "var" not in problems(e)[0]


def test_b64encode_filter(tmp_path):
    f = write(tmp_path, "s.yaml", "stack: demo\nregion: \"{{ 'hi' | b64encode }}\"\n")
    assert load_stack(str(f), environ={}).raw["region"] == "aGk="


@pytest.mark.parametrize("text", ["stack: s\nresources: {}\n", "a: 1\r\nb: '{ x }'\r", "no newline at the end"])
def test_text_without_template_marks_renders_as_jinja2_would(text):
    from deployer.spec.load import _environment, render

    jinja2_rendering = _environment(True).from_string(text).render()
    assert render(text, "f.yaml", {}) == jinja2_rendering
