"""Helpers for the template tests: write a template, load it, read problems back as text."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from deployer.errors import SpecError
from deployer.spec.load import load_stack
from deployer.spec.model import Stack


def write(tmp_path: Path, text: str, name: str = "template.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def load(tmp_path: Path, text: str, *, cli_vars: list[str] | None = None, name: str = "template.yaml",
         environ: dict[str, str] | None = None, region: str | None = "us-east-1", **kw) -> Stack:
    return load_stack(write(tmp_path, text, name), cli_vars or [], [], region, environ or {}, **kw)


def errors(tmp_path: Path, text: str, **kw) -> list[str]:
    """Every problem loading the template reports, as `FILE:LINE:COL: PATH: message` with FILE shortened."""
    with pytest.raises(SpecError) as e:
        load(tmp_path, text, **kw)
    return [str(p).replace(str(tmp_path) + "/", "") for p in e.value.problems]


def resource(text: str) -> str:
    """A template with one queue whose properties are `text` (indented under Properties)."""
    body = textwrap.indent(textwrap.dedent(text).strip("\n"), "      ")
    return f"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n{body}\n"


OTHER = "  Other: {Type: AWS::SQS::Queue}\n"


def props(tmp_path: Path, text: str, head: str = "", extra: str = OTHER, **kw) -> dict:
    """The properties of Q; the template also has the queue `Other` (or `extra` resources) to refer to."""
    return load(tmp_path, textwrap.dedent(head).lstrip("\n") + resource(text) + extra, **kw).resources["Q"].properties
