"""The `deployer` command: click commands that call into the engine, and the one error handler."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

import click

from deployer import secrets
from deployer.errors import DeployerError, Interrupted


def _emit_error(lines: list[str]) -> None:
    for line in lines:
        click.echo(secrets.redact(line), err=True)


def handle_errors(fn: Callable) -> Callable:
    """Every command ends here: known errors become one line each on stderr and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        debug = kwargs.get("debug") or os.environ.get("DEPLOYER_DEBUG")
        try:
            return fn(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except (Interrupted, KeyboardInterrupt) as exc:
            if debug:
                raise
            _emit_error([str(exc) or "interrupted"] if isinstance(exc, Interrupted) else ["interrupted"])
            sys.exit(130)
        except DeployerError as exc:
            if debug:
                raise
            _emit_error(exc.lines())
            sys.exit(1)
        except Exception as exc:  # botocore and anything unforeseen: one line, never a traceback
            if debug:
                raise
            from deployer.aws import describe_exception

            _emit_error([f"error: {describe_exception(exc)}"])
            sys.exit(1)

    return wrapper


def spec_options(fn: Callable) -> Callable:
    """Options every command that loads a stack takes."""
    decorators = [
        click.option("--var", "cli_vars", multiple=True, metavar="NAME=VALUE", help="Set a variable."),
        click.option("--var-file", "var_files", multiple=True, type=click.Path(), help="YAML file of variable values."),
        click.option("--region", default=None, help="Default region (overrides the spec and AWS_REGION)."),
        click.option("--no-color", is_flag=True, help="No colours in output (also NO_COLOR)."),
        click.option("--debug", is_flag=True, help="Show tracebacks and API call counts."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def aws_options(fn: Callable) -> Callable:
    """Options every command that talks to AWS takes."""
    decorators = [
        click.option("--profile", default=None, help="AWS profile (as AWS_PROFILE)."),
        click.option("--sandbox", is_flag=True, help="Use the local emulator (started if not running)."),
        click.option("--state-dir", default=None, type=click.Path(), help="Local state directory (default ./.deployer)."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="deployer")
def main() -> None:
    """Declarative deployments to AWS from YAML specs."""


@main.command()
@click.argument("path", type=click.Path())
@spec_options
@handle_errors
def validate(path, cli_vars, var_files, region, no_color, debug):
    """Check a stack's files without calling AWS."""
    from deployer.spec import load_and_check

    stack = load_and_check(path, list(cli_vars), list(var_files), region)
    click.echo(f"{stack.name}: valid ({len(stack.resources)} resources, {len(stack.outputs)} outputs)")


@main.command()
@click.argument("path", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid", "json"]), default="dot", show_default=True)
@spec_options
@handle_errors
def graph(path, fmt, cli_vars, var_files, region, no_color, debug):
    """Print the dependency graph."""
    from deployer.graph import build_graph
    from deployer.render import graph as render_graph
    from deployer.spec import load_and_check

    stack = load_and_check(path, list(cli_vars), list(var_files), region)
    g = build_graph(stack)
    renderer = {"dot": render_graph.to_dot, "mermaid": render_graph.to_mermaid, "json": render_graph.to_json}[fmt]
    click.echo(renderer(g), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
