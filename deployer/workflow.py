"""The command flows — plan, apply (fresh or saved), destroy, drift, import, rebuild, outputs — over
the engine's modules. cli.py parses options and prints; everything a command does is here."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from deployer import interrupts, secrets
from deployer.apply import Applier, Event
from deployer.aws import Aws
from deployer.diff import compare
from deployer.errors import PlanError, StateError, UsageError
from deployer.plan import Op, Order, Plan, Step
from deployer.planner import Options as PlanOptions
from deployer.planner import Planner, fingerprint, secret_digests
from deployer.resources import handler_for
from deployer.resources.base import Context
from deployer.runtime import Options, backend_for, load, make_aws
from deployer.spec.model import Stack
from deployer.spec.refs import contains_unknown
from deployer.state.model import ResourceState, State


@dataclass
class Session:
    """One command's stack, AWS access and state backend."""

    opts: Options
    stack: Stack
    aws: Aws
    backend: Any
    notes: list[str] = field(default_factory=list)  # what a command did beside its job, for the CLI to say

    @classmethod
    def open(cls, opts: Options) -> Session:
        """The stack, AWS access and the state backend; notes on stderr when a var file or
        DEPLOYER_VAR_* overrides a value (SPEC §2)."""
        stack = load(opts)
        for note in stack.variable_notes():
            print(note, file=sys.stderr)
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


# --- plan -------------------------------------------------------------------------------------------

def make_plan(session: Session, targets: list[str] | None = None, excludes: list[str] | None = None,
              destroy: bool = False, applying: bool = False) -> Plan:
    """Refresh and plan the stack; the plan records how to re-load its spec. `applying`: this command
    applies the plan at once (a create that is its own existence check is not read first)."""
    plan = session.planner().make(PlanOptions(tuple(targets or ()), tuple(excludes or ()), destroy,
                                              fold_existence=applying))
    opts = session.opts
    source = {"path": opts.path, "vars": _public_vars(opts.cli_vars), "var_files": opts.var_files,
              "region": opts.region, "targets": targets or [], "excludes": excludes or [], "destroy": destroy}
    if opts.stack_name:
        source["stack_name"] = opts.stack_name
    if opts.env:
        source["env"] = opts.env
    return replace(plan, source=source, identity=_identity_doc(session))


def _identity_doc(session: Session) -> dict[str, Any]:
    ident = getattr(session.backend, "identity", None)
    return {} if ident is None else {k: v for k, v in vars(ident).items() if v is not None}


def _public_vars(cli_vars: list[str]) -> list[str]:
    return [v for v in cli_vars if not secrets.is_sensitive(v.partition("=")[2])]


# --- saved plans ------------------------------------------------------------------------------------

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


def check_saved(session: Session, saved: Plan) -> Plan:
    """The saved plan, ready to apply exactly as saved: refused when the state or a resource it
    changes is no longer what it was planned against, or the spec no longer produces it. Only the
    resources it changes are read again. Sensitive values, which a plan file never holds, are taken
    from the spec (and must have the digest the plan recorded)."""
    made_for, runs_for = dict(saved.identity), _identity_doc(session)
    if made_for and made_for != runs_for:
        def text(doc: dict[str, Any]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(doc.items())) or "nothing recorded"
        raise PlanError(f"the saved plan was made for {text(made_for)}; this command runs for {text(runs_for)}: "
                        "not applied. Apply it with the options it was made with")
    state = session.backend.read()
    problems: list[str] = []
    if (state.serial, state.lineage) != (saved.serial, saved.lineage):
        problems.append(f"the state changed (serial {saved.serial} -> {state.serial})")
    planner = Planner(session.stack, session.aws, state)
    targets = planner.targets()
    changing = [s for s in saved.steps if s.changing]
    for step in changing:
        problems += _spec_disagrees(planner, targets, step, bool(saved.source.get("destroy")))
    problems += _live_changed(planner, targets, [s for s in changing if s.fingerprint not in (None, "absent")])
    if problems:
        raise PlanError("the saved plan is stale and was not applied: " + "; ".join(problems)
                        + ". Run `deployer plan` again.")
    return saved.with_steps([_with_secrets(planner, targets, s) for s in saved.steps])


def _spec_disagrees(planner: Planner, targets: dict, step: Step, destroying: bool) -> list[str]:
    """Why the spec no longer produces this step, if it does not."""
    t = targets.get(step.key)
    in_spec = t is not None and t.spec is not None
    if step.op in (Op.DELETE, Op.FORGET, Op.DELETE_DEPOSED):
        return [f"{step.name} is in the spec again"] if in_spec and not destroying else []
    if not in_spec:
        return [f"{step.name} is no longer in the spec"]
    raw = planner.desired_props(t, generate=_fresh_name(t, step))
    saved = {k: v for k, v in step.desired.items() if k not in step.sensitive}
    now = {k: v for k, v in raw.items() if k not in step.sensitive}
    if json.dumps(saved, sort_keys=True, default=str) != json.dumps(now, sort_keys=True, default=str):
        return [f"the spec of {step.name} changed since the plan was made"]
    if dict(step.secret_digests) != secret_digests(raw, step.sensitive):
        return [f"the sensitive values of {step.name} changed since the plan was made"]
    return []


def _fresh_name(t, step: Step) -> bool:
    """Whether the plan gave this replacement a newly generated name (a create-first replacement)."""
    prop = t.handler.name_property
    return step.op is Op.REPLACE and step.order is Order.CREATE_FIRST and bool(prop) \
        and prop not in t.spec.properties


def _live_changed(planner: Planner, targets: dict, steps: list[Step]) -> list[str]:
    """Read the resources the plan changes again: any that changed since is a reason to refuse."""
    def one(step: Step) -> str | None:
        t = targets.get(step.key)
        handler = handler_for(step.type)
        ctx = planner.context(t) if t else Context(planner.aws, step.region, planner.stack.name, step.name)
        wanted = set(step.before or {}) | ({handler.tags_property} if handler.taggable else set())
        live = handler.read(ctx, step.physical_id, wanted) if step.physical_id else None
        return None if fingerprint(live) == step.fingerprint else f"{step.key} changed outside this plan since it was made"

    if not steps:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(steps))) as pool:
        return [p for p in pool.map(one, steps) if p]


def _with_secrets(planner: Planner, targets: dict, step: Step) -> Step:
    """A saved step with its masked sensitive values taken from the spec."""
    if not step.sensitive or not step.changing or step.key not in targets or targets[step.key].spec is None:
        return step
    raw = planner.desired_props(targets[step.key], generate=_fresh_name(targets[step.key], step))
    desired = {**step.desired, **{k: raw[k] for k in step.sensitive if k in raw}}
    return replace(step, desired=desired)


def load_saved(path: str) -> Plan:
    doc = read_plan_file(path)
    if doc is None:
        raise UsageError(f"{path}: not a saved plan")
    try:
        plan = Plan.from_json(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path}: the saved plan is malformed ({type(exc).__name__}: {exc}); make it again "
                         "with `deployer plan -o`") from None
    if not plan.source.get("path"):
        raise UsageError(f"{path}: this plan file does not say which stack it was made from")
    return plan


# --- apply ------------------------------------------------------------------------------------------

class Blocked(PlanError):
    """Steps apply refuses as planned (SPEC §7); nothing was changed."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("; ".join(reasons))

    def lines(self) -> list[str]:
        return [*self.reasons, "nothing was changed"]


def refuse_blocked(plan: Plan) -> None:
    """Stop before any change when the plan holds a step apply refuses (a non-empty bucket)."""
    if plan.blocked():
        raise Blocked(plan.blocked())


def run_apply(session: Session, plan: Plan, parallelism: int, rollback: bool,
              on_event: Callable[[Event], None] | None = None, fresh_reads: bool = False) -> State:
    """Apply a plan (the caller holds the state lock); record the outputs; return the final state.
    fresh_reads: the plan was made by this command, not loaded from a file."""
    refuse_blocked(plan)
    state = session.backend.read()
    applier = Applier(plan, state, handler_for, session.backend.write, session.aws, parallelism=parallelism,
                      rollback=rollback, on_event=on_event or (lambda e: None), fresh_reads=fresh_reads)
    if not plan.has_changes:
        applier.settle()  # an interrupted run's journal, when nothing is left to do
    else:
        with interrupts.stopping_with(applier.stop.set):
            applier.run()
    final = applier.state
    outputs = applier.outputs() if plan.output_specs else {}
    if outputs != final.outputs or plan.has_changes:
        final.outputs = outputs
        final.serial += 1
        session.backend.write(final)
    return final


def apply_progress(session: Session, plan: Plan, parallelism: int, rollback: bool,
                   fresh_reads: bool = False) -> tuple[State, float]:
    """run_apply with the live progress view; (final state, seconds taken)."""
    from deployer.render.progress import Progress
    from deployer.render.text import use_colour

    start = time.monotonic()
    with Progress(colour=use_colour(session.opts.no_color)) as progress:
        state = run_apply(session, plan, parallelism, rollback, progress, fresh_reads)
    return state, time.monotonic() - start


# --- drift ------------------------------------------------------------------------------------------

def drift(session: Session) -> Plan:
    """Live values against what the last apply set (not against the spec)."""
    state = session.backend.read()
    planner = Planner(session.stack, session.aws, state)
    targets = {k: t for k, t in planner.targets().items() if t.prior is not None}
    reads = planner.refresh(targets)
    steps: list[Step] = []
    for key, t in sorted(targets.items()):
        prior, h = t.prior, t.handler
        base = dict(name=t.name, type=prior.type, region=prior.region, physical_id=prior.physical_id)
        live = reads.live.get(key)
        if live is None:
            steps.append(Step(op=Op.DELETE, reason="deleted outside deployer", **base))
            continue
        actual = dict(live.properties)
        for k in h.write_only:
            if k in prior.properties:
                actual[k] = prior.properties[k]
        changes = compare(set(prior.properties), actual, prior.properties, h.defaults, set(),
                          set(prior.sensitive_paths), tags_key=h.tags_property)
        # compare(desired=live, actual=applied) gives before=applied, after=live: what drift shows
        steps.append(Step(op=Op.UPDATE if changes else Op.NOOP, changes=tuple(changes),
                          fingerprint=fingerprint(live), **base))
    return Plan(stack=session.stack.name, region=session.stack.region, steps=tuple(steps),
                serial=state.serial, lineage=state.lineage, kind="drift")


# --- state commands ---------------------------------------------------------------------------------

def open_state(opts: Options):
    """(backend, state) for the state commands: the stack at opts.path, or the only local state."""
    from pathlib import Path

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
            backend = LocalBackend(opts.states_root, stack.name)
        else:
            backend = backend_for(stack, opts, make_aws(opts))
        return backend, backend.read()
    states = sorted((Path(opts.states_root) / "state").glob("*.json"))
    if len(states) != 1:
        raise UsageError("no stack here: pass --path STACK" if not states else
                         f"several stacks have state in {opts.states_root}: pass --path STACK")
    backend = LocalBackend(opts.states_root, states[0].stem)
    return backend, backend.read()


def _record(session: Session, state: State, name: str, pid: str, live, keys: set[str]) -> None:
    from deployer.graph import build_graph

    res = session.stack.resources[name]
    g = build_graph(session.stack)
    state.resources[name] = ResourceState(
        type=res.type, physical_id=pid, region=res.region or session.stack.region,
        properties={k: v for k, v in live.properties.items() if k in keys},
        attributes={k: v for k, v in live.attributes.items() if k != "__physical_id__"},
        depends_on=sorted(g.predecessors(name)))


def adopt(session: Session, name: str, physical_id: str) -> None:
    """deployer import: read an existing resource, add the ownership tags, record it in the state."""
    from deployer.spec.suggest import did_you_mean

    res = session.stack.resources.get(name)
    if res is None:
        raise UsageError(f"no resource '{name}' in the spec" + did_you_mean(name, session.stack.resources))
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


def adopt_stack(session: Session, resources: list[tuple[str, str, str]]) -> tuple[list[str], list[str]]:
    """Adopt (logical id, type, physical id) triples another tool created (a CloudFormation stack):
    each one the spec declares with the same type; (adopted, skipped with why)."""
    adopted, skipped = [], []
    held = session.backend.read().resources
    for name, type_name, physical_id in resources:
        res = session.stack.resources.get(name)
        if res is None:
            skipped.append(f"{name} ({type_name} {physical_id}): not in the spec")
        elif res.type != type_name:
            skipped.append(f"{name}: the spec declares a {res.type}, the stack holds a {type_name}")
        elif name in held:
            skipped.append(f"{name}: already in the state ({held[name].physical_id})")
        else:
            try:
                adopt(session, name, physical_id)
                adopted.append(f"{name} ({physical_id})")
            except (PlanError, StateError) as exc:
                skipped.append(f"{exc}; import it with `deployer import PATH {name} PHYSICAL_ID`")
    return adopted, skipped


def rebuild(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    """Reconstruct the state: each resource of the spec, in dependency order, by its ownership tags,
    or by its name or natural key (an API's resources by parent and path, a permission by statement
    id, a route by table and destination) resolved against what was found before it. Returns (found
    physical ids, why each other resource was not found)."""
    import networkx as nx

    from deployer.graph import build_graph

    try:
        old = session.backend.read()
    except StateError:
        if not hasattr(session.backend, "set_aside"):
            raise
        old = State(stack=session.stack.name)
        session.notes.append(f"the unreadable state was kept as {session.backend.set_aside()}")
    state = State(stack=session.stack.name, lineage=old.lineage, serial=old.serial + 1)
    planner = Planner(session.stack, session.aws, state)
    targets = planner.targets()
    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    for name in nx.topological_sort(build_graph(session.stack)):
        t = targets[name]
        handler, res = t.handler, t.spec
        ctx = planner.context(t)
        props = planner.props_from_state(t)
        owned = handler.find_owned(ctx, props)
        pid = owned[0] if owned else None
        if pid is None and not contains_unknown(props):
            pid = handler.lookup(ctx, props)
        if pid is None:
            missing[name] = ("nothing carries its ownership tags" if handler.taggable else
                             "nothing matches its name or natural key") + \
                (" (it refers to resources that were not found)" if contains_unknown(props) else "")
            continue
        live = handler.read(ctx, pid, set(res.properties) | {handler.tags_property or ""})
        if live is None or (handler.taggable and live.owner not in (None, (session.stack.name, name))):
            missing[name] = f"{pid} belongs to another stack" if live else f"{pid} could not be read"
            continue
        keys = set(res.properties) | ({handler.name_property} if handler.name_property else set())
        _record(session, state, name, pid, live, keys)
        found[name] = pid
    session.backend.write(state)
    return found, missing
