"""Jinja for spec files: expression values placed as values (never YAML text), marks at the source
line (also inside loops), undefined names explained, and budgets that end in one line."""

from __future__ import annotations

import pytest

from deployer.spec import template
from deployer.spec.yamlmarks import YamlProblem, parse_yaml

VARS = {"env": "dev", "memory": 512, "on": True, "zones": ["a", "b"], "tags": {"team": "core"}, "none": None}


def load(text: str, values: dict | None = None, strict: bool = True) -> tuple[object, dict]:
    """Render and parse as the loader does; returns (data, marks)."""
    context = {"var": template.template_values(VARS if values is None else values), "stack": "demo",
               "region": "eu-west-1"}
    out = template.render(text, "s.yaml", context, template.Budget(), strict=strict)
    return parse_yaml(out.text, "s.yaml", out.lines, out.values)


def problem(text: str, values: dict | None = None) -> str:
    with pytest.raises(YamlProblem) as e:
        load(text, values)
    return str(e.value.problem)


# --- values, not text ----------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [
    'a"\n  Evil: {type: AWS::IAM::User}\n#',
    "x'\n---\nstack: other",
    "}} {% raw %} {{ var.env }}",
    "- [a, b]\n  c: {d: e}\n",
    "&anchor *alias !!python/object:os.system",
    "  indented\n\tand tabbed\n",
])
@pytest.mark.parametrize("form", ['"{{ var.v }}"', "'{{ var.v }}'", "{{ var.v }}", "pre-{{ var.v }}-post"])
def test_a_string_value_is_placed_verbatim_whatever_it_holds(payload, form):
    data, _ = load(f"stack: demo\nresources:\n  Q:\n    properties:\n      Name: {form}\n", {"v": payload})
    expected = form.strip("'\"").replace("{{ var.v }}", payload)
    assert data == {"stack": "demo", "resources": {"Q": {"properties": {"Name": expected}}}}


def test_a_block_scalar_takes_a_multi_line_value_verbatim():
    data, _ = load("script: |\n  #!/bin/sh\n  {{ var.v }}\nafter: 1\n", {"v": "echo a\necho b\n  c: d"})
    assert data == {"script": "#!/bin/sh\necho a\necho b\n  c: d\n", "after": 1}


def test_an_unquoted_single_expression_keeps_the_value_type_a_quoted_one_is_text():
    data, _ = load("a: {{ var.memory }}\nb: \"{{ var.memory }}\"\nc: {{ var.on }}\nd: {{ var.zones }}\n"
                   "e: {{ var.tags }}\nf: {{ var.none }}\ng: {{ var.memory }}{{ var.memory }}\nh: {{ 'yes' }}\n"
                   "i: \"{{ var.zones }}\"\n")
    assert data == {"a": 512, "b": "512", "c": True, "d": ["a", "b"], "e": {"team": "core"}, "f": None,
                    "g": "512512", "h": "yes", "i": '["a", "b"]'}


def test_values_in_keys_and_a_captured_block():
    data, _ = load("{% for z in var.zones %}\nQueue{{ z | upper }}: {{ loop.index }}\n{% endfor %}\n"
                   "{% set both %}{{ var.env }}-{{ var.memory }}{% endset %}\nboth: {{ both }}\n"
                   "{% set one %}{{ var.memory }}{% endset %}\none: {{ one }}\n")
    assert data == {"QueueA": 1, "QueueB": 2, "both": "dev-512", "one": 512}


def test_a_variable_never_becomes_a_reference_but_template_text_does():
    data, _ = load('a: "{{ var.v }}"\nb: "${ {{- var.n }}.Arn}"\nc: "{{ var.v | b64encode }}"\n',
                   {"v": "${Admin.Arn}", "n": "Role"})
    assert data["a"] == "$${Admin.Arn}"  # a literal: `$${` is written `${` at apply time
    assert data["b"] == "${Role.Arn}"
    assert data["c"] == "JHtBZG1pbi5Bcm59"  # the text itself is encoded: "${Admin.Arn}"


def test_a_reserved_character_cannot_forge_a_placeholder():
    out = template.render("a: 1\n", "s.yaml", {"var": template.Variables()}, template.Budget())
    with pytest.raises(YamlProblem) as e:
        parse_yaml("a: \ufdd07\ufdd1\n", "s.yaml", out.lines, out.values)
    assert "reserved character" in str(e.value)


# --- source lines --------------------------------------------------------------------------------

def test_marks_inside_a_loop_point_at_the_loop_body():
    _, marks = load("stack: demo\n{% for i in range(3) %}\nQ{{ i }}:\n  type: x\n{% endfor %}\nlast: 1\n")
    assert [marks[(f"Q{i}", "type")].line for i in range(3)] == [4, 4, 4]
    assert marks[("Q2",)].line == 3 and marks[("last",)].line == 6


def test_lines_with_whitespace_control_and_text_after_a_tag():
    _, marks = load("a: 1\n{%- for i in [1, 2] %}\nb{{ i }}: 2\n{%- endfor %}\n{% if var.on %}  \nc: 3\n{% endif %}\n")
    assert marks[("b1",)].line == 3 and marks[("b2",)].line == 3 and marks[("c",)].line == 6


def test_a_yaml_error_in_a_loop_is_at_its_source_line():
    message = problem("stack: demo\n{% for i in range(2) %}\nQ{{ i }}: [\n{% endfor %}\n")
    assert message.startswith("s.yaml:") and "invalid YAML" in message


def test_a_key_the_loop_writes_twice_says_so():
    message = problem("{% for i in range(2) %}\nQ: {{ i }}\n{% endfor %}\n")
    assert message.startswith("s.yaml:2:1: Q: duplicate key 'Q'") and "the template writes it twice" in message


def test_unmark_gives_each_line_the_source_line_of_its_first_character():
    text = template._marked("a\nb\n", 7) + template._marked("c", 2) + "\nmacro line\n"
    assert template.unmark(text) == ("a\nb\nc\nmacro line\n", [7, 8, 2, 2, 2])


# --- undefined names -----------------------------------------------------------------------------

def test_a_misspelt_variable_gets_a_suggestion_and_the_declared_list():
    message = problem('stack: demo\n\nregion: "{{ var.enviroment }}"\n', {"env": "dev", "memory": 1})
    assert message == ("s.yaml:3:1: <root>: template error: undefined variable 'var.enviroment' "
                       "(did you mean 'env'?); declared variables: env, memory")


def test_a_bare_variable_name_and_an_unknown_name():
    assert "'env' is a variable, write var.env" in problem("a: {{ env }}\n", {"env": "dev"})
    message = problem("a: {{ regin }}\n", {"env": "dev"})
    assert "undefined name 'regin' (did you mean 'region'?)" in message and "var, stack, region" in message


def test_a_missing_field_of_an_object_variable_names_no_python_type():
    message = problem("a: {{ var.tags.tema }}\n")
    assert "a mapping has no attribute 'tema' (did you mean 'team'?) (its keys: team)" in message
    assert "dict object" not in message


def test_a_variable_named_like_a_mapping_method_is_the_variable():
    data, _ = load("a: {{ var.items }}\nb: {{ var.keys | join(',') }}\n", {"items": 3, "keys": ["x", "y"]})
    assert data == {"a": 3, "b": "x,y"}


def test_python_type_names_are_said_in_words():
    message = problem("a: {{ var.memory + var.env }}\n")
    assert "'int'" not in message and "an integer" in message and "a string" in message


def test_dollar_inside_an_expression_gets_a_hint():
    assert "${var.NAME} is written outside {{ }}" in problem("a: {{ ${var.env} }}\n")


def test_the_lenient_pass_renders_whatever_the_variables_are():
    data, _ = load("{% for i in range(var.count + 1) %}x{{ i }}: 1\n{% endfor %}"
                   "{% if var.flag > 3 %}y: 1\n{% endif %}a: {{ var.count * 2 }}\n", {}, strict=False)
    assert data == {"a": None}


# --- budgets -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "s of CPU"),
    ("{{ 10 ** 1000 ** 1000 }}", "'**' would build an integer"),
    ("{% set ns = namespace(x=10**999) %}{% for i in range(60) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
     "'*' would build an integer"),
    ("{{ 'x' * 10 ** 10 }}", "limit 1000000"),
    ("{{ [1] * 10 ** 6 }}", "limit 100000"),
    ("{{ range(10 ** 6) | list }}", "range of 1000000 numbers"),
    ("{{ 'x' | center(10 ** 9) }}", "too large"),
    ("{{ '%0999999999d' % 1 }}", "format width"),
    ("{{ '{:>999999999}'.format(1) }}", "format width"),
    ("{{ '{:>{w}}'.format(1, w=10 ** 9) }}", "format width"),
    ("{{ ('x' * 1000000) | replace('x', 'yy') }}", "limit 1000000"),
    ("{{ ('x' * 1000000).replace('x', 'yy') }}", "limit 1000000"),
    ("{{ (['x' * 100000] * 1000) | join }}", "limit 1000000"),
    ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "limit 1000000"),
    ("{% set ns = namespace(d={}) %}{% for i in range(40) %}{% set ns.d = {'a': ns.d, 'b': ns.d} %}"
     "{% endfor %}", "stands for more than"),
    ("{% set a = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}"
     "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{% set d = [c, c, c, c, c, c, c, c, c, c] %}"
     "{% set e = [d, d, d, d, d, d, d, d, d, d] %}{% set f = [e, e, e, e, e, e, e, e, e, e] %}", "stands for more than"),
    ("{% macro m(n) %}{% if n > 0 %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(40) }}", "s of CPU"),
    ("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}", "too large or too deep"),
    ("{% for i in range(100000) %}# {{ 'x' * 1000 }}\n{% endfor %}", "add up to more than"),
    ("{% for i in range(100000) %}# {{ i }} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
     "{% endfor %}", "rendered file is larger"),
])
def test_budgets_end_in_one_template_error_at_the_line(text, expected):
    message = problem("stack: demo\n" + text + "\n")
    assert message.startswith("s.yaml:2:1: <root>: template error: ") and expected in message, message


def test_the_cpu_budget_is_shared_by_a_load(monkeypatch):
    budget = template.Budget(cpu_seconds=0.05)
    spin = "{% for i in range(100000) %}{% for j in range(100) %}{% endfor %}{% endfor %}"
    with pytest.raises(YamlProblem):
        template.render(spin, "a.yaml", {"var": template.Variables()}, budget)
    assert budget.spent >= 0.05
    with pytest.raises(YamlProblem) as e:  # the next file starts over budget
        template.render("{% for i in range(100) %}{% endfor %}", "b.yaml", {"var": template.Variables()}, budget)
    assert "s of CPU" in str(e.value)


def test_sandbox_still_refuses_python_internals():
    assert "not allowed" in problem("a: {{ ''.__class__.__mro__ }}\n") or "template error" in problem(
        "a: {{ ''.__class__.__mro__ }}\n")
    assert "template error" in problem("a: {{ var.zones.append(1) }}\n")  # lists are immutable
