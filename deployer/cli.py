"""The `deployer` command: click commands that parse options, call deployer/workflow.py and print.

One decorator (`command`) gives every command its shared options as one `Options` value and the
one error handler: a DeployerError becomes one line per problem on stderr and exit 1; usage errors
(an unknown option, a bad value) exit 1 too, so exit 2 always means "changes present".
"""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from deployer import secrets
from deployer.errors import DeployerError, Interrupted
from deployer.runtime import Options, load

GC_THRESHOLDS = (50_000, 20, 100)


def _emit_error(lines: list[str]) -> None:
    for line in lines:
        click.echo(secrets.redact(line), err=True)


def _run_guarded(fn: Callable[[], Any], debug: bool) -> Any:
    """Every command ends here: known errors become one line each on stderr and exit 1. Whatever the
    command prints passes through the redaction; with debug, the traceback comes first, redacted too
    (exception messages and chained causes)."""
    from deployer import interrupts

    try:
        with interrupts.handled(), secrets.redacted_output():
            return fn()
    except (click.exceptions.Exit, click.ClickException):
        raise
    except (Interrupted, KeyboardInterrupt) as exc:
        _debug_traceback(exc, debug)
        _emit_error([str(exc) or "interrupted"] if isinstance(exc, Interrupted) else
                    [f"interrupted ({interrupts.signal_name()}): stopped before changing anything more"])
        sys.exit(interrupts.exit_status())
    except DeployerError as exc:
        _debug_traceback(exc, debug)
        _emit_error(exc.lines())
        sys.exit(1)
    except Exception as exc:  # botocore and anything unforeseen: one line, never a traceback
        _debug_traceback(exc, debug)
        from deployer.aws import describe_exception

        _emit_error([f"error: {describe_exception(exc)}"])
        sys.exit(1)


def _debug_traceback(exc: BaseException, debug: bool) -> None:
    if debug:
        click.echo(secrets.redacted_traceback(exc), err=True, nl=False)


SPEC_OPTIONS = (
    click.option("--var", "cli_vars", multiple=True, metavar="NAME=VALUE", help="Set a variable (repeatable)."),
    click.option("--var-file", "var_files", multiple=True, type=click.Path(), help="YAML file of variable values."),
    click.option("--env", "env", default=None, envvar="DEPLOYER_ENV", help="The environment (spec `environments`)."),
    click.option("--region", default=None, help="Default region (overrides the spec and AWS_REGION)."),
    click.option("--stack", "stack_name", default=None, metavar="NAME",
                 help="A CloudFormation template's stack name (default: the file's name)."),
    click.option("--no-color", is_flag=True, help="No colours in output (also NO_COLOR)."),
    click.option("--debug", is_flag=True, help="Show tracebacks and API call counts."),
)


def _aws_options(hidden: bool) -> tuple:
    return (
        click.option("--profile", default=None, hidden=hidden, help="AWS profile (as AWS_PROFILE)."),
        click.option("--sandbox", is_flag=True, hidden=hidden, help="Use the local emulator (started if not running)."),
        click.option("--state-dir", default=None, type=click.Path(), hidden=hidden,
                     help="Local state directory (default ./.deployer)."),
    )


class _Command(click.Command):
    """Keeps the command's own arguments, whose order says which of --var and --var-file came last."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["deployer.args"] = list(args)
        return super().parse_args(ctx, args)


def command(group: click.Group, name: str | None = None, aws: bool = True, path: str | None = "argument",
            **settings: Any) -> Callable:
    """A command taking the shared options (AWS ones hidden where a command makes no AWS call), called
    as fn(opts, **its own options) inside the error handler."""
    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(**kw: Any) -> Any:
            from deployer.spec.variables import command_line_order

            where = kw.pop("path_argument", None) or kw.pop("path", None)
            cli_vars, var_files = list(kw.pop("cli_vars")), list(kw.pop("var_files"))
            args = click.get_current_context().meta.get("deployer.args", [])
            opts = Options(path=where, cli_vars=cli_vars, var_files=var_files,
                           var_order=command_line_order(args, cli_vars, var_files), env=kw.pop("env"), region=kw.pop("region"),
                           stack_name=kw.pop("stack_name"),
                           no_color=kw.pop("no_color"), debug=kw.pop("debug"), profile=kw.pop("profile"),
                           sandbox=kw.pop("sandbox"), state_dir=kw.pop("state_dir"))
            return _run_guarded(lambda: fn(opts, **kw), opts.debug or bool(os.environ.get("DEPLOYER_DEBUG")))

        decorated: Callable = run
        for option in reversed((*SPEC_OPTIONS, *_aws_options(hidden=not aws))):
            decorated = option(decorated)
        if path == "argument":
            decorated = click.argument("path", type=click.Path())(decorated)
        elif path in ("option", "either"):
            decorated = click.option("--path", "path", type=click.Path(), default=".",
                                     help="The stack (default: the current directory).")(decorated)
            if path == "either":  # `state list PATH` as well as `state list --path PATH`
                decorated = click.argument("path_argument", type=click.Path(), required=False)(decorated)
        settings.setdefault("short_help", (fn.__doc__ or "").strip().splitlines()[0])  # whole, never cut
        return group.command(name=name, cls=_Command, **settings)(decorated)
    return wrap


class Main(click.Group):
    """Usage errors exit 1 (click's default 2 would read as "changes present")."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # a command builds its spec, state and plan once and keeps them to the end: the cyclic collector's
        # default pace (every 700 allocations) re-walks that growing heap for nothing, a third of the CPU
        # of validating 5,000 resources
        gc.set_threshold(*GC_THRESHOLDS)
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(*args, **{**kwargs, "standalone_mode": False})
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            _emit_error(["aborted"])
            sys.exit(1)
        except click.ClickException as exc:
            exc.show()
            hint = _terraform_hint(exc, args[0] if args else kwargs.get("args"))
            if hint:
                _emit_error([hint])
            sys.exit(1)


def _terraform_hint(exc: click.ClickException, args: Any) -> str | None:
    """`-var x=1` and other single-dash Terraform spellings: say what deployer calls them."""
    from deployer.spec.suggest import terraform_habit

    ctx = getattr(exc, "ctx", None)
    if not isinstance(exc, click.NoSuchOption) or ctx is None:
        return None
    argv = list(args) if args is not None else sys.argv[1:]
    names = [o for p in ctx.command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")]
    return terraform_habit(argv, names)


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="deployer-aws")
def main() -> None:
    """Declarative deployments to AWS from YAML specs kept in Git."""


def run() -> None:
    """The `deployer` program (and `python -m deployer`): `main`, then an exit without the
    interpreter's teardown. A command keeps its spec, state and plan to the end, and freeing them
    object by object took a tenth of a 5,000-resource plan's wall time; the operating system frees
    them at once. What the interpreter's own exit does first is done here too: other threads that
    are not daemons are waited for, logging is shut down, output is flushed. Tests drive `main`
    (click's CliRunner), which exits the ordinary way."""
    import logging
    import threading

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_status(exc.code)
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (`| head`), or a closed stream
            code = code or 1
    os._exit(code)


def _exit_status(code: object) -> int:
    """What the interpreter makes of sys.exit(code): None is 0, a number itself, anything else is
    printed to stderr and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _debug_calls(aws: Any, debug: bool) -> None:
    if debug:
        for op, n in sorted(aws.log.counts().items()):
            click.echo(secrets.redact(f"api: {op} x{n}"), err=True)


def _confirm(auto_approve: bool, what: str) -> None:
    from deployer.errors import UsageError

    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{what} needs confirmation, but stdin is not a terminal: pass --auto-approve")
    if not click.confirm(f"Do you want to {what}?", default=False):
        raise UsageError(f"{what}: cancelled")


def _emit_plan(plan: Any, fmt: str, graph: Any, no_color: bool) -> None:
    from deployer.render.markdown import render_markdown
    from deployer.render.text import render_plan, use_colour

    if fmt == "json":
        click.echo(plan.dumps(), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(plan, graph), nl=False)
    else:
        click.echo(render_plan(plan, use_colour(no_color)), nl=False)


def _apply_hint(opts: Options, plan_file: str) -> str:
    """The command that applies a saved plan: the flags the plan does not record, repeated (the
    stack path, variables, region and environment are in the plan file)."""
    import shlex

    words = ["deployer", "apply", plan_file]
    if opts.sandbox:
        words.append("--sandbox")
    for flag, value in (("--state-dir", opts.state_dir), ("--profile", opts.profile)):
        if value:
            words += [flag, value]
    hint = f"`{shlex.join(words)}`"
    if any(secrets.is_sensitive(v.partition("=")[2]) for v in opts.cli_vars):
        hint += ", passing the sensitive --var values again (a plan file never holds them)"
    return hint


def _print_outputs(outputs: dict[str, Any]) -> None:
    import json

    if outputs:
        click.echo("Outputs:")
    for k, v in outputs.items():
        click.echo(secrets.redact(f"  {k} = {v if isinstance(v, str) else json.dumps(v)}"))


# --- commands ---------------------------------------------------------------------------------------

@command(main, aws=False)
def validate(opts: Options) -> None:
    """Check a stack's files without calling AWS (every environment, without --env).

    Example: deployer validate stacks/webapp
    """
    from deployer.runtime import load_every_environment

    warned: set[str] = set()
    for stack in load_every_environment(opts):
        for warning in stack.warnings:
            if warning not in warned:
                warned.add(warning)
                click.echo(f"warning: {warning}", err=True)
        click.echo(f"{stack.name}: valid ({len(stack.resources)} resources, {len(stack.outputs)} outputs)")


@command(main, aws=False)
def convert(opts: Options) -> None:
    """Print a CloudFormation template (PATH) as a deployer spec.

    Example: deployer convert template.yaml --stack webapp > stacks/webapp/stack.yaml
    """
    from deployer import cfn
    from deployer.cfn.convert import convert as convert_template
    from deployer.errors import UsageError

    if not cfn.is_template(opts.path):
        raise UsageError(f"{opts.path}: not a CloudFormation template (a YAML or JSON file whose top level "
                         "has `Resources`)")
    click.echo(convert_template(opts.path, opts.cli_vars, opts.var_files, opts.region, stack_name=opts.stack_name),
               nl=False)


@command(main, aws=False)
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid", "json"]), default="dot", show_default=True)
def graph(opts: Options, fmt: str) -> None:
    """Print the dependency graph.

    Example: deployer graph stacks/webapp --format mermaid
    """
    from deployer.graph import build_graph
    from deployer.render import graph as render_graph

    g = build_graph(load(opts))
    renderer = {"dot": render_graph.to_dot, "mermaid": render_graph.to_mermaid, "json": render_graph.to_json}[fmt]
    click.echo(renderer(g), nl=False)


def _plan_graph(session: Any) -> Any:
    from deployer.graph import build_graph

    return build_graph(session.stack)


@command(main)
@click.option("-o", "--out", "out", type=click.Path(), help="Save the plan (JSON) to apply exactly later.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option("--target", "targets", multiple=True, help="Only this resource and what it depends on.")
@click.option("--exclude", "excludes", multiple=True, help="Leave out this resource and what depends on it.")
@click.option("--destroy", "destroying", is_flag=True, help="Plan deleting every resource (what `destroy` would do).")
def plan(opts: Options, out: str | None, fmt: str, detailed_exitcode: bool, targets: tuple, excludes: tuple,
         destroying: bool) -> None:
    """Show what apply would change (no changes are made).

    Example: deployer plan stacks/webapp -o webapp.plan.json
    """
    from deployer.workflow import Session, make_plan

    session = Session.open(opts)
    planned = make_plan(session, list(targets), list(excludes), destroy=destroying)
    _emit_plan(planned, fmt, _plan_graph(session), opts.no_color)
    if out:
        from pathlib import Path

        Path(out).write_text(planned.dumps())
        if fmt == "text":
            click.echo(f"Saved the plan to {out}; apply it with {_apply_hint(opts, out)}.")
    _debug_calls(session.aws, opts.debug)
    if detailed_exitcode and planned.has_changes:
        sys.exit(2)


@command(main)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--no-rollback", is_flag=True, help="On failure, leave completed steps in place.")
@click.option("--target", "targets", multiple=True, help="Only this resource and what it depends on.")
@click.option("--exclude", "excludes", multiple=True, help="Leave out this resource and what depends on it.")
def apply(opts: Options, auto_approve: bool, parallelism: int, no_rollback: bool, targets: tuple,
          excludes: tuple) -> None:
    """Apply a stack (PATH) or a saved plan (PLANFILE).

    Example: deployer apply stacks/webapp --auto-approve
    """
    from dataclasses import replace

    from deployer.render.text import render_plan, use_colour
    from deployer.workflow import (
        Session,
        apply_progress,
        check_saved,
        load_saved,
        make_plan,
        read_plan_file,
        refuse_blocked,
    )

    saved = load_saved(opts.path) if read_plan_file(opts.path) is not None else None
    if saved is not None:
        src = saved.source
        opts = replace(opts, path=src["path"], cli_vars=list(src.get("vars", [])) + opts.cli_vars,
                       var_files=list(src.get("var_files", [])) + opts.var_files,
                       region=src.get("region") or opts.region, stack_name=src.get("stack_name") or opts.stack_name,
                       env=src.get("env") or opts.env)
    session = Session.open(opts)
    with session.locked("apply"):
        if saved is not None:
            planned = check_saved(session, saved)
            auto_approve = True  # approving the saved plan was the review
        else:
            planned = make_plan(session, list(targets), list(excludes), applying=True)
        click.echo(render_plan(planned, use_colour(opts.no_color)), nl=False)
        refuse_blocked(planned)
        if planned.has_changes:
            _confirm(auto_approve, "apply these changes")
        state, seconds = apply_progress(session, planned, parallelism, not no_rollback, fresh_reads=saved is None)
    if planned.has_changes:
        s = planned.summary()
        click.echo(f"Apply complete: {s['create']} created, {s['update']} updated, {s['replace']} replaced, "
                   f"{s['delete']} deleted in {seconds:.1f}s.")
    _print_outputs(state.outputs)
    _debug_calls(session.aws, opts.debug)


@command(main)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--target", "targets", multiple=True, help="Only this resource and what depends on it.")
@click.option("--exclude", "excludes", multiple=True, help="Keep this resource and what it depends on.")
def destroy(opts: Options, auto_approve: bool, parallelism: int, targets: tuple, excludes: tuple) -> None:
    """Delete every resource of the stack, in reverse dependency order.

    Example: deployer destroy stacks/webapp --auto-approve
    """
    from deployer.render.text import render_plan, use_colour
    from deployer.workflow import Session, apply_progress, make_plan, refuse_blocked

    session = Session.open(opts)
    with session.locked("destroy"):
        planned = make_plan(session, list(targets), list(excludes), destroy=True)
        if not planned.has_changes:
            click.echo(f"Nothing to destroy: stack '{planned.stack}' has no resources in its state.")
            return
        click.echo(render_plan(planned, use_colour(opts.no_color)), nl=False)
        refuse_blocked(planned)
        _confirm(auto_approve, "destroy these resources")
        state, seconds = apply_progress(session, planned, parallelism, True)
        if not state.resources and state.outputs:
            state.outputs = {}
            state.serial += 1
            session.backend.write(state)
    deleted = sum(1 for s in planned.steps if s.action == "delete")
    click.echo(f"Destroy complete: {deleted} deleted in {seconds:.1f}s.")
    _debug_calls(session.aws, opts.debug)


@command(main)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there is drift, 0 when none.")
def drift(opts: Options, fmt: str, detailed_exitcode: bool) -> None:
    """Compare live resources with what the last apply set.

    Example: deployer drift stacks/webapp --detailed-exitcode
    """
    from deployer.workflow import Session
    from deployer.workflow import drift as find_drift

    session = Session.open(opts)
    report = find_drift(session)
    _emit_plan(report, fmt, None, opts.no_color)
    _debug_calls(session.aws, opts.debug)
    if detailed_exitcode and report.has_changes:
        sys.exit(2)


@command(main)
@click.option("--json", "as_json", is_flag=True, help="Print the outputs as a JSON object.")
def outputs(opts: Options, as_json: bool) -> None:
    """Print the stack's outputs from the last apply.

    Example: deployer outputs stacks/webapp --json
    """
    import json

    from deployer.workflow import open_state

    state = open_state(opts)[1]
    if as_json:
        click.echo(secrets.redact(json.dumps(state.outputs, indent=2, default=str)))
    else:
        for k, v in state.outputs.items():
            click.echo(secrets.redact(f"{k} = {v if isinstance(v, str) else json.dumps(v)}"))


@command(main, name="import")
@click.argument("name", required=False)
@click.argument("physical_id", required=False)
@click.option("--from-cloudformation", "cfn_stack", metavar="STACK",
              help="Adopt every resource this CloudFormation stack holds that the spec declares.")
def import_(opts: Options, name: str | None, physical_id: str | None, cfn_stack: str | None) -> None:
    """Adopt existing resources into the state (tagged, recorded), then plan.

    Example: deployer import stacks/webapp AssetsBucket my-existing-bucket

    Example: deployer import template.yaml --from-cloudformation my-cfn-stack
    """
    from deployer.errors import UsageError
    from deployer.render.text import render_plan, use_colour
    from deployer.workflow import Session, adopt, adopt_stack, make_plan

    if bool(cfn_stack) == bool(name and physical_id) or (name and not physical_id):
        raise UsageError("import takes NAME PHYSICAL_ID, or --from-cloudformation STACK")
    session = Session.open(opts)
    with session.locked("import"):
        if cfn_stack:
            from deployer.cfn.adopt import stack_resources

            held = stack_resources(session.aws, session.stack.region, cfn_stack)
            adopted, skipped = adopt_stack(session, [(r.logical_id, r.type, r.physical_id) for r in held])
        else:
            adopt(session, name, physical_id)
            adopted, skipped = [f"{name} ({physical_id})"], []
    for line in adopted:
        click.echo(f"Imported {line}.")
    for line in skipped:
        click.echo(f"Not imported: {line}", err=True)
    planned = make_plan(session)
    click.echo(render_plan(planned, use_colour(opts.no_color)), nl=False)


@main.command(short_help="Print the JSON Schema of spec files, for editors.")
def schema() -> None:
    """Print the JSON Schema of spec files, for editors (docs/editors.md).

    Example: deployer schema > deployer.schema.json
    """
    from deployer.render.editor_schema import dumps

    click.echo(dumps(), nl=False)


@main.group()
def state() -> None:
    """Inspect and repair the state."""


@command(state, name="list", path="either")
def state_list(opts: Options) -> None:
    """List the resources in the state.

    Example: deployer state list --path stacks/webapp
    """
    from deployer.workflow import open_state

    st = open_state(opts)[1]
    for name, r in sorted(st.resources.items()):
        click.echo(f"{name}\t{r.type}\t{r.physical_id}\t{r.region}" + (f"\t(pending {r.pending})" if r.pending else ""))


@command(state, name="show", path="option")
@click.argument("name")
def state_show(opts: Options, name: str) -> None:
    """Show one resource's recorded properties and attributes.

    Example: deployer state show AssetsBucket --path stacks/webapp
    """
    import json

    from deployer.errors import StateError
    from deployer.workflow import open_state

    st = open_state(opts)[1]
    if name not in st.resources:
        raise StateError(f"no resource '{name}' in the state")
    click.echo(secrets.redact(json.dumps({name: st.resources[name].to_json()}, indent=2, default=str)))


@command(state, name="rm", path="option")
@click.argument("name")
def state_rm(opts: Options, name: str) -> None:
    """Forget a resource (it stays in AWS).

    Example: deployer state rm AssetsBucket --path stacks/webapp
    """
    from deployer.errors import StateError
    from deployer.workflow import open_state

    backend, st = open_state(opts)
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


@command(state, name="rebuild")
def state_rebuild(opts: Options) -> None:
    """Rebuild a lost state from ownership tags and the spec's names.

    Example: deployer state rebuild stacks/webapp
    """
    from deployer.workflow import Session, rebuild

    session = Session.open(opts)
    with session.locked("state rebuild"):
        found, missing = rebuild(session)
    for note in session.notes:
        click.echo(note)
    for name, pid in sorted(found.items()):
        click.echo(f"found {name}: {pid}")
    for name, why in sorted(missing.items()):
        click.echo(f"not found {name}: {why}")
    total = len(found) + len(missing)
    click.echo(f"Rebuilt the state of '{session.stack.name}' with {len(found)} of {total} resources"
               + (f"; the next plan creates the {len(missing)} not found." if missing else "."))


@command(state, name="unlock", path="option")
@click.argument("lock_id")
def state_unlock(opts: Options, lock_id: str) -> None:
    """Break a stale lock (give the LOCK_ID the error message named).

    Example: deployer state unlock host-1234-1700000000 --path stacks/webapp
    """
    from deployer.workflow import open_state

    backend, _ = open_state(opts)
    click.echo(f"Released lock {lock_id}: {backend.force_unlock(lock_id)}.")


@main.group(name="sandbox")
def sandbox_group() -> None:
    """The local AWS emulator (moto) used by --sandbox."""


def _sandbox_command(name: str) -> Callable:
    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(state_dir: str | None) -> Any:
            return _run_guarded(lambda: fn(Options(state_dir=state_dir).state_root), False)
        run = click.option("--state-dir", default=None, type=click.Path(),
                           help="Where the sandbox's address is kept (default ./.deployer).")(run)
        return sandbox_group.command(name=name)(run)
    return wrap


@_sandbox_command("start")
def sandbox_start(root: str) -> None:
    """Start the sandbox in the background (no-op when running).

    Example: deployer sandbox start
    """
    from deployer import sandbox

    info = sandbox.start(root)
    click.echo(f"sandbox running at {info['url']} (pid {info['pid']})")


@_sandbox_command("stop")
def sandbox_stop(root: str) -> None:
    """Stop the sandbox (its resources are lost).

    Example: deployer sandbox stop
    """
    from deployer import sandbox

    click.echo("sandbox stopped" if sandbox.stop(root) else "sandbox was not running")


@_sandbox_command("status")
def sandbox_status(root: str) -> None:
    """Say whether the sandbox runs, and where. Exit 1 when it does not.

    Example: deployer sandbox status
    """
    from deployer import sandbox

    info = sandbox.status(root)
    if info:
        click.echo(f"sandbox running at {info['url']} (pid {info['pid']})")
    else:
        click.echo("sandbox not running")
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
