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
@aws_options
@handle_errors
def validate(path, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Check a stack's files without calling AWS (--profile and --sandbox are accepted and unused)."""
    from deployer.spec import load_and_check

    stack = load_and_check(path, list(cli_vars), list(var_files), region)
    click.echo(f"{stack.name}: valid ({len(stack.resources)} resources, {len(stack.outputs)} outputs)")


@main.command()
@click.argument("path", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid", "json"]), default="dot", show_default=True)
@spec_options
@aws_options
@handle_errors
def graph(path, fmt, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Print the dependency graph."""
    from deployer.graph import build_graph
    from deployer.render import graph as render_graph
    from deployer.spec import load_and_check

    stack = load_and_check(path, list(cli_vars), list(var_files), region)
    g = build_graph(stack)
    renderer = {"dot": render_graph.to_dot, "mermaid": render_graph.to_mermaid, "json": render_graph.to_json}[fmt]
    click.echo(renderer(g), nl=False)


def _opts(path, cli_vars=(), var_files=(), region=None, profile=None, sandbox=False, state_dir=None,
          no_color=False, debug=False):
    from deployer.runtime import Options

    return Options(path=path, cli_vars=list(cli_vars), var_files=list(var_files), region=region, profile=profile,
                   sandbox=sandbox, state_dir=state_dir, no_color=no_color, debug=debug)


def _emit_plan(plan, fmt: str, graph, no_color: bool) -> None:
    from deployer.render.markdown import render_markdown
    from deployer.render.text import render_plan, use_colour

    if fmt == "json":
        click.echo(plan.dumps(), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(plan, graph), nl=False)
    else:
        click.echo(render_plan(plan, use_colour(no_color)), nl=False)


def _debug_calls(session, debug: bool) -> None:
    if debug:
        for op, n in sorted(session.aws.log.counts().items()):
            click.echo(f"api: {op} x{n}", err=True)


def _confirm(auto_approve: bool, what: str) -> None:
    from deployer.errors import UsageError

    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{what} needs confirmation, but stdin is not a terminal: pass --auto-approve")
    if not click.confirm(f"Do you want to {what}?", default=False):
        raise UsageError(f"{what}: cancelled")


@main.command()
@click.argument("path", type=click.Path())
@click.option("-o", "--out", "out", type=click.Path(), help="Save the plan (JSON) to apply exactly later.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option("--target", "targets", multiple=True, help="Only this resource and what it depends on.")
@click.option("--exclude", "excludes", multiple=True, help="Leave out this resource and what depends on it.")
@spec_options
@aws_options
@handle_errors
def plan(path, out, fmt, detailed_exitcode, targets, excludes, cli_vars, var_files, region, no_color, debug,
         profile, sandbox, state_dir):
    """Show what apply would change (no changes are made)."""
    from deployer.workflow import Session, make_plan

    session = Session.open(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))
    _, planned = make_plan(session, list(targets), list(excludes))
    _emit_plan(planned.plan, fmt, planned.graph, no_color)
    if out:
        from pathlib import Path

        Path(out).write_text(planned.plan.dumps())
        if fmt == "text":
            click.echo(f"Saved the plan to {out}; apply it with `deployer apply {out}`.")
    _debug_calls(session, debug)
    if detailed_exitcode and planned.plan.has_changes:
        sys.exit(2)


@main.command()
@click.argument("path", type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--no-rollback", is_flag=True, help="On failure, leave completed steps in place.")
@click.option("--target", "targets", multiple=True, help="Only this resource and what it depends on.")
@click.option("--exclude", "excludes", multiple=True, help="Leave out this resource and what depends on it.")
@spec_options
@aws_options
@handle_errors
def apply(path, auto_approve, parallelism, no_rollback, targets, excludes, cli_vars, var_files, region, no_color,
          debug, profile, sandbox, state_dir):
    """Apply a stack (PATH) or a saved plan (PLANFILE)."""
    from deployer.render.text import render_plan, use_colour
    from deployer.workflow import Session, check_saved, make_plan, read_plan_file, run_apply

    saved = read_plan_file(path)
    if saved is not None:
        src = saved.get("source") or {}
        if src.get("path") is None:
            from deployer.errors import UsageError

            raise UsageError(f"{path}: this plan file does not say which stack it was made from")
        opts = _opts(src["path"], list(src.get("vars", [])) + list(cli_vars), list(src.get("var_files", [])) +
                     list(var_files), src.get("region") or region, profile, sandbox, state_dir, no_color, debug)
        targets, excludes = src.get("targets", []), src.get("excludes", [])
        auto_approve = True  # approving the saved plan was the review
    else:
        opts = _opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug)
    session = Session.open(opts)
    with session.locked("apply"):
        planner, planned = make_plan(session, list(targets), list(excludes),
                                     destroy=bool(saved and saved.get("source", {}).get("destroy")))
        if saved is not None:
            check_saved(saved, planned.plan)
        click.echo(render_plan(planned.plan, use_colour(no_color)), nl=False)
        if not planned.plan.has_changes:
            from deployer.apply import Applier, resolve_outputs

            applier = Applier(planner, planned, session.backend.write)
            applier.settle_interrupted()  # an interrupted run's journal, when nothing is left to do
            outputs = resolve_outputs(applier)
            if outputs != applier.state.outputs:
                applier.state.outputs = outputs
                applier.state.serial += 1
                session.backend.write(applier.state)
        else:
            _confirm(auto_approve, "apply these changes")
            run_apply(session, planner, planned, parallelism, not no_rollback)
    _debug_calls(session, debug)


@main.command()
@click.argument("path", type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--target", "targets", multiple=True, help="Only this resource and what depends on it.")
@click.option("--exclude", "excludes", multiple=True, help="Keep this resource and what it depends on.")
@spec_options
@aws_options
@handle_errors
def destroy(path, auto_approve, parallelism, targets, excludes, cli_vars, var_files, region, no_color, debug,
            profile, sandbox, state_dir):
    """Delete every resource of the stack, in reverse dependency order."""
    from deployer.render.text import render_plan, use_colour
    from deployer.workflow import Session, make_plan, run_apply

    session = Session.open(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))
    with session.locked("destroy"):
        planner, planned = make_plan(session, destroy=True)
        if targets or excludes:
            import networkx as nx

            from deployer.errors import UsageError

            g = planned.graph
            unknown = [n for n in (*targets, *excludes) if n not in g]
            if unknown:
                raise UsageError(f"--target/--exclude name unknown resources: {', '.join(unknown)}")
            keep = set(g.nodes) if not targets else set().union(*({t} | nx.descendants(g, t) for t in targets))
            for x in excludes:  # what stays must keep what it depends on
                keep -= {x} | nx.ancestors(g, x)
            planned.plan.actions = [a for a in planned.plan.actions if a.name in keep]
            planned.plan.warnings.append("this destroy is partial (--target/--exclude)")
        click.echo(render_plan(planned.plan, use_colour(no_color)), nl=False)
        if planned.plan.has_changes:
            _confirm(auto_approve, "destroy these resources")
            state = run_apply(session, planner, planned, parallelism, True)
            if not state.resources:
                state.outputs = {}
                session.backend.write(state)
    _debug_calls(session, debug)


@main.command()
@click.argument("path", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there is drift, 0 when none.")
@spec_options
@aws_options
@handle_errors
def drift(path, fmt, detailed_exitcode, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Compare live resources with what the last apply set."""
    from deployer.workflow import Session
    from deployer.workflow import drift as find_drift

    session = Session.open(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))
    report = find_drift(session)
    _emit_plan(report, fmt, None, no_color)
    _debug_calls(session, debug)
    if detailed_exitcode and report.has_changes:
        sys.exit(2)


@main.command()
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the outputs as a JSON object.")
@spec_options
@aws_options
@handle_errors
def outputs(path, as_json, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Print the stack's outputs from the last apply."""
    import json

    from deployer.workflow import open_state

    state = open_state(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))[1]
    if as_json:
        click.echo(secrets.redact(json.dumps(state.outputs, indent=2, default=str)))
    else:
        for k, v in state.outputs.items():
            click.echo(secrets.redact(f"{k} = {v if isinstance(v, str) else json.dumps(v)}"))


@main.command(name="import")
@click.argument("path", type=click.Path())
@click.argument("name")
@click.argument("physical_id")
@spec_options
@aws_options
@handle_errors
def import_(path, name, physical_id, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Adopt an existing resource as NAME: read it, tag it, record it, show the plan to align it."""
    from deployer.render.text import render_plan, use_colour
    from deployer.workflow import Session, adopt, make_plan

    session = Session.open(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))
    with session.locked("import"):
        adopt(session, name, physical_id)
    _, planned = make_plan(session)
    click.echo(f"Imported {name} ({physical_id}).")
    click.echo(render_plan(planned.plan, use_colour(no_color)), nl=False)


@main.command()
@handle_errors
def schema(debug: bool = False):
    """Print the JSON Schema of spec files (for editors: see docs/editors.md)."""
    from deployer.render.editor_schema import dumps

    click.echo(dumps(), nl=False)


@main.group()
def state():
    """Inspect and repair the state."""


@state.command(name="list")
@click.argument("path", type=click.Path(), default=".")
@spec_options
@aws_options
@handle_errors
def state_list(path, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """List the resources in the state."""
    from deployer.workflow import open_state

    st = open_state(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))[1]
    for name, r in sorted(st.resources.items()):
        click.echo(f"{name}\t{r.type}\t{r.physical_id}\t{r.region}" + (f"\t(pending {r.pending})" if r.pending else ""))


@state.command(name="show")
@click.argument("name")
@click.option("--path", "path", type=click.Path(), default=".", help="The stack (default: current directory).")
@spec_options
@aws_options
@handle_errors
def state_show(name, path, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Show one resource's recorded properties and attributes."""
    import json

    from deployer.errors import StateError
    from deployer.workflow import open_state

    st = open_state(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))[1]
    if name not in st.resources:
        raise StateError(f"no resource '{name}' in the state")
    click.echo(secrets.redact(json.dumps({name: st.resources[name].to_json()}, indent=2, default=str)))


@state.command(name="rm")
@click.argument("name")
@click.option("--path", "path", type=click.Path(), default=".", help="The stack (default: current directory).")
@spec_options
@aws_options
@handle_errors
def state_rm(name, path, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Forget a resource (it stays in AWS)."""
    from deployer.errors import StateError
    from deployer.workflow import open_state

    backend, st = open_state(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))
    if name not in st.resources:
        raise StateError(f"no resource '{name}' in the state")
    backend.lock("state rm")
    try:
        st = backend.read()
        st.resources.pop(name, None)
        st.serial += 1
        backend.write(st)
    finally:
        backend.unlock()
    click.echo(f"Removed {name} from the state (the resource itself was not touched).")


@state.command(name="rebuild")
@click.argument("path", type=click.Path())
@spec_options
@aws_options
@handle_errors
def state_rebuild(path, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Reconstruct a lost state from ownership tags and the names in the spec."""
    from deployer.workflow import Session, rebuild

    session = Session.open(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))
    with session.locked("state rebuild"):
        found = rebuild(session)
    for name, pid in sorted(found.items()):
        click.echo(f"found {name}: {pid}")
    click.echo(f"Rebuilt the state of '{session.stack.name}' with {len(found)} resources.")


@state.command(name="unlock")
@click.argument("lock_id")
@click.option("--path", "path", type=click.Path(), default=".", help="The stack (default: current directory).")
@spec_options
@aws_options
@handle_errors
def state_unlock(lock_id, path, cli_vars, var_files, region, no_color, debug, profile, sandbox, state_dir):
    """Break a stale lock (give the LOCK_ID the error message named)."""
    from deployer.errors import StateError
    from deployer.workflow import open_state

    backend, _ = open_state(_opts(path, cli_vars, var_files, region, profile, sandbox, state_dir, no_color, debug))
    if not backend.force_unlock(lock_id):
        raise StateError(f"no lock with id {lock_id}")
    click.echo(f"Released lock {lock_id}.")


@main.group(name="sandbox")
def sandbox_group():
    """The local AWS emulator (moto) used by --sandbox."""


@sandbox_group.command(name="start")
@click.option("--state-dir", default=None, type=click.Path())
@handle_errors
def sandbox_start(state_dir):
    """Start the sandbox in the background (no-op when running)."""
    from deployer import sandbox
    from deployer.runtime import Options

    info = sandbox.start(Options(state_dir=state_dir).state_root)
    click.echo(f"sandbox running at {info['url']} (pid {info['pid']})")


@sandbox_group.command(name="stop")
@click.option("--state-dir", default=None, type=click.Path())
@handle_errors
def sandbox_stop(state_dir):
    """Stop the sandbox (its resources are lost)."""
    from deployer import sandbox
    from deployer.runtime import Options

    click.echo("sandbox stopped" if sandbox.stop(Options(state_dir=state_dir).state_root) else "sandbox was not running")


@sandbox_group.command(name="status")
@click.option("--state-dir", default=None, type=click.Path())
@handle_errors
def sandbox_status(state_dir):
    """Say whether the sandbox runs, and where. Exit 1 when it does not."""
    from deployer import sandbox
    from deployer.runtime import Options

    info = sandbox.status(Options(state_dir=state_dir).state_root)
    if info:
        click.echo(f"sandbox running at {info['url']} (pid {info['pid']})")
    else:
        click.echo("sandbox not running")
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
