"""The command flows (plan, apply, destroy, drift) over the engine's modules."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from deployer import secrets
from deployer.apply import Applier, resolve_outputs
from deployer.aws import Aws
from deployer.diff import compare
from deployer.errors import PlanError, StateError
from deployer.plan import Action, Plan, comparable
from deployer.planner import Planned, Planner, fingerprint
from deployer.runtime import Options, backend_for, load, make_aws
from deployer.spec.model import Stack
from deployer.state.model import State


@dataclass
class Session:
    """One command's stack, AWS access and state backend."""

    opts: Options
    stack: Stack
    aws: Aws
    backend: Any

    @classmethod
    def open(cls, opts: Options) -> Session:
        stack = load(opts)
        aws = make_aws(opts)
        return cls(opts, stack, aws, backend_for(stack, opts, aws))

    def planner(self, state: State | None = None) -> Planner:
        return Planner(self.stack, self.aws, state if state is not None else self.backend.read())

    @contextmanager
    def locked(self, command: str) -> Iterator[None]:
        self.backend.lock(command)
        try:
            yield
        finally:
            self.backend.unlock()


def make_plan(session: Session, targets: list[str] | None = None, excludes: list[str] | None = None,
              destroy: bool = False) -> tuple[Planner, Planned]:
    planner = session.planner()
    planned = planner.make(targets, excludes, destroy=destroy)
    opts = session.opts
    planned.plan.source = {"path": opts.path, "vars": _public_vars(opts.cli_vars), "var_files": opts.var_files,
                           "region": opts.region, "targets": targets or [], "excludes": excludes or [],
                           "destroy": destroy}
    return planner, planned


def _public_vars(cli_vars: list[str]) -> list[str]:
    return [v for v in cli_vars if not secrets.is_sensitive(v.partition("=")[2])]


def check_saved(saved: dict[str, Any], fresh: Plan) -> None:
    """Refuse a saved plan when the state or any planned resource changed since it was made."""
    now = fresh.to_json()
    problems: list[str] = []
    if saved.get("state") != now.get("state"):
        problems.append(f"the state changed (serial {saved.get('state', {}).get('serial')} -> "
                        f"{now['state']['serial']})")
    old_fp, new_fp = saved.get("fingerprints", {}), now.get("fingerprints", {})
    for name in sorted(set(old_fp) | set(new_fp)):
        if old_fp.get(name) != new_fp.get(name):
            problems.append(f"{name} changed outside this plan since it was made")
    if not problems and comparable(saved) != comparable(now):
        problems.append("the spec or its variables no longer produce this plan")
    if problems:
        raise PlanError("the saved plan is stale and was not applied: " + "; ".join(problems)
                        + ". Run `deployer plan` again.")


def read_plan_file(path: str) -> dict[str, Any] | None:
    """The saved plan at path, or None when path is not a plan file (a stack file or directory)."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(1)
            if head != "{":
                return None
            fh.seek(0)
            doc = json.load(fh)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) and "format_version" in doc and "actions" in doc else None


def run_apply(session: Session, planner: Planner, planned: Planned, parallelism: int, rollback: bool) -> State:
    """Apply a plan (the caller holds the state lock); write outputs; return the final state."""
    from deployer.render.progress import Progress
    from deployer.render.text import use_colour

    start = time.monotonic()
    with Progress(colour=use_colour(session.opts.no_color)) as progress:
        applier = Applier(planner, planned, session.backend.write, parallelism=parallelism, rollback=rollback,
                          on_event=progress)
        state = applier.run()
    state.outputs = resolve_outputs(applier)
    state.serial += 1
    session.backend.write(state)
    s = planned.plan.summary()
    click.echo(f"Apply complete: {s['create']} created, {s['update']} updated, {s['replace']} replaced, "
               f"{s['delete']} deleted in {time.monotonic() - start:.1f}s.")
    return state


def drift(session: Session) -> Plan:
    """Live values against what the last apply set (not against the spec)."""
    state = session.backend.read()
    planner = Planner(session.stack, session.aws, state)
    items = {n: it for n, it in planner.items().items() if it.prior is not None}
    planner.refresh(items)
    actions: list[Action] = []
    for name, item in sorted(items.items()):
        prior = item.prior
        h = item.handler
        base = dict(name=name, type=prior.type, region=prior.region, physical_id=prior.physical_id)
        if item.live is None:
            actions.append(Action(action="delete", reason="deleted outside deployer", **base))
            continue
        live = dict(item.live.properties)
        for k in h.write_only:
            if k in prior.properties:
                live[k] = prior.properties[k]
        changes = compare(set(prior.properties), live, prior.properties, h.defaults, set(), set(prior.sensitive_paths),
                          tags_key=h.tags_property)
        # compare(desired=live, actual=applied) gives before=applied, after=live: what drift shows
        actions.append(Action(action="update" if changes else "noop", changes=changes,
                              fingerprint=fingerprint(item.live), **base))
    return Plan(stack=session.stack.name, region=session.stack.region, actions=actions, outputs={},
                serial=state.serial, lineage=state.lineage, kind="drift")


def open_state(opts: Options):
    """(backend, state) for the state commands: the stack at opts.path, or the only local state."""
    from pathlib import Path

    from deployer.errors import UsageError
    from deployer.spec.load import stack_files
    from deployer.state.local import LocalBackend

    try:
        stack_files(opts.path or ".")
        has_spec = True
    except UsageError:
        has_spec = False
    if has_spec:
        stack = load(opts)
        if stack.backend.get("type", "local") == "local":
            backend = LocalBackend(opts.state_root, stack.name)
        else:
            backend = backend_for(stack, opts, make_aws(opts))
        return backend, backend.read()
    states = sorted((Path(opts.state_root) / "state").glob("*.json"))
    if len(states) != 1:
        raise UsageError("no stack here: pass --path STACK" if not states else
                         f"several stacks have state in {opts.state_root}: pass --path STACK")
    backend = LocalBackend(opts.state_root, states[0].stem)
    return backend, backend.read()


def _record(session: Session, state: State, name: str, pid: str, live, keys: set[str]) -> None:
    from deployer.state.model import ResourceState

    res = session.stack.resources[name]
    from deployer.graph import build_graph

    g = build_graph(session.stack)
    state.resources[name] = ResourceState(
        type=res.type, physical_id=pid, region=res.region or session.stack.region,
        properties={k: v for k, v in live.properties.items() if k in keys},
        attributes={k: v for k, v in live.attributes.items() if k != "__physical_id__"},
        depends_on=sorted(g.predecessors(name)))


def adopt(session: Session, name: str, physical_id: str) -> None:
    """deployer import: read an existing resource, add the ownership tags, record it in the state."""
    from deployer.errors import UsageError
    from deployer.resources import handler_for
    from deployer.resources.base import Context

    res = session.stack.resources.get(name)
    if res is None:
        raise UsageError(f"no resource '{name}' in the spec" + _suggest(name, session.stack.resources))
    state = session.backend.read()
    if name in state.resources:
        raise StateError(f"{name} is already in the state ({state.resources[name].physical_id})")
    handler = handler_for(res.type)
    ctx = Context(session.aws, res.region or session.stack.region, session.stack.name, name)
    live = handler.read(ctx, physical_id, set(res.properties) | {handler.tags_property or ""})
    if live is None:
        raise PlanError(f"{name}: no {res.type} '{physical_id}' exists in {ctx.region}")
    if live.owner and live.owner != (session.stack.name, name):
        raise PlanError(f"{name}: '{physical_id}' belongs to stack '{live.owner[0]}' as {live.owner[1]}")
    handler.tag_for_ownership(ctx, physical_id)
    keys = {handler.name_property} if handler.name_property else set()
    _record(session, state, name, physical_id, live, keys)
    state.serial += 1
    session.backend.write(state)


def _suggest(name: str, choices) -> str:
    from deployer.spec.suggest import did_you_mean

    return did_you_mean(name, choices)


def rebuild(session: Session) -> dict[str, str]:
    """Reconstruct the state from ownership tags (and spec names for untaggable types)."""
    from deployer.resources import handler_for
    from deployer.resources.base import Context
    from deployer.state.model import State as StateDoc

    old = session.backend.read()
    state = StateDoc(stack=session.stack.name, lineage=old.lineage, serial=old.serial + 1)
    found: dict[str, str] = {}
    for name, res in session.stack.resources.items():
        handler = handler_for(res.type)
        ctx = Context(session.aws, res.region or session.stack.region, session.stack.name, name)
        pid = handler.find_owned(ctx)
        if pid is None:
            props = res.properties
            if handler.name_property and isinstance(props.get(handler.name_property), str) \
                    and "${" not in props[handler.name_property]:
                pid = handler.physical_id_for(props)
        if pid is None:
            continue
        live = handler.read(ctx, pid, set(res.properties) | {handler.tags_property or ""})
        if live is None or (handler.taggable and live.owner != (session.stack.name, name)):
            continue
        keys = set(res.properties) | ({handler.name_property} if handler.name_property else set())
        _record(session, state, name, pid, live, keys)
        found[name] = pid
    session.backend.write(state)
    return found
