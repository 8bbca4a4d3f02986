"""The CLI's side of variables: --var and --var-file take effect in the order typed (SPEC §2), and a
Terraform spelling (`-var x=1`) gets a hint. Driven through the real click command, no AWS."""

from __future__ import annotations

from click.testing import CliRunner

from deployer.cli import main

SPEC = "stack: demo\nvariables:\n  memory: {type: integer, default: 256, enum: [256, 512, 1024]}\n"


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def test_the_last_of_var_and_var_file_wins(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("enum: [256, 512, 1024]", "enum: [256, 512]"))
    vf = tmp_path / "big.vars.yaml"
    vf.write_text("memory: 1024\n")
    assert run("validate", str(spec), "--var-file", str(vf), "--var", "memory=512").exit_code == 0
    res = run("validate", str(spec), "--var", "memory=512", "--var-file", str(vf))
    assert res.exit_code == 1 and "invalid value 1024 (from --var-file" in res.output


def test_the_command_line_beats_the_environment(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("enum: [256, 512, 1024]", "enum: [512]"))
    assert run("validate", str(spec), "--var", "memory=512", env={"DEPLOYER_VAR_memory": "1024"}).exit_code == 0


def test_a_terraform_spelling_gets_a_hint(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    res = run("validate", str(spec), "-var", "memory=512")
    assert res.exit_code == 1
    assert "'-var' is Terraform's spelling: deployer's options take two dashes (did you mean '--var'?)" in res.output
    res = run("validate", str(spec), "-x")
    assert res.exit_code == 1 and "Terraform" not in res.output
