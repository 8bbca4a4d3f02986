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


def test_variables_precedence_and_types(tmp_path):
    """SPEC §2: default < DEPLOYER_VAR_* < --var-file / --var in command-line order (later wins)."""
    f = write(tmp_path, "s.yaml", """
stack: demo
variables:
  env: {type: string, default: dev, enum: [dev, prod]}
  memory: {type: integer, default: 256, minimum: 128}
  flag: {type: boolean, default: false}
""")
    vf = write(tmp_path, "vars.yml", "env: prod\n")
    stack = load_stack(str(f), ["memory=512", "flag=true", "env=dev"], [str(vf)], environ={})
    assert stack.variables == {"env": "dev", "memory": 512, "flag": True}  # without an order: files, then --var
    stack = load_stack(str(f), ["env=dev"], [str(vf)], environ={}, var_order=["var", "file"])
    assert stack.variables["env"] == "prod"  # the file was given after --var
    stack = load_stack(str(f), ["memory=512"], [], environ={"DEPLOYER_VAR_memory": "1024", "DEPLOYER_VAR_env": "prod"})
    assert stack.variables["memory"] == 512 and stack.variables["env"] == "prod"


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


# --- which files a stack directory holds ---------------------------------------------------------

def test_dotfiles_and_var_files_are_not_stack_files(tmp_path):
    write(tmp_path, "stack.yaml", "stack: demo\nvariables:\n  memory: {type: integer, default: 1}\n")
    write(tmp_path, "prod.vars.yaml", "memory: 512\n")
    write(tmp_path, "dev.vars.yml", "memory: [\n")
    write(tmp_path, ".editor.yaml", "not: [valid\n")
    assert load_stack(str(tmp_path), environ={}).variables == {"memory": 1}


def test_a_var_file_kept_in_the_stack_directory_gets_a_hint(tmp_path):
    write(tmp_path, "stack.yaml", "stack: demo\nvariables:\n  memory: {type: integer, default: 1}\n")
    f = write(tmp_path, "prod.yaml", "memory: 512\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(tmp_path), environ={})
    assert problems(e) == [f"{f}:1:1: <root>: not a stack file (its keys: memory): it looks like a variable file: "
                           "name it prod.vars.yaml (a stack directory ignores *.vars.yaml and dotfiles) and pass it "
                           "with --var-file"]


def test_a_file_with_no_stack_key_says_which_keys_a_stack_file_has(tmp_path):
    write(tmp_path, "stack.yaml", "stack: demo\n")
    write(tmp_path, "typo.yaml", "resouces: {}\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(tmp_path), environ={})
    assert "not a stack file (its keys: resouces): a stack file has some of" in problems(e)[0]
    assert "resources" in problems(e)[0]


# --- templates -----------------------------------------------------------------------------------

def test_yaml_on_the_line_of_a_statement_keeps_the_variable_declarations(tmp_path):
    f = write(tmp_path, "s.yaml", """stack: demo
variables:
  fifo: {type: boolean, default: false}
  count: {type: integer, default: 2}
resources:
{% for i in range(var.count) %}
  Q{{ i }}:
    type: AWS::SQS::Queue
    properties:
{% if var.fifo %}      FifoQueue: true
{% endif %}      DelaySeconds: {{ i * 2 }}
{% endfor %}
""")
    stack = load_and_check(str(f), ["fifo=true"])
    assert stack.resources["Q1"].properties == {"FifoQueue": True, "DelaySeconds": 2}


def test_declarations_survive_a_file_the_lenient_render_cannot_parse(tmp_path):
    f = write(tmp_path, "s.yaml", """stack: demo
variables:
  name: {type: string, default: q}
{% if var.name %}region: eu-west-1{% else %}region: us-east-1{% endif %}
""")
    assert load_stack(str(f), environ={}).raw["region"] == "eu-west-1"


def test_a_schema_error_inside_a_loop_points_at_the_source_line(tmp_path):
    f = write(tmp_path, "s.yaml", """stack: demo
resources:
{% for i in range(3) %}
  Q{{ i }}:
    type: AWS::SQS::Queue
    properties:
      DelaySecondz: {{ i }}
{% endfor %}
""")
    with pytest.raises(SpecError) as e:
        load_and_check(str(f))
    assert problems(e) == [f"{f}:7:7: resources.Q{i}.properties.DelaySecondz: unknown property 'DelaySecondz' "
                           "(did you mean 'DelaySeconds'?)" for i in range(3)]


def test_a_variable_holding_yaml_adds_nothing(tmp_path):
    f = write(tmp_path, "s.yaml", """stack: demo
variables:
  title: {type: string}
resources:
  Q:
    type: AWS::SQS::Queue
    properties:
      QueueName: "{{ var.title }}"
      Tags: [{Key: title, Value: {{ var.title }}}, {Key: ref, Value: "${var.title}"}]
""")
    title = 'x"\n  Evil: {type: AWS::IAM::User}\n"} ${Q.Arn} {{ 1 }}'
    stack = load_stack(str(f), [f"title={title}"], environ={})
    assert list(stack.resources) == ["Q"]
    escaped = title.replace("${", "$${")  # literal text: `$${` is written `${` when the value is used
    assert stack.resources["Q"].properties == {"QueueName": escaped, "Tags": [
        {"Key": "title", "Value": escaped}, {"Key": "ref", "Value": escaped}]}


def test_var_references_in_stack_tags_and_where_they_are_not_replaced(tmp_path):
    f = write(tmp_path, "s.yaml", "stack: demo\nvariables:\n  team: {type: string, default: core}\n"
                                  "tags: {team: '${var.team}'}\nbackend: {type: local, path: '${var.team}'}\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f), environ={})
    assert problems(e) == [f"{f}:5:24: backend.path: ${{var.NAME}} is replaced in properties, outputs and tags "
                           "only; here write {{ var.NAME }} (a template expression)"]
    f.write_text(f.read_text().replace("backend: {type: local, path: '${var.team}'}\n", ""))
    assert load_stack(str(f), environ={}).tags == {"team": "core"}


def test_a_reserved_character_in_a_file_is_refused(tmp_path):
    f = write(tmp_path, "s.yaml", "stack: demo\nregion: \"a\ufdd0b\"\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f), environ={})
    assert problems(e) == [f"{f}:2:11: <root>: character U+FDD0 is reserved (deployer marks template values "
                           "with it)"]


def test_code_path_outside_the_stack_directory_is_refused_at_its_line(tmp_path):
    stack_dir = tmp_path / "stack"
    stack_dir.mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "main.py").write_text("1")
    f = write(stack_dir, "s.yaml", """stack: demo
resources:
  Fn:
    type: AWS::Lambda::Function
    properties:
      Role: arn:aws:iam::123456789012:role/r
      Runtime: python3.12
      Handler: main.handler
      Code: {Path: ../shared}
""")
    with pytest.raises(SpecError) as e:
        load_stack(str(f), environ={})
    (message,) = problems(e)
    assert message.startswith(f"{f}:9:14: resources.Fn.properties.Code.Path: Code.Path '{tmp_path / 'shared'}' is "
                              f"outside the stack directory {stack_dir}")
    stack = load_stack(str(f), environ={"DEPLOYER_CODE_ROOT": str(tmp_path / "shared")})
    assert stack.resources["Fn"].properties["Code"] == {"Path": str(tmp_path / "shared")}


def test_a_default_may_hold_a_reference_a_value_from_outside_may_not(tmp_path):
    f = write(tmp_path, "s.yaml", """stack: demo
variables:
  param: {type: string, default: "${ssm:/team/queue-name}"}
resources:
  Q:
    type: AWS::SQS::Queue
    properties: {QueueName: "{{ var.param }}", Tags: [{Key: p, Value: "${var.param}"}]}
""")
    props = load_and_check(str(f)).resources["Q"].properties
    assert props == {"QueueName": "${ssm:/team/queue-name}", "Tags": [{"Key": "p", "Value": "${ssm:/team/queue-name}"}]}
    props = load_stack(str(f), ["param=${ssm:/other}"], environ={}).resources["Q"].properties
    assert props == {"QueueName": "$${ssm:/other}", "Tags": [{"Key": "p", "Value": "$${ssm:/other}"}]}


def test_region_precedence_is_spec_section_1(tmp_path):
    """--region, then AWS_REGION, override the spec's region; AWS_DEFAULT_REGION only fills in for a
    spec without one (an environment's region replaces the stack's, under the two overrides)."""
    f = write(tmp_path, "s.yaml", "stack: demo\nregion: eu-west-1\nenvironments:\n  prod: {region: us-west-2}\n")
    (tmp_path / "plain").mkdir()
    plain = write(tmp_path / "plain", "s.yaml", "stack: demo\n")
    fallback = {"AWS_DEFAULT_REGION": "ap-south-1"}
    assert load_stack(str(f), environ=fallback, env="prod").region == "us-west-2"
    assert load_stack(str(f), environ={**fallback, "AWS_REGION": "ca-central-1"}, env="prod").region == "ca-central-1"
    assert load_stack(str(f), region="sa-east-1", environ={"AWS_REGION": "ca-central-1"}, env="prod").region == "sa-east-1"
    assert load_stack(str(plain), environ=fallback).region == "ap-south-1"
    assert load_stack(str(plain), environ={}).region == "us-east-1"
