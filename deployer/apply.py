"""Carry out a plan: creates and updates in dependency order (parallel where the graph allows),
then deletes in reverse order; the state is written after every step, and on the first failure
every completed step is undone in reverse order (unless --no-rollback)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deployer import secrets
from deployer.aws import describe_exception, error_code
from deployer.errors import ApplyFailed, AwsError, DeployerError, Interrupted
from deployer.planner import Item, Planned, Planner, stored_properties
from deployer.resolve import Resolver
from deployer.resources.base import Context
from deployer.scheduler import run_dag
from deployer.spec.refs import contains_unknown
from deployer.state.model import ResourceState, State

DEPOSED = "#deposed"


@dataclass
class Undo:
    """One completed step, with what is needed to reverse it."""

    kind: str  # created | updated | deleted
    name: str
    prior: ResourceState | None  # the state entry before the step
    before: dict[str, Any] | None = None  # live properties before the step
    after: dict[str, Any] | None = None  # properties the step applied
    physical_id: str | None = None


@dataclass
class Event:
    name: str
    status: str  # running | done | failed | rolling-back | rolled-back | skipped
    verb: str
    elapsed: float = 0.0
    detail: str = ""


@dataclass
class Applier:
    planner: Planner
    planned: Planned
    save: Callable[[State], None]
    parallelism: int = 10
    rollback: bool = True
    on_event: Callable[[Event], None] = lambda e: None
    state: State = field(init=False)
    undo: list[Undo] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)  # old id/ARN -> new, for resources a rollback recreated

    def __post_init__(self) -> None:
        self.state = self.planner.state.copy()
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.resolver = Resolver(self.planner.aws, self.planner.stack.name, self.planner.stack.region,
                                 self._value)

    # --- state ----------------------------------------------------------------------------------
    def _write(self, mutate: Callable[[State], None]) -> None:
        with self._lock:
            mutate(self.state)
            self.state.serial += 1
            self.save(self.state)

    def _value(self, name: str, attr: str | None) -> Any:
        entry = self.state.resources.get(name)
        if entry is None or entry.pending:
            raise DeployerError(f"${{{name}{'.' + attr if attr else ''}}} is not available: {name} was not applied")
        if attr is None:
            item = self.planned.items.get(name)
            return item.handler.ref_value(entry.physical_id, entry.attributes) if item else entry.physical_id
        if attr not in entry.attributes:
            raise DeployerError(f"{name} has no attribute {attr} after apply")
        return entry.attributes[attr]

    def _ctx(self, item: Item) -> Context:
        return self.planner.context(item)

    def _entry(self, item: Item, pid: str | None, view: dict[str, Any], attrs: dict[str, Any]) -> ResourceState:
        return ResourceState(type=item.handler.type_name, physical_id=pid, region=item.region,
                             properties=stored_properties(view, item.sensitive), attributes=attrs,
                             depends_on=sorted(self.planned.graph.predecessors(item.name))
                             if item.name in self.planned.graph else [],
                             sensitive_paths=sorted(item.sensitive))

    def resolved(self, item: Item) -> dict[str, Any]:
        props = self.planner.desired_props(item, self.resolver)
        if contains_unknown(props):
            raise DeployerError(f"{item.name}: a referenced value is still unknown at apply time")
        if item.live is not None and item.spec is not None:
            from deployer.diff import mask_ignored

            props = mask_ignored(props, item.live.properties, item.spec.lifecycle.ignore_changes)
        item.sensitive = self.planner.sensitive_keys(item, props)
        for key in item.sensitive:
            secrets.register(props.get(key))
        return props

    # --- steps ----------------------------------------------------------------------------------
    def _create(self, item: Item) -> None:
        props = self.resolved(item)
        ctx = self._ctx(item)
        guess = item.handler.physical_id_for(props)
        name_prop = item.handler.name_property
        # the journal entry: the name (generated or not) is kept so a crashed create is found and reused
        pending = ResourceState(type=item.handler.type_name, physical_id=guess, region=item.region, pending="create",
                                properties={name_prop: props[name_prop]} if name_prop in props else {})
        prior = self.state.resources.get(item.name)
        self._write(lambda s: s.resources.__setitem__(item.name, pending))
        try:
            pid, attrs = item.handler.create(ctx, props)
        except BaseException as exc:
            adopted = self._adopt_after_lost_answer(item, ctx, guess, props, exc)
            if adopted is None:
                self._remove_partial(item, ctx, guess, props, prior)
                raise
            pid, attrs = adopted
        entry = self._entry(item, pid, item.handler.desired_view(props, ctx), attrs)
        self._write(lambda s: s.resources.__setitem__(item.name, entry))
        with self._lock:
            self.undo.append(Undo("created", item.name, prior, None, props, pid))

    def _update(self, item: Item) -> None:
        props = self.resolved(item)
        ctx = self._ctx(item)
        prior = self.state.resources[item.name]
        pid = prior.physical_id
        before = dict(item.live.properties) if item.live else {}
        for key in item.handler.write_only:  # what reads cannot see: as last applied (a digest when sensitive)
            if key not in before and key in prior.properties:
                before[key] = prior.properties[key]
        self._write(lambda s: setattr(s.resources[item.name], "pending", "update"))
        try:
            attrs = item.handler.update(ctx, pid, before, props)
        except BaseException:
            with self._lock:  # some property groups may have changed: rollback restores them all
                self.undo.append(Undo("updated", item.name, prior, before, props, pid))
            raise
        merged = {**prior.attributes, **(attrs or {})}
        entry = self._entry(item, pid, item.handler.desired_view(props, ctx), merged)
        self._write(lambda s: s.resources.__setitem__(item.name, entry))
        with self._lock:
            self.undo.append(Undo("updated", item.name, prior, before, props, pid))

    def _delete(self, item: Item, key: str | None = None) -> None:
        key = key or item.name
        prior = self.state.resources.get(key)
        if prior is None:
            return
        if item.action and item.action.retain:
            self._write(lambda s: s.resources.pop(key, None))
            with self._lock:
                self.undo.append(Undo("forgotten", key, prior))
            return
        before = item.live.properties if item.live else None
        self._write(lambda s: setattr(s.resources[key], "pending", "delete"))
        if item.live is not None or key.endswith(DEPOSED):
            try:
                # the last applied properties carry delete-time settings reads cannot see (a deletion window)
                item.handler.delete(self._ctx(item), prior.physical_id, {**prior.properties, **(before or {})})
            except BaseException:
                self._note_partial_delete(item, key, prior, before)
                raise
        self._write(lambda s: s.resources.pop(key, None))
        with self._lock:
            self.undo.append(Undo("deleted", key, prior, before, None, prior.physical_id))

    def _adopt_after_lost_answer(self, item: Item, ctx: Context, guess: str | None, props: dict[str, Any],
                                 exc: BaseException) -> tuple[str, dict[str, Any]] | None:
        """A create whose first answer was lost and whose retry says "already exists": if what exists
        is ours (our ownership tags, or untagged under the name this step chose), adopt it and bring it
        to the spec instead of failing or creating a second one."""
        if not is_already_exists(exc):
            return None
        try:
            pid = guess or item.handler.find_owned(ctx)
            live = item.handler.read(ctx, pid, set(props)) if pid else None
            if live is None or live.owner not in (None, (ctx.stack, ctx.logical_id)):
                return None
            attrs = item.handler.update(ctx, pid, live.properties, props) or {}
        except Exception:
            return None
        known = {k: v for k, v in live.attributes.items() if k != "__physical_id__"}
        return pid, {**known, **attrs}

    def _remove_partial(self, item: Item, ctx: Context, guess: str | None, props: dict[str, Any],
                        prior: ResourceState | None) -> None:
        """A create that failed part-way (created, then tagging or configuring failed) leaves a resource
        behind: find it by its name or ownership tags and delete it, so nothing is orphaned."""
        try:
            pid = guess or item.handler.find_owned(ctx)
            live = item.handler.read(ctx, pid, set()) if pid else None
            ours = live is not None and live.owner in (None, (ctx.stack, ctx.logical_id))
            if ours:
                item.handler.delete(ctx, pid, props)
        except Exception as exc:  # keep the journal entry: the next command adopts or deletes it
            self.on_event(Event(item.name, "failed", "removing a partly created resource",
                                detail=describe_exception(exc)))
            return
        self._write(lambda s: _restore(s, item.name, prior if prior and not prior.pending else None))

    def _note_partial_delete(self, item: Item, key: str, prior: ResourceState, before: dict | None) -> None:
        """A delete that failed part-way (e.g. policies detached, then the delete refused): if the
        resource still exists, rollback restores its properties; if it is gone, rollback recreates it."""
        try:
            live = item.handler.read(self._ctx(item), prior.physical_id, set(before or {}))
        except Exception:
            live = None
        with self._lock:
            if live is not None:
                self.undo.append(Undo("updated", key, prior, before, live.properties, prior.physical_id))
            else:
                self.undo.append(Undo("deleted", key, prior, before, None, prior.physical_id))
        if live is None:
            self._write(lambda s: s.resources.pop(key, None))
        else:
            self._write(lambda s: _restore(s, key, prior))

    def _replace(self, item: Item) -> None:
        if item.action.create_before_destroy:
            old = self.state.resources[item.name]
            self._write(lambda s: s.resources.__setitem__(item.name + DEPOSED, old))
            self._create(item)
        else:
            self._delete(item)
            item_live, item.live = item.live, None
            try:
                self._create(item)
            finally:
                item.live = item_live

    def _step(self, name: str) -> None:
        item = self.planned.items[name.removesuffix(DEPOSED)]
        action = item.action.action
        verb = {"create": "creating", "update": "updating", "replace": "replacing", "delete": "deleting"}[action]
        if name.endswith(DEPOSED):
            verb = "deleting the replaced"
        self.on_event(Event(name, "running", verb))
        start = time.monotonic()
        try:
            if name.endswith(DEPOSED):
                self._delete(item, name)
            elif action == "create":
                self._create(item)
            elif action == "update":
                self._update(item)
            elif action == "replace":
                self._replace(item)
            elif action == "delete":
                self._delete(item)
        except Exception as exc:
            self.on_event(Event(name, "failed", verb, time.monotonic() - start, describe_exception(exc)))
            raise
        self.on_event(Event(name, "done", verb, time.monotonic() - start))

    # --- the run --------------------------------------------------------------------------------
    def settle_interrupted(self) -> None:
        """Journal entries of an interrupted run whose resource turned out to be as the spec says (a
        noop): record them as applied, so references to them resolve and the journal is clean."""
        for a in self.planned.plan.actions:
            item = self.planned.items[a.name]
            entry = self.state.resources.get(a.name)
            if a.action != "noop" or entry is None or not entry.pending or item.live is None or item.spec is None:
                continue
            ctx = self._ctx(item)
            pid = entry.physical_id or item.live.attributes.get("__physical_id__")
            attrs = {k: v for k, v in item.live.attributes.items() if k != "__physical_id__"}
            done = self._entry(item, pid, item.handler.desired_view(item.desired, ctx), attrs)
            self._write(lambda s, name=a.name, done=done: s.resources.__setitem__(name, done))

    def run(self) -> State:
        self.settle_interrupted()
        actions = {a.name: a for a in self.planned.plan.actions if a.action != "noop"}
        g = self.planned.graph
        first = [n for n, a in actions.items() if a.action in ("create", "update", "replace")]
        deletes = [n for n, a in actions.items() if a.action == "delete"]
        deletes += [n + DEPOSED for n, a in actions.items() if a.action == "replace" and a.create_before_destroy]
        deps1 = {n: {p for p in g.predecessors(n) if p in actions} for n in first}
        base = {d.removesuffix(DEPOSED) for d in deletes}
        deps2 = {d: {s for s in deletes if s.removesuffix(DEPOSED) in g.successors(d.removesuffix(DEPOSED))
                     and s.removesuffix(DEPOSED) in base} for d in deletes}
        for phase, deps in ((first, deps1), (deletes, deps2)):
            outcome = run_dag(phase, deps, self._step, self.parallelism, self.stop)
            if outcome.failed or outcome.interrupted:
                self._finish_failed(outcome)
        return self.state

    def _finish_failed(self, outcome) -> None:
        for name in outcome.skipped:
            self.on_event(Event(name, "skipped", "skipped"))
        if outcome.failed:
            name, exc = next(iter(outcome.failed.items()))
            cause = self._cause(name, exc)
        else:
            cause = "interrupted"
        notes: list[str] = []
        if self.rollback:
            notes = self._roll_back()
        if outcome.interrupted and not outcome.failed:
            raise Interrupted("apply interrupted: " + ("rolled back every completed step" if self.rollback
                                                       else "completed steps were left in place"))
        raise ApplyFailed(cause, self.rollback, notes)

    def _cause(self, name: str, exc: BaseException) -> str:
        item = self.planned.items.get(name.removesuffix(DEPOSED))
        what = f"{name} ({item.handler.type_name})" if item else name
        if isinstance(exc, AwsError):
            return str(exc)
        code = error_code(exc)
        return f"{what}: {describe_exception(exc)}" if code or not isinstance(exc, DeployerError) else f"{what}: {exc}"

    # --- rollback -------------------------------------------------------------------------------
    def _roll_back(self) -> list[str]:
        notes: list[str] = []
        for undo in reversed(self.undo):
            item = self.planned.items[undo.name.removesuffix(DEPOSED)]
            self.on_event(Event(undo.name, "rolling-back", "rolling back"))
            try:
                self._undo(item, undo)
                self.on_event(Event(undo.name, "rolled-back", "rolled back"))
            except Exception as exc:
                msg = f"rollback of {undo.name} failed: {describe_exception(exc)}"
                notes.append(msg)
                self.on_event(Event(undo.name, "failed", "rolling back", detail=msg))
        return notes

    def _undo(self, item: Item, undo: Undo) -> None:
        ctx = self._ctx(item)
        h = item.handler
        if undo.kind == "created":
            h.delete(ctx, undo.physical_id, undo.after or {})
            self._write(lambda s: _restore(s, undo.name, undo.prior if undo.prior and not undo.prior.pending else None))
        elif undo.kind == "updated":
            h.update(ctx, undo.physical_id, undo.after or {}, _renamed(undo.before or {}, self.renames))
            self._write(lambda s: _restore(s, undo.name, undo.prior))
        elif undo.kind == "forgotten":
            self._write(lambda s: _restore(s, undo.name, undo.prior))
        elif undo.kind == "deleted" and undo.before is not None:
            # resources recreated earlier in this rollback have new ids: refer to those
            props = _renamed(dict(undo.before), self.renames)
            missing = (h.write_only | h.restore_from_spec) & set(item.spec.properties if item.spec else {})
            if missing:  # recreate those from the spec: their read-back form cannot recreate the resource
                spec_props = self.planner.desired_props(item, self.resolver)
                props.update({k: spec_props[k] for k in missing if k in spec_props})
            if h.name_property and undo.prior and h.name_property in undo.prior.properties:
                props.setdefault(h.name_property, undo.prior.properties[h.name_property])
            pid, attrs = h.create(ctx, props)
            self._note_rename(undo.prior, pid, attrs)
            entry = ResourceState(type=undo.prior.type, physical_id=pid, region=undo.prior.region,
                                  properties=_renamed(undo.prior.properties, self.renames), attributes=attrs,
                                  depends_on=undo.prior.depends_on, sensitive_paths=undo.prior.sensitive_paths)
            self._write(lambda s: _restore(s, undo.name, entry))

    def _note_rename(self, prior: ResourceState, pid: str, attrs: dict[str, Any]) -> None:
        """Remember old -> new for the physical id and every attribute of a recreated resource."""
        pairs = [(prior.physical_id, pid)] + [(v, attrs.get(k)) for k, v in prior.attributes.items()]
        for old, new in pairs:
            if isinstance(old, str) and isinstance(new, str) and old and old != new and len(old) >= 6:
                self.renames[old] = new


ALREADY_EXISTS = ("AlreadyExists", "EntityAlreadyExists", "ResourceInUseException", "BucketAlreadyOwnedByYou",
                  "ResourceConflictException", "QueueAlreadyExists", "ResourceExistsException", "Duplicate",
                  "AlreadyExistsException", "ConflictException")


def is_already_exists(exc: BaseException) -> bool:
    code = error_code(exc) or ""
    return any(marker in code for marker in ALREADY_EXISTS)


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    """value with every old id or ARN (also inside longer strings) replaced by its new one."""
    if not renames:
        return value
    if isinstance(value, str):
        for old in sorted(renames, key=len, reverse=True):
            if old in value:
                value = value.replace(old, renames[old])
        return value
    if isinstance(value, dict):
        return {k: _renamed(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, renames) for v in value]
    return value


def _restore(state: State, name: str, entry: ResourceState | None) -> None:
    if entry is None:
        state.resources.pop(name, None)
    else:
        entry.pending = None
        state.resources[name] = entry


def resolve_outputs(applier: Applier) -> dict[str, Any]:
    """Output values from the applied state (sensitive ones masked)."""
    from deployer.resolve import outputs

    stack = applier.planner.stack
    return outputs(stack.outputs, applier.resolver, stack.region, skip_unavailable=True)
