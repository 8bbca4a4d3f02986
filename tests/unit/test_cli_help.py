"""`--help` as a Terraform user expects it: every command shows an example, summaries are whole,
and commands that make no AWS call do not offer AWS options."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from deployer.cli import main


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            out += commands(cmd, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


@pytest.mark.parametrize("words", commands(), ids=" ".join)
def test_every_command_has_an_example_in_its_help(words):
    res = CliRunner().invoke(main, [*words, "--help"])
    assert res.exit_code == 0 and "Example: deployer " in res.output, res.output


def test_command_summaries_are_never_cut():
    for words in ([], ["state"], ["sandbox"]):
        listing = CliRunner().invoke(main, [*words, "--help"]).output
        assert "..." not in listing.split("Commands:")[1], listing


@pytest.mark.parametrize("words", [("validate",), ("graph",), ("convert",)], ids=" ".join)
def test_commands_without_aws_calls_offer_no_aws_options(words):
    text = CliRunner().invoke(main, [*words, "--help"]).output
    assert "--profile" not in text and "--sandbox" not in text
