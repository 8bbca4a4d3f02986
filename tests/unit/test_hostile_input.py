"""Hostile input: each ends in a one-line error (or a sane success), within 2 seconds of CPU, with
bounded memory (a real `deployer validate` process under a 1 GiB address-space limit).

Three classes: hostile specs (YAML and templates), hostile variables (--var, --var-file,
DEPLOYER_VAR_*) and hostile paths (Code.Path). A case is a stack file `s.yaml`, more files beside it,
command-line arguments and environment variables; `{dir}` in any of them is the case's directory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LIMIT_BYTES = 1 << 30
CPU_SECONDS = 2.0


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


@dataclass(frozen=True)
class Case:
    spec: bytes
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None
    says: str = ""  # a part of the one error line
    starts: str = "{dir}/s.yaml"  # how the error line starts
    ok: bool = False  # a sane success instead


def billion_laughs(tail: str = "stack: demo\n") -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n" + tail).encode()


FLOW_BOMB = "{" + billion_laughs("").decode().strip().replace("\n", ", ") + "}"  # the same bomb on one line


def template(body: str) -> bytes:
    return f"stack: demo\n{body}\n".encode()


VARIABLES = b"""stack: demo
variables:
  memory: {type: integer, default: 256}
  names: {type: array, default: []}
  title: {type: string, default: t}
  pw: {type: string, sensitive: true, default: changeme, minLength: 8}
resources:
  Q:
    type: AWS::SQS::Queue
    properties: {QueueName: q, DelaySeconds: "${var.memory}", Tags: [{Key: title, Value: "{{ var.title }}"}]}
"""


def function(code_path: str) -> bytes:
    return f"""stack: demo
resources:
  Fn:
    type: AWS::Lambda::Function
    properties:
      Role: arn:aws:iam::123456789012:role/r
      Runtime: python3.12
      Handler: main.handler
      Code: {{Path: "{code_path}"}}
""".encode()


def _code(d: Path) -> None:
    (d / "src").mkdir()
    (d / "src" / "main.py").write_text("def handler(e, c):\n    return 1\n")


def _with(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def run(d: Path) -> None:
        for step in steps:
            step(d)
    return run


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda d: os.mkfifo(d / name)


def _link(name: str, target: str, directory: bool = False) -> Callable[[Path], None]:
    return lambda d: (d / name).symlink_to(target.format(dir=d), target_is_directory=directory)


def _sparse(name: str, size: int) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        with open(d / name, "wb") as fh:
            fh.truncate(size)
    return make


SPECS = {
    "alias-bomb": Case(billion_laughs(), says="alias expansion"),
    "deep-flow-nesting": Case(b"stack: demo\nx: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"),
    "deep-block-nesting": Case(b"stack: demo\n" + b"".join(b"  " * i + b"k:\n" for i in range(3000))),
    "ten-megabytes": Case(b"stack: demo\nresources:\n" + b"#" * (10 * 1024 * 1024) + b"\n", says="limited to"),
    "million-items": Case(b"stack: demo\nx:\n" + b"- a\n" * 1_200_000, says="document too large"),
    "binary": Case(bytes(range(256)) * 64),
    "not-utf8": Case(b"stack: demo\nregion: \xff\xfe\n"),
    "reserved-character": Case("stack: demo\nregion: \"\ufdd0\"\n".encode(), says="reserved"),
    "jinja-mro": Case(template("region: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"")),
    "jinja-globals": Case(template("region: \"{{ self.__init__.__globals__ }}\"")),
    "jinja-config": Case(template("region: \"{{ config.items() }}\"")),
    "jinja-cycler": Case(template("region: \"{{ cycler.__init__.__globals__.os.popen('id').read() }}\"")),
    "jinja-format-attr": Case(template("region: \"{{ '{0.__class__}' | attr('format') }}\"")),
    "jinja-import": Case(template("{% import 'os' as os %}")),
    "jinja-include": Case(template("{% include '/etc/passwd' %}")),
    "jinja-huge-loop": Case(template("{% for i in range(10**9) %}{% endfor %}")),
    "jinja-big-string": Case(template("region: \"{{ 'x' * 10**10 }}\"")),
    "jinja-nested-range": Case(template("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                                        "{% endfor %}"), says="s of CPU"),
    "jinja-string-loops": Case(template("{% set s = 'x' * 1000000 %}{% for a in s %}{% for b in s %}{% endfor %}"
                                        "{% endfor %}"), says="s of CPU"),
    "jinja-power-tower": Case(template("region: \"{{ 10 ** 1000 ** 1000 }}\""), says="'**'"),
    "jinja-power-of-power": Case(template("region: \"{{ (10 ** 999) ** 999 }}\""), says="'**'"),
    "jinja-squaring": Case(template("{% set ns = namespace(x=10**999) %}{% for i in range(100) %}"
                                    "{% set ns.x = ns.x * ns.x %}{% endfor %}"), says="'*'"),
    "jinja-center": Case(template("region: \"{{ 'x' | center(999999999) }}\""), says="too large"),
    "jinja-ljust": Case(template("region: \"{{ 'x'.ljust(999999999) }}\""), says="limit"),
    "jinja-percent-width": Case(template("region: \"{{ '%0999999999d' % 1 }}\""), says="format width"),
    "jinja-format-width": Case(template("region: \"{{ '{:>999999999}'.format(1) }}\""), says="format width"),
    "jinja-format-nested": Case(template("region: \"{{ '{:>{w}}'.format(1, w=999999999) }}\""),
                                says="format width"),
    "jinja-replace": Case(template("region: \"{{ ('x' * 1000000) | replace('x', 'yyyyyyyyyy') }}\""),
                          says="limit"),
    "jinja-join": Case(template("region: \"{{ (['x' * 1000000] * 1000) | join }}\""), says="limit"),
    "jinja-doubling": Case(template("{% set ns = namespace(s='x') %}{% for i in range(60) %}"
                                    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}"), says="limit"),
    "jinja-map-dag": Case(template("{% set ns = namespace(d={}) %}{% for i in range(40) %}"
                                   "{% set ns.d = {'a': ns.d, 'b': ns.d} %}{% endfor %}\nregion: {{ ns.d }}"),
                          says="stands for more than"),
    "jinja-macro-fanout": Case(template("{% macro m(n) %}{% if n > 0 %}{{ m(n-1) }}{{ m(n-1) }}{% endif %}"
                                        "{% endmacro %}{{ m(40) }}"), says="s of CPU"),
    "jinja-macro-recursion": Case(template("{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }}"),
                                  says="too deep"),
    "jinja-output-flood": Case(template("{% for i in range(100000) %}# {{ 'x' * 1000 }}\n{% endfor %}"),
                               says="more than"),
    "jinja-undefined-variable": Case(VARIABLES.replace(b"var.title", b"var.titel"),
                                     says="undefined variable 'var.titel' (did you mean 'title'?); declared "
                                          "variables: memory, names, pw, title"),
    "jinja-dollar-expression": Case(template("region: \"{{ ${var.x} }}\""), says="inside {{ }} write var.NAME"),
    "ref-shell": Case(template("resources:\n  A:\n    type: AWS::SQS::Queue\n"
                               "    properties: {QueueName: '${A; rm -rf /}'}")),
    "ref-path": Case(template("resources:\n  A:\n    type: AWS::SQS::Queue\n"
                              "    properties: {QueueName: '${../../etc/passwd}'}")),
    "ref-python": Case(template("resources:\n  A:\n    type: AWS::SQS::Queue\n"
                                "    properties: {QueueName: \"${__import__('os')}\"}")),
    "ref-dunder": Case(template("resources:\n  A:\n    type: AWS::SQS::Queue\n  B:\n    type: AWS::SQS::Queue\n"
                                "    properties: {QueueName: '${A.__class__}'}")),
    "python-tag": Case(b"stack: !!python/object/apply:os.system ['id']\n"),
    "many-documents": Case(b"stack: demo\n" + b"---\na: 1\n" * 100_000),
    "stack-name-newline": Case(b'stack: "demo\\n"\n', says="does not match"),
    "resource-name-newline": Case(template('resources:\n  "Q\\n": {type: AWS::SQS::Queue}'), says="does not match"),
    "variable-name-newline": Case(template('variables:\n  "v\\n": {type: string, default: a}'), says="does not match"),
    "queue-name-newline": Case(template('resources:\n  Q: {type: AWS::SQS::Queue, properties: {QueueName: "q\\n"}}'),
                               says="a name cannot hold a newline"),
    "var-file-in-stack-dir": Case(VARIABLES, args=("{dir}",), files={"prod.yaml": b"memory: 512\n"},
                                  starts="{dir}/prod.yaml", says="name it prod.vars.yaml"),
}

VARIABLE_CASES = {
    "var-yaml-payload": Case(VARIABLES, args=("--var", "title=a\"\n  Evil: {type: AWS::IAM::User}\n#${Q.Arn} {{ 1 }}"),
                             ok=True),
    "var-file-alias-bomb": Case(VARIABLES, args=("--var-file", "{dir}/bomb.vars.yaml"),
                                files={"bomb.vars.yaml": billion_laughs("names: *j\n")},
                                starts="{dir}/bomb.vars.yaml", says="alias expansion"),
    "var-alias-bomb": Case(VARIABLES, args=("--var", f"names={FLOW_BOMB}"), says="is not of type 'array'"),
    "env-alias-bomb": Case(VARIABLES, env={"DEPLOYER_VAR_names": FLOW_BOMB},
                           says="(from DEPLOYER_VAR_names): '{a: &a"),
    "var-self-alias": Case(VARIABLES, args=("--var", "names=&a [*a, *a]"), says="is not of type 'array'"),
    "var-deep-nesting": Case(VARIABLES, args=("--var", "names=" + "[" * 20000 + "]" * 20000),
                             says="is not of type 'array'"),
    "var-nesting-65": Case(VARIABLES, args=("--var", "names=" + "[" * 70 + "]" * 70), says="is not of type 'array'"),
    "var-value-huge": Case(VARIABLES, args=("--var", "title=" + "x" * 100_000), starts="<command line>",
                           says="limited to 65536 bytes"),
    "env-value-huge": Case(VARIABLES, env={"DEPLOYER_VAR_title": "x" * 100_000}, starts="DEPLOYER_VAR_title",
                           says="limited to 65536 bytes"),
    "var-file-huge": Case(VARIABLES, args=("--var-file", "{dir}/big.vars.yaml"),
                          files={"big.vars.yaml": b"title: " + b"x" * (2 << 20) + b"\n"},
                          starts="{dir}/big.vars.yaml", says="limited to"),
    "var-file-million-items": Case(VARIABLES, args=("--var-file", "{dir}/l.vars.yaml"),
                                   files={"l.vars.yaml": b"names:\n" + b"- a\n" * 250_000},
                                   starts="{dir}/l.vars.yaml", says="document too large"),
    "var-file-binary": Case(VARIABLES, args=("--var-file", "{dir}/b.vars.yaml"), files={"b.vars.yaml": b"\xff\xfe\x00"},
                            starts="{dir}/b.vars.yaml", says="not UTF-8"),
    "var-file-fifo": Case(VARIABLES, args=("--var-file", "{dir}/pipe"), setup=_fifo("pipe"),
                          starts="{dir}/pipe", says="not a regular file"),
    "var-file-proc": Case(VARIABLES, args=("--var-file", "/proc/self/environ"), starts="/proc/self/environ",
                          says="a system file"),
    "var-file-dev-zero": Case(VARIABLES, args=("--var-file", "/dev/zero"), starts="/dev/zero", says="a system file"),
    "var-file-directory": Case(VARIABLES, args=("--var-file", "{dir}"), starts="{dir}", says="not a regular file"),
    "var-file-missing": Case(VARIABLES, args=("--var-file", "{dir}/nope.yaml"), starts="{dir}/nope.yaml",
                             says="cannot read variable file"),
    "var-file-duplicate": Case(VARIABLES, args=("--var-file", "{dir}/d.vars.yaml"),
                               files={"d.vars.yaml": b"title: a\ntitle: b\n"}, starts="{dir}/d.vars.yaml:2:1",
                               says="duplicate key"),
    "var-file-hcl": Case(VARIABLES, args=("--var-file", "{dir}/t.tfvars"), files={"t.tfvars": b"memory = 512\n"},
                         starts="{dir}/t.tfvars", says="Terraform's NAME = VALUE"),
    "var-file-python-tag": Case(VARIABLES, args=("--var-file", "{dir}/p.vars.yaml"),
                                files={"p.vars.yaml": b"title: !!python/object/apply:os.system ['id']\n"},
                                starts="{dir}/p.vars.yaml:1:8", says="unsupported tag"),
    "var-file-two-documents": Case(VARIABLES, args=("--var-file", "{dir}/m.vars.yaml"),
                                   files={"m.vars.yaml": b"title: a\n" + b"---\ntitle: b\n" * 50_000},
                                   starts="{dir}/m.vars.yaml", says="second one"),
    "var-undeclared": Case(VARIABLES, args=("--var", "memroy=512"), starts="<command line>",
                           says="(did you mean 'memory'?); declared variables: memory, names, pw, title"),
    "var-without-value": Case(VARIABLES, args=("--var", "memory"), starts="<command line>",
                              says="did you mean --var memory=VALUE?"),
    "var-wrong-type-from-env": Case(VARIABLES, env={"DEPLOYER_VAR_memory": "lots"}, starts="{dir}/s.yaml:3:3",
                                    says="(from DEPLOYER_VAR_memory)"),
    "var-sensitive-invalid": Case(VARIABLES, args=("--var", "pw=short"), says="invalid value (sensitive)"),
    "var-reference-smuggled": Case(VARIABLES, args=("--var", "title=${secret:prod/db}"), ok=True),
}

PATH_CASES = {
    "code-ok": Case(function("./src"), setup=_code, ok=True),
    "code-etc": Case(function("/etc"), says="outside the stack directory"),
    "code-dotdot": Case(function("../../../../../../etc/passwd"), says="outside the stack directory"),
    "code-proc-self": Case(function("/proc/self"), says="is a system filesystem"),
    "code-proc-allowed-root": Case(function("/proc/self/environ"), env={"DEPLOYER_CODE_ROOT": "/"},
                                   says="is a system filesystem"),
    "code-dev-zero": Case(function("/dev/zero"), env={"DEPLOYER_CODE_ROOT": "/"}, says="is a system filesystem"),
    "code-link-to-etc": Case(function("./etc"), setup=_link("etc", "/etc", directory=True), says="(resolves to /etc)"),
    "code-file-link-out": Case(function("./src"), setup=_with(_code, _link("src/pw", "/etc/passwd")),
                               says="pw is a symlink to /etc/passwd, outside the code directory"),
    "code-link-to-dev": Case(function("./src"), env={"DEPLOYER_CODE_ROOT": "/"},
                             setup=_with(_code, _link("src/z", "/dev/zero")), says="outside the code directory"),
    "code-link-loop": Case(function("./src"), setup=_with(_code, _link("src/a", "{dir}/src/b"),
                                                          _link("src/b", "{dir}/src/a")), says="Too many levels"),
    "code-fifo": Case(function("./src"), setup=_with(_code, _fifo("src/pipe")), says="pipe is not a regular file"),
    "code-sparse-3gb": Case(function("./src"), setup=_with(_code, _sparse("src/big.bin", 3 << 30)),
                            says="Lambda takes at most"),
    "code-missing": Case(function("./nope"), says="no such file or directory"),
    "code-empty": Case(function("./empty"), setup=lambda d: (d / "empty").mkdir(), says="holds no files"),
    "code-reference": Case(function("${Fn.Arn}"), says="cannot hold a reference"),
    "code-dir-link-not-followed": Case(function("./src"), setup=_with(_code, _link("src/etc", "/etc", True)), ok=True),
}

CASES = {**{f"spec-{k}": c for k, c in SPECS.items()}, **{f"var-{k}": c for k, c in VARIABLE_CASES.items()},
         **{f"path-{k}": c for k, c in PATH_CASES.items()}}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_ends_in_a_one_line_error_fast(tmp_path, name):
    case = CASES[name]
    d = tmp_path / "case"
    d.mkdir()
    (d / "s.yaml").write_bytes(case.spec)
    for rel, data in case.files.items():
        (d / rel).write_bytes(data)
    if case.setup:
        case.setup(d)
    args = [a.replace("{dir}", str(d)) for a in case.args]
    target = args.pop(0) if args[:1] == [str(d)] else str(d / "s.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEPLOYER_", "TF_VAR_"))}
    env.update(case.env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run([sys.executable, "-m", "deployer", "validate", target, *args], capture_output=True,
                         text=True, timeout=60, preexec_fn=_limit_memory, env=env, cwd=d)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)  # CPU: load-independent
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    assert elapsed < CPU_SECONDS, f"{name} took {elapsed:.2f}s of CPU"
    if case.ok:
        assert res.returncode == 0 and "valid" in res.stdout, res.stdout + res.stderr
        return
    assert res.returncode == 1, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr[:2000]
    assert lines[0].startswith(case.starts.replace("{dir}", str(d))), lines[0][:500]
    assert case.says in lines[0], lines[0][:500]


def test_the_classes_hold_enough_cases():
    assert len(SPECS) >= 40 and len(VARIABLE_CASES) >= 20 and len(PATH_CASES) >= 15
