"""Variable sources: SPEC §2's precedence (command line wins), the source of each value, override notes,
bounded inputs, and hints for Terraform habits."""

from __future__ import annotations

import pytest

from deployer.errors import SpecError
from deployer.spec import variables as v
from deployer.spec.load import load_stack

DECLS = {"env": {"type": "string", "default": "dev"}, "memory": {"type": "integer", "default": 256},
         "pw": {"type": "string", "sensitive": True, "default": "changeme1"}}


def resolve(layers):
    return v.resolve_layers(DECLS, [v.defaults_layer(DECLS, lambda p: None), *layers], lambda p: None)


def test_later_layers_win_and_each_value_names_its_source(tmp_path):
    vf = tmp_path / "prod.vars.yaml"
    vf.write_text("memory: 1024\nenv: prod\n")
    env_layer, problems, _ = v.environ_layer({"DEPLOYER_VAR_memory": "2048", "DEPLOYER_VAR_nope": "x"}, DECLS)
    given, found = v.command_line_layers(DECLS, ["memory=512"], [str(vf)], ["var", "file"])
    out = resolve([v.environment_layer("prod", {"env": "staging"}), env_layer, *given])
    assert problems == found == out.problems == []
    assert out.values == {"env": "prod", "memory": 1024, "pw": "changeme1"}
    assert {n: (s.kind, s.label) for n, s in out.sources.items()} == {
        "env": ("var_file", f"--var-file {vf}"), "memory": ("var_file", f"--var-file {vf}"),
        "pw": ("default", "its default")}


def test_without_an_order_var_files_come_before_vars(tmp_path):
    vf = tmp_path / "a.vars.yaml"
    vf.write_text("memory: 1024\n")
    given, _ = v.command_line_layers(DECLS, ["memory=512"], [str(vf)])
    assert resolve(given).values["memory"] == 512
    given, _ = v.command_line_layers(DECLS, ["memory=512"], [str(vf)], ["file"])  # an order that does not fit
    assert resolve(given).values["memory"] == 512


def test_override_notes_say_what_a_plan_should_mention(tmp_path):
    vf = tmp_path / "b.vars.yaml"
    vf.write_text("env: qa\n")
    env_layer, _, _ = v.environ_layer({"DEPLOYER_VAR_memory": "1024", "DEPLOYER_VAR_pw": "from-ci-secret"}, DECLS)
    given, _ = v.command_line_layers(DECLS, ["memory=512", "pw=typed-secret"], [str(vf)])
    out = resolve([v.environment_layer("prod", {"env": "prod"}), env_layer, *given])
    notes = [str(o) for o in out.overrides if o.notable]
    assert notes == [
        f"variable 'env': 'qa' from --var-file {vf} overrides 'prod' from environment 'prod'",
        "variable 'memory': 512 from --var memory=... overrides 1024 from DEPLOYER_VAR_memory",
        "variable 'pw': (sensitive) from --var pw=... overrides (sensitive) from DEPLOYER_VAR_pw",
    ]
    plain = resolve([v.environment_layer("prod", {"env": "prod"}), *v.command_line_layers(DECLS, ["memory=2"], [])[0]])
    assert [o for o in plain.overrides if o.notable] == []  # an environment or --var over a default is the point


def test_an_environment_variable_over_a_default_is_noted():
    env_layer, _, _ = v.environ_layer({"DEPLOYER_VAR_memory": "1024"}, DECLS)
    (note,) = [str(o) for o in resolve([env_layer]).overrides if o.notable]
    assert note == "variable 'memory': 1024 from DEPLOYER_VAR_memory overrides 256 from its default"


def test_stack_carries_sources_and_notes(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("stack: demo\nvariables:\n  memory: {type: integer, default: 256}\n")
    stack = load_stack(str(f), ["memory=512"], environ={"DEPLOYER_VAR_memory": "1024"})
    assert stack.variables == {"memory": 512} and stack.variable_sources["memory"].kind == "var"
    assert stack.variable_notes() == ["note: variable 'memory': 512 from --var memory=... overrides 1024 from "
                                      "DEPLOYER_VAR_memory"]


def test_an_environment_sits_between_defaults_and_environment_variables(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("stack: demo\nvariables:\n  memory: {type: integer, default: 256}\n  tier: {type: string}\n"
                 "environments:\n  prod: {variables: {memory: 1024, tier: gold}}\n")
    stack = load_stack(str(f), environ={}, env="prod")
    assert stack.variables == {"memory": 1024, "tier": "gold"}
    assert (stack.name, stack.environment) == ("demo-prod", "prod")
    stack = load_stack(str(f), environ={"DEPLOYER_VAR_memory": "2048"}, env="prod")
    assert stack.variables["memory"] == 2048
    assert stack.variable_notes() == ["note: variable 'memory': 2048 from DEPLOYER_VAR_memory overrides 1024 from "
                                      "environment 'prod'"]


def test_an_environment_setting_an_undeclared_variable_is_an_error(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("stack: demo\nvariables:\n  memory: {type: integer, default: 256}\n"
                 "environments:\n  dev: {variables: {memroy: 1}}\n")
    with pytest.raises(SpecError) as e:
        load_stack(str(f), environ={}, env="dev")
    assert "undeclared variable 'memroy' (did you mean 'memory'?)" in str(e.value)


def test_a_type_error_names_the_source_of_the_value():
    env_layer, _, _ = v.environ_layer({"DEPLOYER_VAR_memory": "lots"}, DECLS)
    (p,) = resolve([env_layer]).problems
    assert p.path == "var.memory" and "invalid value 'lots' (from DEPLOYER_VAR_memory)" in p.message


@pytest.mark.parametrize("args,cli_vars,files,order", [
    (["plan", ".", "--var", "a=1", "--var-file", "f", "--var=b=2"], ["a=1", "b=2"], ["f"], ["var", "file", "var"]),
    (["--var-file=f", "x", "--var", "a=1"], ["a=1"], ["f"], ["file", "var"]),
    (["--var", "a=1", "--", "--var-file", "f"], ["a=1"], ["f"], None),  # after --: the lists disagree
])
def test_command_line_order(args, cli_vars, files, order):
    assert v.command_line_order(args, cli_vars, files) == order


def test_bounded_inputs(tmp_path):
    big = "x" * (v.MAX_VALUE_BYTES + 1)
    _, problems, _ = v.environ_layer({"DEPLOYER_VAR_env": big}, DECLS)
    assert "limited to 65536 bytes" in problems[0].message
    _, found = v.command_line_layers(DECLS, [f"env={big}"], [])
    assert "limited to 65536 bytes" in found[0].message
    huge = tmp_path / "huge.vars.yaml"
    huge.write_text("env: " + "x" * v.MAX_VAR_FILE_BYTES + "\n")
    _, found = v.command_line_layers(DECLS, [], [str(huge)])
    assert "variable files are limited" in found[0].message


def test_a_var_file_is_parsed_like_a_spec_file(tmp_path):
    bomb = tmp_path / "bomb.vars.yaml"
    lines = ['a: &a ["l","l","l","l","l","l","l","l","l"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb.write_text("\n".join(lines) + "\n")
    _, found = v.command_line_layers(DECLS, [], [str(bomb)])
    assert "alias expansion" in found[0].message
    dup = tmp_path / "dup.vars.yaml"
    dup.write_text("env: a\nenv: b\n")
    _, found = v.command_line_layers(DECLS, [], [str(dup)])
    assert str(found[0]).startswith(f"{dup}:2:1: env: duplicate key 'env'")


def test_an_alias_bomb_in_a_typed_var_stays_a_string():
    decls = {"l": {"type": "array", "default": []}}
    bomb = "[" + ",".join(["&a [1,1,1,1,1,1,1,1,1]"] + ["*a"] * 5) + "]"
    assert len(v.parse_typed(bomb, "array")) == 6
    nested = "&a [" + "*a, " * 3 + "]"  # an alias to itself: refused, the raw text kept
    assert v.parse_typed(nested, "array") == nested
    out = v.resolve_layers(decls, [v.Layer("var", "--var", {"l": nested}, raw=True)], lambda p: None)
    assert "is not of type 'array'" in out.problems[0].message


@pytest.mark.parametrize("item,expected", [
    ("memory", "expected --var NAME=VALUE (did you mean --var memory=VALUE?)"),
    ("=1", "expected --var NAME=VALUE"),
    ("memroy=1", "undeclared variable 'memroy' (did you mean 'memory'?); declared variables: env, memory, pw"),
])
def test_command_line_mistakes(item, expected):
    _, found = v.command_line_layers(DECLS, [item], [])
    assert found[0].message == expected


def test_terraform_habits_in_var_files_and_the_environment(tmp_path):
    hcl = tmp_path / "terraform.tfvars"
    hcl.write_text('memory = 512\n')
    _, found = v.command_line_layers(DECLS, [], [str(hcl)])
    assert "Terraform's NAME = VALUE" in found[0].message
    _, _, warnings = v.environ_layer({"TF_VAR_memory": "1"}, DECLS)
    assert warnings == ["TF_VAR_memory is set but ignored: deployer reads DEPLOYER_VAR_memory"]


def test_former_interface_keeps_its_shape():
    given, problems = v.gather_values(DECLS, ["memory=512"], [], {"DEPLOYER_VAR_memory": "9", "DEPLOYER_VAR_env": "qa"})
    assert given == {"memory": 512, "env": "qa"} and problems == []
    values, problems = v.resolve(DECLS, {"memory": "x"}, lambda p: None)
    assert values["env"] == "dev" and problems[0].message.startswith("invalid value 'x': ")
