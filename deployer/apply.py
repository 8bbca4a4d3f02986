"""Carry out a plan: creates and updates in dependency order (parallel where the graph allows), then
deletes in reverse order; the state is written before and after every step (the journal), and on
the first failure every completed step is undone in reverse order (unless rollback is off).

The applier takes the plan, the state, the handlers and where to save, nothing else: before each
step it resolves the step's references against the state so far and refuses if a value the plan
showed turns out different (Terraform's planned-vs-actual check).

One adoption and retry policy lives here, for every type. A call whose outcome is unknown (a lost
answer: deployer/aws.py does not let botocore repeat it) or a create that meets "already exists"
is followed by a read: a create looks for what it made (by the name it chose, or by this step's
ownership tags / natural key), adopts exactly one, brings it to the spec and deletes any duplicate
carrying this step's tags; an update re-reads and converges; a delete re-reads and finishes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from deployer import secrets
from deployer.aws import Aws, describe_exception, error_code, outcome_unknown
from deployer.diff import changed_keys, get_path, mask_ignored
from deployer.errors import ApplyFailed, AwsError, DeployerError, Interrupted
from deployer.normalize import canon
from deployer.plan import Op, Order, Plan, Step
from deployer.resolve import Resolver
from deployer.resolve import outputs as resolve_outputs
from deployer.resources.base import Context, Handler, Live, Settings
from deployer.scheduler import Outcome, run_dag
from deployer.spec.coerce import coerce
from deployer.spec.refs import Unknown, contains_unknown, substitute, walk_refs
from deployer.state.journal import recording
from deployer.state.model import ResourceState, State

DEPOSED = "#deposed"
RECOVERY_ATTEMPTS = 4  # tries of one call whose outcome keeps being unknown, each preceded by a read


class Unrecorded(Exception):
    """A rollback step done in AWS whose state write failed (a full disk)."""


@dataclass
class Undo:
    """One completed step, with what is needed to reverse it."""

    kind: str  # created | updated | deleted | forgotten | deposed
    key: str
    step: Step
    prior: ResourceState | None  # the state entry before the step
    before: dict[str, Any] | None = None  # live properties before the step
    after: dict[str, Any] | None = None  # what the step applied (an update's: in the shape reads return)
    physical_id: str | None = None


@dataclass
class Event:
    name: str
    status: str  # running | done | failed | rolling-back | rolled-back | skipped
    verb: str
    elapsed: float = 0.0
    detail: str = ""


VERBS = {Op.CREATE: "creating", Op.UPDATE: "updating", Op.REPLACE: "replacing", Op.DELETE: "deleting",
         Op.DELETE_DEPOSED: "deleting the replaced", Op.FORGET: "forgetting"}


@dataclass
class Applier:
    plan: Plan
    state: State
    handlers: Callable[[str], Handler]
    save: Callable[[State], None]
    aws: Aws
    parallelism: int = 10
    rollback: bool = True
    on_event: Callable[[Event], None] = lambda e: None
    undo: list[Undo] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)  # old id/ARN -> new, for resources a rollback recreated
    fresh_reads: bool = False  # the plan was made by this command (its reads are moments old), not loaded from a file

    def __post_init__(self) -> None:
        self.state = self.state.copy()
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.resolver = Resolver(self.aws, self.plan.stack, self.plan.region, self._value)
        self._steps = {s.key: s for s in self.plan.steps}
        self._phase_steps: dict[str, Step] = {}
        self._created_over: dict[str, ResourceState | None] = {}  # the entry a create replaced
        self._announced: set[str] = set()  # creates journaled (pending) before the run started
        self._called: set[str] = set()  # creates whose call went out (or may have)
        self._read_inputs: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # step -> (props, plan reads)
        self._lazy_lock = threading.Lock()  # one read of a resource's lazy attributes at a time

    # --- state ----------------------------------------------------------------------------------
    def _record(self, mutate: Callable[[State], None]) -> None:
        """_write after an AWS call succeeded: a failure to write says the call itself did happen."""
        try:
            self._write(mutate)
        except Exception as exc:
            raise Unrecorded() from exc

    def _write(self, mutate: Callable[[State], None]) -> None:
        """Mutate the state and record it. A state read from a backend has a journal: only the entries
        the mutation touched are recorded, queued under the lock in serial order, and made durable
        outside it by group commit; a record announcing a call (an entry left pending) is durable
        before this returns. Any other state is saved whole."""
        with self._lock:
            view, touched = recording(self.state)
            mutate(view)
            self.state.serial += 1
            journal = self.state.journal
            if journal is None:
                self.save(self.state)
                return
            durable = journal.append(self.state, touched)
        durable()

    def _value(self, name: str, attr: str | None) -> Any:
        entry = self.state.resources.get(name)
        if entry is None or entry.pending or entry.physical_id is None:
            raise DeployerError(f"${{{name}{'.' + attr if attr else ''}}} is not available: {name} was not applied")
        step = self._steps.get(name)
        attrs = {**(dict(step.attributes) if step else {}), **entry.attributes}
        handler = self.handlers(entry.type)
        if attr is None:
            return handler.ref_value(entry.physical_id, attrs)
        if attr not in attrs and attr in handler.lazy_attributes:
            attrs = {**attrs, **self._read_lazy(name, entry, handler)}
        if attr not in attrs:
            raise DeployerError(f"{name} has no attribute {attr} after apply")
        return attrs[attr]

    def _read_lazy(self, name: str, entry: ResourceState, handler: Handler) -> dict[str, Any]:
        """The attributes a create left out (Handler.lazy_attributes), read when something first refers
        to one and recorded in the entry, so that they are read once."""
        with self._lazy_lock:
            current = self.state.resources.get(name)
            if current is not None and any(k in current.attributes for k in handler.lazy_attributes):
                return dict(current.attributes)
            ctx = Context(self.aws, entry.region, self.plan.stack, name)
            live = handler.read(ctx, entry.physical_id, set())
            if live is None:
                raise DeployerError(f"{name} ({entry.physical_id}) cannot be read for its attributes")
            got = {k: v for k, v in live.attributes.items() if k != "__physical_id__"}

            def record(s: State) -> None:
                if name in s.resources:
                    s.resources[name] = replace(s.resources[name], attributes={**s.resources[name].attributes, **got})
            self._record(record)
            return got

    def _ctx(self, step: Step, token: str | None = None, undoing_create: bool = False,
             creating: bool = False) -> Context:
        return Context(self.aws, step.region, self.plan.stack, step.name, token=token or step.token,
                       settings=Settings(force_destroy=step.force_destroy, final_snapshot=step.final_snapshot,
                                         undoing_create=undoing_create, absence_fresh=creating and self.fresh_reads))

    def _entry(self, step: Step, pid: str | None, view: dict[str, Any], attrs: dict[str, Any],
               sensitive: frozenset[str]) -> ResourceState:
        from deployer.planner import stored_properties

        lifecycle = {k: v for k, v in (("deletion_policy", step.deletion_policy),
                                       ("force_destroy", step.force_destroy)) if v and v != "delete"}
        return ResourceState(type=step.type, physical_id=pid, region=step.region,
                             properties=stored_properties(view, sensitive), attributes=attrs,
                             depends_on=list(step.depends_on), sensitive_paths=sorted(sensitive),
                             lifecycle=lifecycle)

    def resolved(self, step: Step, handler: Handler, live: dict[str, Any] | None) -> dict[str, Any]:
        """The step's properties with every reference resolved against the state so far, checked
        against what the plan showed for them."""
        props = coerce(handler.schema, substitute(dict(step.desired), self.resolver.resolver_for(step.region)))
        if contains_unknown(props):
            raise DeployerError(f"{step.name}: a referenced value is still unknown at apply time")
        if any(v == secrets.MASK for v in props.values()):
            raise DeployerError(f"{step.name}: the plan holds a sensitive value it cannot carry; apply it "
                                "from the spec, or pass the sensitive variables again")
        if live is not None and step.ignore_changes:
            props = mask_ignored(props, live, list(step.ignore_changes))
        for key in step.sensitive:
            secrets.register(props.get(key))
        self._check_planned(step, handler, props)
        return props

    def _check_planned(self, step: Step, handler: Handler, props: dict[str, Any]) -> None:
        """Refuse when a value the plan showed as known differs now (the planned-vs-actual check)."""
        if not step.planned:
            return
        view = handler.desired_view(props, self._inputs(step, handler, props))
        for key, planned in step.planned.items():
            if key == handler.snapshot_property or key in step.sensitive:
                continue
            path = _disagreement(planned, view.get(key), key)
            if path is not None:
                raise DeployerError(
                    f"{step.name}: {path} is {_short(get_path(view, path)[1])} at apply time, but the plan "
                    f"showed {_short(get_path(step.planned, path)[1])}; nothing of {step.name} was changed. "
                    "Run `deployer plan` again.")

    def _inputs(self, step: Step, handler: Handler, props: dict[str, Any]) -> dict[str, Any] | None:
        """The handler's declared plan reads for these properties, read once per step: the
        planned-vs-actual check and the entry recorded after the call use the same reads (what they
        read are the step's inputs, which its own call does not change)."""
        if type(handler).plan_reads is Handler.plan_reads:
            return None
        with self._lock:
            cached = self._read_inputs.get(step.key)
        if cached is not None and cached[0] == props:
            return cached[1]
        reads = handler.plan_reads(self._ctx(step), props)
        with self._lock:
            self._read_inputs[step.key] = (props, reads)
        return reads

    # --- the adoption and retry policy ----------------------------------------------------------------
    def _create_once(self, step: Step, handler: Handler, ctx: Context, props: dict[str, Any]
                     ) -> tuple[str, dict[str, Any]]:
        """handler.create, with the one policy for lost answers and "already exists"."""
        last: BaseException | None = None
        for _ in range(RECOVERY_ATTEMPTS):
            try:
                return handler.create(ctx, props)
            except Exception as exc:
                unknown, exists = outcome_unknown(exc), handler.is_already_exists(exc)
                if not (unknown or exists):
                    self._remove_partial(step, handler, ctx, props)
                    raise
                made_maybe = last is not None  # an earlier attempt's outcome was unknown
                last = exc
                found = self._find_own(step, handler, ctx, props)
                if found is not None:
                    pid, live = found
                    if live.owner is None and handler.taggable:  # made, but the tagging never happened
                        handler.tag_for_ownership(ctx, pid)
                    attrs = {k: v for k, v in live.attributes.items() if k != "__physical_id__"}
                    updated = self._update_once(step, handler, ctx, pid, dict(live.properties), props,
                                                set(props))
                    return pid, {**attrs, **updated}
                if exists:
                    if not made_maybe:  # refused at the first attempt: nothing of this step's exists
                        self._forget_create(step)
                    raise AwsError(step.name, f"a {handler.type_name} of that name already exists and is not "
                                   "this stack's; use `deployer import` to adopt it", error_code(exc)) from exc
        raise last  # the outcome stayed unknown and nothing was made: the error as the service gave it

    def _find_own(self, step: Step, handler: Handler, ctx: Context, props: dict[str, Any]
                  ) -> tuple[str, Live] | None:
        """The resource this step made, if any: under the name it chose (untagged counts where tagging
        is a call of its own that may not have happened yet; not where the create carries the tags) or
        by its ownership tags / natural key. Exactly one is adopted; other copies carrying this step's
        tags are deleted."""
        wanted = set(props) | ({handler.tags_property} if handler.tags_property else set())
        others = {r.physical_id for k, r in self.state.resources.items() if k != step.key and r.physical_id}
        found: list[tuple[str, Live]] = []
        guess = handler.physical_id_for(props)
        ours = {(ctx.stack, ctx.logical_id)} | (set() if handler.create_checks_existence else {None})
        if guess:
            live = handler.read(ctx, guess, wanted)
            if live is not None and live.owner in ours:
                found.append((guess, live))
        for pid in handler.find_owned(ctx, props):
            if pid in others or any(pid == f for f, _ in found):
                continue
            live = handler.read(ctx, pid, wanted)
            if live is not None:
                found.append((pid, live))
        if not found:
            return None
        for pid, _ in found[1:]:
            self.on_event(Event(step.name, "running", f"deleting a duplicate {handler.type_name} {pid}"))
            self._delete_once(step, handler, ctx, pid, props)
        return found[0]

    def _update_once(self, step: Step, handler: Handler, ctx: Context, pid: str, before: dict[str, Any],
                     props: dict[str, Any], keys: set[str]) -> dict[str, Any]:
        """handler.update with what differs among `keys` (those the spec or the last apply set); after
        an unknown outcome, re-read and converge again."""
        keys = (set(keys) | ({handler.tags_property} if handler.taggable else set())) - {
            p for p in step.ignore_changes if "." not in p}
        for attempt in range(RECOVERY_ATTEMPTS):
            view = handler.desired_view(props, self._inputs(step, handler, props))
            changed = changed_keys(before, view, handler.defaults, handler.tags_property, keys=keys)
            try:
                return handler.update(ctx, pid, before, props, changed) or {}
            except Exception as exc:
                if not outcome_unknown(exc) or attempt == RECOVERY_ATTEMPTS - 1:
                    raise
                live = handler.read(ctx, pid, set(props) | set(before))
                if live is None:
                    raise
                before = {**before, **live.properties}
        return {}

    def _delete_once(self, step: Step, handler: Handler, ctx: Context, pid: str, props: dict[str, Any]) -> None:
        """handler.delete; after an unknown outcome, re-read: gone is done, else delete again."""
        for attempt in range(RECOVERY_ATTEMPTS):
            try:
                handler.delete(ctx, pid, props)
                return
            except Exception as exc:
                if not outcome_unknown(exc) or attempt == RECOVERY_ATTEMPTS - 1:
                    raise
                if handler.read(ctx, pid, set()) is None:
                    return

    def _remove_partial(self, step: Step, handler: Handler, ctx: Context, props: dict[str, Any]) -> None:
        """A create that failed part-way (made, then tagging or configuring failed) leaves a resource
        behind: find it by its name or ownership tags and delete it, so nothing is orphaned."""
        try:
            found = self._find_own(step, handler, ctx, props)
            if found is not None:
                self._delete_once(step, handler, ctx, found[0], props)
        except Exception as exc:  # keep the journal entry: the next command adopts or deletes it
            self.on_event(Event(step.name, "failed", "removing a partly created resource",
                                detail=describe_exception(exc)))
            return
        self._forget_create(step)

    def _forget_create(self, step: Step) -> None:
        """Put back the entry a create's journal record replaced: nothing of the create is left."""
        prior = self._prior_of_create(step)
        self._write(lambda s: _restore(s, step.key, prior))

    def _prior_of_create(self, step: Step) -> ResourceState | None:
        return self._created_over.get(step.key)

    # --- steps ----------------------------------------------------------------------------------
    def _create(self, step: Step, handler: Handler) -> None:
        props = self.resolved(step, handler, None)
        ctx = self._ctx(step, creating=True)
        prior = self.state.resources.get(step.key)
        self._created_over[step.key] = prior if prior and not prior.pending else None
        journal = _intent(step, handler, props)
        if not (step.key in self._announced and prior == journal):  # else already durable
            self._write(lambda s: s.resources.__setitem__(step.key, journal))
        with self._lock:
            self._called.add(step.key)
        pid, attrs = self._create_once(step, handler, ctx, props)
        with self._lock:  # before recording it: a create the state could not record is still undone
            self.undo.append(Undo("created", step.key, step, self._created_over[step.key], None, props, pid))
        view = handler.desired_view(props, self._inputs(step, handler, props))
        entry = self._entry(step, pid, view, attrs, step.sensitive)
        self._write(lambda s: s.resources.__setitem__(step.key, entry))

    def _update(self, step: Step, handler: Handler) -> None:
        prior = self.state.resources[step.key]
        pid = step.physical_id or prior.physical_id
        before = dict(step.before or {})
        props = self.resolved(step, handler, before)
        self._write(lambda s: _mark(s, step.key, "update", pid))
        keys = set(step.planned) | set(prior.properties)
        view = handler.desired_view(props, self._inputs(step, handler, props))
        try:
            attrs = self._update_once(step, handler, self._ctx(step), pid, before, props, keys)
        except BaseException:
            with self._lock:  # some property groups may have changed: rollback restores them all
                self.undo.append(Undo("updated", step.key, step, prior, before, view, pid))
            raise
        with self._lock:
            self.undo.append(Undo("updated", step.key, step, prior, before, view, pid))
        entry = self._entry(step, pid, view, {**prior.attributes, **dict(step.attributes), **attrs}, step.sensitive)
        self._write(lambda s: s.resources.__setitem__(step.key, entry))

    def _delete(self, step: Step, handler: Handler) -> None:
        key = step.key
        prior = self.state.resources.get(key)
        if prior is None and step.op is not Op.DELETE_DEPOSED:
            return
        pid = step.physical_id or (prior.physical_id if prior else None)
        if step.op is Op.FORGET:
            with self._lock:
                self.undo.append(Undo("forgotten", key, step, prior))
            self._write(lambda s: s.resources.pop(key, None))
            return
        before = dict(step.before) if step.before is not None else None
        if step.fingerprint == "absent" or pid is None:  # already gone: only the state entry is left
            self._write(lambda s: s.resources.pop(key, None))
            return
        if prior is not None:
            self._write(lambda s: _mark(s, key, "delete", pid))
        props = {**(prior.properties if prior else {}), **(before or {})}
        try:
            # the last applied properties carry delete-time settings reads cannot see (a deletion window)
            self._delete_once(step, handler, self._ctx(step), pid, props)
        except BaseException:
            self._note_partial_delete(step, handler, prior, before)
            raise
        with self._lock:
            self.undo.append(Undo("deleted", key, step, prior, before, None, pid))
        self._write(lambda s: s.resources.pop(key, None))

    def _note_partial_delete(self, step: Step, handler: Handler, prior: ResourceState | None,
                             before: dict[str, Any] | None) -> None:
        """A delete that failed part-way (e.g. policies detached, then the delete refused): if the
        resource still exists, rollback restores its properties; if it is gone, rollback recreates it."""
        if prior is None:
            return
        try:
            live = handler.read(self._ctx(step), prior.physical_id, set(before or {}))
        except Exception:
            live = None
        with self._lock:
            if live is not None:
                self.undo.append(Undo("updated", step.key, step, prior, before, live.properties, prior.physical_id))
            else:
                self.undo.append(Undo("deleted", step.key, step, prior, before, None, prior.physical_id))
        if live is None:
            self._write(lambda s: s.resources.pop(step.key, None))
        else:
            self._write(lambda s: _restore(s, step.key, prior))

    def _replace(self, step: Step, handler: Handler) -> None:
        if step.order is Order.CREATE_FIRST:
            old = self.state.resources[step.key]
            deposed = step.key + DEPOSED
            self._write(lambda s: (s.resources.__setitem__(deposed, old), s.resources.pop(step.key, None)))
            with self._lock:
                self.undo.append(Undo("deposed", step.key, step, old))
            self._create(step, handler)
        else:
            self._delete(step, handler)
            self._create(step, handler)

    def _step(self, key: str) -> None:
        step = self._phase_steps[key]
        handler = self.handlers(step.type)
        verb = VERBS[step.op]
        self.on_event(Event(key, "running", verb))
        start = time.monotonic()
        try:
            if step.op is Op.CREATE:
                self._create(step, handler)
            elif step.op is Op.UPDATE:
                self._update(step, handler)
            elif step.op is Op.REPLACE:
                self._replace(step, handler)
            else:
                self._delete(step, handler)
        except Exception as exc:
            self.on_event(Event(key, "failed", verb, time.monotonic() - start, describe_exception(exc)))
            raise
        self.on_event(Event(key, "done", verb, time.monotonic() - start))

    # --- the run --------------------------------------------------------------------------------
    def settle(self) -> None:
        """Journal entries of an interrupted run whose resource turned out as the spec says (a noop):
        record them as applied, so references to them resolve and the journal is clean."""
        for step in self.plan.steps:
            if step.op is not Op.NOOP or not step.settle or step.physical_id is None:
                continue
            entry = self._entry(step, step.physical_id, dict(step.planned), dict(step.attributes), step.sensitive)
            self._write(lambda s, key=step.key, entry=entry: s.resources.__setitem__(key, entry))

    def run(self) -> State:
        self.settle()
        changing = [s for s in self.plan.steps if s.changing]
        first = {s.key: s for s in changing if s.op in (Op.CREATE, Op.UPDATE, Op.REPLACE)}
        last = {s.key: s for s in changing if s.op in (Op.DELETE, Op.FORGET, Op.DELETE_DEPOSED)}
        for s in changing:  # a create-first replacement leaves the old object for the delete phase
            if s.op is Op.REPLACE and s.order is Order.CREATE_FIRST:
                key = s.key + DEPOSED
                last[key] = Step(name=s.name, type=s.type, region=s.region,
                                 op=Op.FORGET if s.keep_old else Op.DELETE_DEPOSED,
                                 physical_id=s.physical_id, deposed=key, depends_on=s.depends_on, before=s.before,
                                 force_destroy=s.force_destroy, final_snapshot=s.final_snapshot,
                                 token=s.token)
        deps1 = {k: {d for d in s.depends_on if d in first} for k, s in first.items()}
        dependents: dict[str, set[str]] = {}
        for k, s in last.items():
            for d in s.depends_on:
                dependents.setdefault(d, set()).add(k)
        deps2 = {k: {d for d in dependents.get(s.name, set()) | dependents.get(k, set()) if d in last and d != k}
                 for k, s in last.items()}
        self._announce([s for s in first.values() if s.op is Op.CREATE])
        for phase, deps in ((first, deps1), (last, deps2)):
            self._phase_steps = phase
            outcome = run_dag(list(phase), deps, self._step, self.parallelism, self.stop)
            if outcome.failed or outcome.interrupted:
                self._finish_failed(outcome)
        return self.state

    def _announce(self, creates: list[Step]) -> None:
        """Journal, in one durable record before the first call, the intent of every create whose
        name needs no other step's result (its spec holds no reference): each then starts its call at
        once instead of waiting for a journal write of its own (a round trip per step with S3 state).
        After a crash each is a pending create like any other: the next plan looks it up. What never
        started is taken out again when the run fails."""
        intents: dict[str, ResourceState] = {}
        for step in creates:
            if step.key in self.state.resources or next(walk_refs(step.desired), None) is not None:
                continue
            handler = self.handlers(step.type)
            props = coerce(handler.schema, substitute(dict(step.desired), self.resolver.resolver_for(step.region)))
            intents[step.key] = _intent(step, handler, props)
        if len(intents) > 1:
            self._write(lambda s: s.resources.update(intents))
            self._announced = set(intents)

    def _withdraw_unstarted(self) -> None:
        """Announced creates whose call never went out (the run failed or was stopped first, or the
        step failed before its call) leave no entry."""
        unstarted = [k for k in self._announced - self._called
                     if (e := self.state.resources.get(k)) is not None and e.pending == "create"]
        if unstarted:
            self._write(lambda s: [s.resources.pop(k, None) for k in unstarted])

    def _finish_failed(self, outcome: Outcome) -> None:
        self._withdraw_unstarted()
        for name in outcome.skipped:
            self.on_event(Event(name, "skipped", "skipped"))
        cause = self._cause(*next(iter(outcome.failed.items()))) if outcome.failed else "interrupted"
        notes: list[str] = []
        undone = len(self.undo)
        if self.rollback:
            try:
                notes = self._roll_back()
            except KeyboardInterrupt:  # a second interrupt: stop now, as Terraform's "two interrupts" do
                raise Interrupted("two interrupts received: stopped without finishing the rollback; "
                                  "`deployer plan` reads what is left and shows it") from None
        if outcome.interrupted and not outcome.failed:
            raise Interrupted("apply interrupted: " + (
                "completed steps were left in place" if not self.rollback else
                "nothing had completed, nothing to undo" if not undone else
                "rolled back every completed step" if not notes else
                f"rollback incomplete: {len(notes)} step(s) could not be undone"))
        raise ApplyFailed(cause, self.rollback, notes, undone=undone)

    def _cause(self, key: str, exc: BaseException) -> str:
        step = self._phase_steps.get(key)
        what = f"{key} ({step.type})" if step else key
        if isinstance(exc, AwsError):
            return str(exc)
        code = error_code(exc)
        return f"{what}: {describe_exception(exc)}" if code or not isinstance(exc, DeployerError) else f"{what}: {exc}"

    # --- rollback -------------------------------------------------------------------------------
    def _roll_back(self) -> list[str]:
        notes: list[str] = []
        for undo in reversed(self.undo):
            self.on_event(Event(undo.key, "rolling-back", "rolling back"))
            try:
                self._undo(undo)
                self.on_event(Event(undo.key, "rolled-back", "rolled back"))
            except Unrecorded as exc:
                msg = (f"{undo.key} was rolled back in AWS, but the state could not record it "
                       f"({describe_exception(exc.__cause__ or exc)}); the next command reads it again")
                notes.append(msg)
                self.on_event(Event(undo.key, "failed", "rolling back", detail=msg))
            except Exception as exc:
                msg = f"rollback of {undo.key} failed: {describe_exception(exc)}"
                notes.append(msg)
                self.on_event(Event(undo.key, "failed", "rolling back", detail=msg))
        return notes

    def _undo(self, undo: Undo) -> None:
        step = undo.step
        handler = self.handlers(step.type)
        ctx = self._ctx(step, undoing_create=undo.kind == "created")
        if undo.kind == "created":
            self._delete_once(step, handler, ctx, undo.physical_id, undo.after or {})
            self._record(lambda s: _restore(s, undo.key, _renamed_entry(undo.prior, self.renames)))
        elif undo.kind == "deposed":
            self._write(lambda s: _undepose(s, undo.key))
        elif undo.kind == "updated":
            target = _renamed(undo.before or {}, self.renames)
            self._update_once(replace_planned(step, target), handler, ctx, undo.physical_id, dict(undo.after or {}),
                              target, set(target) | set(undo.after or {}))
            self._record(lambda s: _restore(s, undo.key, undo.prior))
        elif undo.kind == "forgotten":
            self._write(lambda s: _restore(s, undo.key, undo.prior))
        elif undo.kind == "deleted" and undo.before is not None and undo.prior is not None:
            self._recreate(undo, handler, ctx)

    def _recreate(self, undo: Undo, handler: Handler, ctx: Context) -> None:
        """A deleted resource made again from what was read before the delete; parts reads cannot give
        back (write-only values, a code digest) come from the spec. Resources recreated earlier in this
        rollback have new ids: refer to those."""
        step, prior = undo.step, undo.prior
        props = _renamed(dict(undo.before), self.renames)
        missing = (handler.write_only | handler.restore_from_spec) & set(step.desired)
        if missing:
            spec_props = substitute(dict(step.desired), self.resolver.resolver_for(step.region))
            props.update({k: spec_props[k] for k in missing if k in spec_props and not _unknown(spec_props[k])})
        if handler.name_property and handler.name_property in prior.properties:
            props.setdefault(handler.name_property, prior.properties[handler.name_property])
        pid, attrs = self._create_once(replace_planned(step, props), handler, ctx, props)
        self._note_rename(prior, pid, attrs)
        entry = ResourceState(type=prior.type, physical_id=pid, region=prior.region,
                              properties=_renamed(prior.properties, self.renames), attributes=attrs,
                              depends_on=prior.depends_on, sensitive_paths=prior.sensitive_paths,
                              lifecycle=prior.lifecycle)
        self._write(lambda s: _restore(s, undo.key, entry))

    def _note_rename(self, prior: ResourceState, pid: str, attrs: dict[str, Any]) -> None:
        """Remember old -> new for the physical id and every attribute of a recreated resource."""
        pairs = [(prior.physical_id, pid)] + [(v, attrs.get(k)) for k, v in prior.attributes.items()]
        for old, new in pairs:
            if isinstance(old, str) and isinstance(new, str) and old and old != new and len(old) >= 6:
                self.renames[old] = new

    def outputs(self) -> dict[str, Any]:
        """The plan's outputs resolved from the applied state (sensitive ones masked)."""
        return resolve_outputs(dict(self.plan.output_specs), self.resolver, self.plan.region, skip_unavailable=True)


def replace_planned(step: Step, props: dict[str, Any]) -> Step:
    """The step as a rollback runs it: no plan to hold it to."""
    return replace(step, planned={}, desired=props)


def _unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or contains_unknown(value)


def _disagreement(planned: Any, actual: Any, path: str) -> str | None:
    """The path of the first known leaf of `planned` that `actual` does not match, or None."""
    if isinstance(planned, Unknown):
        return None
    if isinstance(planned, dict) and contains_unknown(planned):
        if not isinstance(actual, dict):
            return path
        for k, v in planned.items():
            found = _disagreement(v, actual.get(k), f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(planned, list) and contains_unknown(planned):
        return None  # views sort and merge list items, so a list with unknown items is unknown as a whole
    return None if canon(planned) == canon(actual) else path


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _mark(state: State, key: str, pending: str, pid: str | None) -> None:
    entry = state.resources[key]
    entry.pending = pending
    if entry.physical_id is None:
        entry.physical_id = pid


def _undepose(state: State, name: str) -> None:
    old = state.resources.pop(name + DEPOSED, None)
    if old is not None:
        old.pending = None
        state.resources[name] = old


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


def _renamed_entry(entry: ResourceState | None, renames: dict[str, str]) -> ResourceState | None:
    if entry is None or not renames:
        return entry
    return replace(entry, properties=_renamed(entry.properties, renames))


def _intent(step: Step, handler: Handler, props: dict[str, Any]) -> ResourceState:
    """The journal entry announcing a create: what finds it again after a crash (its name, the
    physical id it will have when known beforehand, the idempotency token)."""
    name_prop = handler.name_property
    return ResourceState(type=step.type, physical_id=handler.physical_id_for(props), region=step.region,
                         pending="create", token=step.token, depends_on=list(step.depends_on),
                         properties={name_prop: props[name_prop]} if name_prop in props else {})


def _restore(state: State, key: str, entry: ResourceState | None) -> None:
    if entry is None:
        state.resources.pop(key, None)
    else:
        entry.pending = None
        state.resources[key] = entry
