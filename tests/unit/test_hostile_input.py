"""Hostile input: each ends in a one-line error, within 2 seconds, with bounded memory (a real
`deployer validate` process under a 1 GiB address-space limit)."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

LIMIT_BYTES = 1 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def billion_laughs() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\nstack: demo\n").encode()


CASES = {
    "alias-bomb": billion_laughs(),
    "deep-flow-nesting": b"stack: demo\nx: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "deep-block-nesting": b"stack: demo\n" + b"".join(b"  " * i + b"k:\n" for i in range(3000)),
    "ten-megabytes": b"stack: demo\nresources:\n" + b"#" * (10 * 1024 * 1024) + b"\n",
    "binary": bytes(range(256)) * 64,
    "not-utf8": b"stack: demo\nregion: \xff\xfe\n",
    "jinja-mro": b"stack: demo\nregion: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\n",
    "jinja-globals": b"stack: demo\nregion: \"{{ self.__init__.__globals__ }}\"\n",
    "jinja-config": b"stack: demo\nregion: \"{{ config.items() }}\"\n",
    "jinja-cycler": b"stack: demo\nregion: \"{{ cycler.__init__.__globals__.os.popen('id').read() }}\"\n",
    "jinja-import": b"stack: demo\n{% import 'os' as os %}\n",
    "jinja-include": b"stack: demo\n{% include '/etc/passwd' %}\n",
    "jinja-huge-loop": b"stack: demo\n{% for i in range(10**9) %}{% endfor %}\n",
    "jinja-big-string": b"stack: demo\nregion: \"{{ 'x' * 10**10 }}\"\n",
    "ref-shell": b"stack: demo\nresources:\n  A:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${A; rm -rf /}'}\n",
    "ref-path": b"stack: demo\nresources:\n  A:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${../../etc/passwd}'}\n",
    "ref-python": b"stack: demo\nresources:\n  A:\n    type: AWS::SQS::Queue\n    properties: {QueueName: \"${__import__('os')}\"}\n",
    "ref-dunder": b"stack: demo\nresources:\n  A:\n    type: AWS::SQS::Queue\n  B:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${A.__class__}'}\n",
    "python-tag": b"stack: !!python/object/apply:os.system ['id']\n",
    "many-documents": b"stack: demo\n" + b"---\na: 1\n" * 100_000,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_ends_in_a_one_line_error_fast(tmp_path, name):
    f = tmp_path / "s.yaml"
    f.write_bytes(CASES[name])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run([sys.executable, "-m", "deployer", "validate", str(f)], capture_output=True, text=True,
                         timeout=30, preexec_fn=_limit_memory)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)  # CPU: load-independent
    assert res.returncode == 1, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr[:2000]
    assert "Traceback" not in res.stderr and lines[0].startswith(str(f))
    assert elapsed < 2.0, f"{name} took {elapsed:.2f}s of CPU"
