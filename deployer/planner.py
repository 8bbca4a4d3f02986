"""Planning: (stack, state, what AWS holds) -> Plan.

Three stages, each with one job:
- `refresh` reads every resource the spec or the state names (batched per type and region, in
  parallel), finds resources a killed run may have made, and prefetches every SSM, secret and
  pseudo-parameter value the spec refers to: all the plan's reads of live resources happen here;
- `decide` is pure: given those reads it decides per resource what to do, in dependency order,
  and returns the Plan (it is called a second time when a handler declared reads that need the
  resolved properties, e.g. the digest of a Lambda's S3 code);
- `annotate` reads, for destructive steps only, what they would destroy (SPEC §5, §7).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from deployer import secrets
from deployer.aws import Aws, describe_exception, error_code
from deployer.diff import compare, mask_ignored
from deployer.errors import AwsError, DeployerError, PlanError
from deployer.graph import build_graph, subgraph_for_targets
from deployer.normalize import canon, holds_policy
from deployer.plan import Change, Op, Order, Plan, Step
from deployer.resolve import Resolver, refers_to_secret
from deployer.resolve import outputs as resolve_outputs
from deployer.resources import handler_for
from deployer.resources.base import Context, Handler, Live, Settings
from deployer.spec.coerce import coerce
from deployer.spec.model import Resource, Stack
from deployer.spec.refs import UNKNOWN, Ref, contains_unknown, substitute, walk_refs
from deployer.state.model import ResourceState, State

REFRESH_THREADS = 16
DEPOSED = "#deposed"


@dataclass(frozen=True)
class Target:
    """One resource the plan considers: in the spec, in the state, or both. `key` is its node in the
    graph and its entry in the state: the logical id, or `<id>#deposed` for a replaced object."""

    key: str
    handler: Handler
    region: str
    spec: Resource | None
    prior: ResourceState | None

    @property
    def name(self) -> str:
        return self.key.split("#", 1)[0]

    @property
    def deposed(self) -> bool:
        return self.key != self.name


@dataclass
class Reads:
    """What the refresh found: per target key, the live resource (None: absent), a physical id found
    for a journal entry that recorded none (by ownership tags or natural key), and further copies a
    duplicated create left (to delete); per key, the handler's declared plan-time reads."""

    live: dict[str, Live | None] = field(default_factory=dict)
    located: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    destroy: bool = False
    # the plan is applied by the command that makes it: a create whose handler's create is its own
    # existence check (Handler.create_checks_existence) is not read first; a name taken outside the
    # stack is then refused by the create itself, mid-apply, with the usual rollback
    fold_existence: bool = False


# --- naming and small pure helpers -------------------------------------------------------------------

def _digest(*parts: Any) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def generated_name(handler: Handler, stack: str, logical_id: str, props: dict[str, Any], lineage: str,
                   serial: int) -> str:
    """A deterministic unique name for a resource whose spec sets none (stable across re-plans of one serial)."""
    return handler.generate_name(stack, logical_id, props, _digest(lineage, logical_id, serial)[:8])


def token_for(state: State, name: str) -> str:
    """The idempotency token of a step: stable across re-plans of one state serial."""
    return _digest(state.lineage, state.serial, name)[:32]


def fingerprint(live: Live | None) -> str:
    if live is None:
        return "absent"
    data = json.dumps(canon(live.properties), sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()[:32]


def stored_properties(props: dict[str, Any], sensitive: set[str] | frozenset[str]) -> dict[str, Any]:
    """What the state keeps of applied properties: sensitive ones only as digests."""
    return {k: (secrets.digest(v) if k in sensitive else v) for k, v in props.items()}


def secret_digests(raw: dict[str, Any], sensitive: frozenset[str]) -> dict[str, str]:
    """Digests of the sensitive desired values: what a saved plan keeps instead of the values."""
    return {k: secrets.digest(raw[k]) for k in sorted(sensitive) if k in raw}


def sensitive_keys(handler: Handler, raw: dict[str, Any], resolved: dict[str, Any]) -> frozenset[str]:
    """Properties to mask: those referring to a secret, the type's always-sensitive ones, and any
    whose value holds a registered sensitive value."""
    keys = {k for k, v in raw.items() if refers_to_secret(v)}
    keys |= {k for k in handler.sensitive_properties if k in resolved}
    keys |= {k for k, v in resolved.items() if secrets.is_sensitive(json.dumps(v, default=str))}
    return frozenset(keys)


def deletion_policy(handler: Handler, res: Resource | None, prior: ResourceState | None) -> str:
    """delete | retain | snapshot | retain_except_on_create: the spec's, else what the last apply
    recorded, else the type's default."""
    if res is not None and res.deletion_policy:
        return res.deletion_policy
    if prior is not None and prior.lifecycle.get("deletion_policy"):
        return prior.lifecycle["deletion_policy"]
    return handler.default_deletion_policy


RETAINED = ("retain", "retain_except_on_create")  # a planned delete only forgets (a failed create is undone)


def replace_policy(res: Resource, deletion: str) -> str:
    """What a replacement does with the old resource: the spec's update_replace_policy, else a final
    snapshot where the deletion policy takes one (SPEC §7: an RDS instance), else delete."""
    return res.update_replace_policy or ("snapshot" if deletion == "snapshot" else "delete")


def _literal_name(handler: Handler, res: Resource) -> bool:
    """Whether the spec itself fixes the resource's name (then a replacement cannot create first)."""
    prop = handler.name_property
    return bool(prop) and prop in res.properties


# --- the stages -------------------------------------------------------------------------------------

class Planner:
    """Plans one stack against one state. `make` runs the stages; each is usable on its own (tests
    drive `decide` with reads of their own)."""

    def __init__(self, stack: Stack, aws: Aws, state: State, handlers: Callable[[str], Handler | None] = handler_for):
        self.stack = stack
        self.aws = aws
        self.state = state
        self.handlers = handlers
        self.resolver = Resolver(aws, stack.name, stack.region, self._value)
        self._steps: dict[str, Step] = {}
        self._reads = Reads()
        self._targets: dict[str, Target] = {}
        self._deciding = False

    # --- targets and graph --------------------------------------------------------------------------
    def targets(self) -> dict[str, Target]:
        out: dict[str, Target] = {}
        for name, res in self.stack.resources.items():
            handler = self.handlers(res.type)
            if handler is None:
                raise PlanError(f"{name}: resource type {res.type} has no handler")
            out[name] = Target(name, handler, res.region or self.stack.region, res, self.state.resources.get(name))
        for key, prior in self.state.resources.items():
            if key in out:
                continue
            handler = self.handlers(prior.type)
            if handler is None:
                raise PlanError(f"{key}: the state holds type {prior.type}, which this deployer cannot manage")
            out[key] = Target(key, handler, prior.region, None, prior)
        return out

    def graph(self, targets: dict[str, Target]) -> nx.DiGraph:
        """The spec's graph plus state-only resources (with the edges their last apply recorded) and
        deposed objects (after what depends on their resource)."""
        g = build_graph(self.stack)
        for key, t in targets.items():
            g.add_node(key, type=t.handler.type_name)
        for key, t in targets.items():
            if t.spec is None and t.prior:
                for dep in t.prior.depends_on:
                    if dep in targets and dep != key:
                        g.add_edge(dep, key, fields=["(state)"])
            if t.deposed and t.name in g:
                for succ in list(g.successors(t.name)):
                    g.add_edge(key, succ, fields=["(deposed)"])
        return g

    def context(self, t: Target, settings: Settings | None = None) -> Context:
        return Context(self.aws, t.region, self.stack.name, t.name, token=token_for(self.state, t.name),
                       settings=settings or Settings())

    # --- refresh ------------------------------------------------------------------------------------
    def refresh(self, targets: dict[str, Target], options: Options = Options()) -> Reads:
        """Every read the decision needs, done in parallel."""
        reads = Reads()
        self.resolver.prefetch(self._references(targets))
        requests: dict[tuple[str, str], list[tuple[Target, Context, str, set[str]]]] = {}
        recorded = {r.physical_id for r in self.state.resources.values() if r.physical_id}

        def locate(t: Target) -> None:
            pid = t.prior.physical_id if t.prior else None
            ctx = self.context(t)
            if pid is None and t.spec is not None and (t.prior is None or t.prior.pending == "create") \
                    and not (options.fold_existence and t.prior is None and t.handler.create_checks_existence):
                pid = self._lookup(t, ctx)
            if pid is None and t.prior is not None and t.prior.pending == "create":
                found = [p for p in t.handler.find_owned(ctx, self.props_from_state(t)) if p not in recorded]
                if found:
                    pid = found[0]
                    reads.located[t.key] = pid
                    reads.duplicates[t.key] = found[1:]
            if pid is not None:
                wanted = set(t.prior.properties) if t.prior else set()
                if t.spec is not None:
                    wanted |= set(t.spec.properties)
                if t.handler.taggable:
                    wanted.add(t.handler.tags_property)
                requests.setdefault((t.handler.type_name, t.region), []).append((t, ctx, pid, wanted))

        _parallel(locate, list(targets.values()))
        batches: list[list[tuple[Target, Context, str, set[str]]]] = []
        for batch in requests.values():
            if type(batch[0][0].handler).read_many is Handler.read_many:  # one read per resource: spread out
                batches += [[r] for r in batch]
            else:
                batches.append(batch)

        def read_batch(batch: list[tuple[Target, Context, str, set[str]]]) -> None:
            handler = batch[0][0].handler
            try:
                lives = handler.read_many([(ctx, pid, wanted) for _, ctx, pid, wanted in batch])
            except Exception as exc:
                names = ", ".join(sorted(t.key for t, *_ in batch))
                raise AwsError(names, f"cannot read {handler.type_name}: {describe_exception(exc)}",
                               error_code(exc)) from exc
            for (t, _, pid, _), live in zip(batch, lives, strict=True):
                if live is not None:
                    live.attributes.setdefault("__physical_id__", pid)
                reads.live[t.key] = live

        _parallel(read_batch, batches)
        return reads

    def _lookup(self, t: Target, ctx: Context) -> str | None:
        """The physical id of what already exists under the name the spec writes literally (or the
        natural key of a type without names, e.g. a subscription's topic and endpoint): to find a
        clash, or what a killed create made."""
        h = t.handler
        prop = h.name_property
        if prop:
            props = t.spec.properties
            if isinstance(props.get(prop), str) and "${" not in props[prop]:
                return h.lookup(ctx, props)
            if t.prior is not None and t.prior.properties.get(prop):  # a journal entry that recorded the name
                return h.lookup(ctx, t.prior.properties)
            return None
        if type(h).lookup is Handler.lookup:
            return None
        props = self.props_from_state(t)
        return None if contains_unknown(props) else h.lookup(ctx, props)

    def props_from_state(self, t: Target) -> dict[str, Any]:
        """A journalled create's properties resolved against the state (for a natural-key search)."""
        if t.spec is None:
            return dict(t.prior.properties) if t.prior else {}

        def known(ref: Ref) -> Any:
            try:
                return self.resolver.value(ref, t.region)
            except DeployerError:
                return UNKNOWN
        props = substitute(t.handler.with_stack_tags(t.spec.properties, self.stack.tags), known)
        return {**(t.prior.properties if t.prior else {}), **props}

    def _references(self, targets: dict[str, Target]) -> list[tuple[Ref, str]]:
        """Every reference of the spec with the region it is resolved in."""
        pairs = [(r, targets[n].region) for n, res in self.stack.resources.items()
                 for _, r in walk_refs(res.properties) if isinstance(r, Ref)]
        return pairs + [(r, self.stack.region) for _, r in walk_refs(self.stack.outputs) if isinstance(r, Ref)]

    # --- decide (pure once refreshed) --------------------------------------------------------------------
    def decide(self, targets: dict[str, Target], graph: nx.DiGraph, reads: Reads,
               options: Options = Options()) -> tuple[Plan, dict[str, dict[str, Any]]]:
        """The plan, and each step's resolved properties (what a handler's declared plan reads need)."""
        self._targets, self._reads, self._steps, self._deciding = targets, reads, {}, True
        resolved: dict[str, dict[str, Any]] = {}
        order = list(nx.topological_sort(graph)) if nx.is_directed_acyclic_graph(graph) else list(targets)
        for key in order:
            t = targets[key]
            deps = tuple(sorted(p for p in graph.predecessors(key) if p in targets))
            if t.deposed:
                step = self._deposed(t, deps)
            elif t.spec is None or options.destroy:
                step = self._delete(t, deps, "removed from the spec" if t.spec is None else "the stack is being destroyed")
            else:
                changing = {p for p in deps if p in self._steps and self._steps[p].changing}
                step, resolved[key] = self._converge(t, deps, changing)
            self._steps[key] = step
            for i, pid in enumerate(reads.duplicates.get(key, ())):
                dup = f"{t.name}#duplicate-{i + 1}"
                self._steps[dup] = Step(name=t.name, type=t.handler.type_name, region=t.region,
                                        op=Op.DELETE_DEPOSED, physical_id=pid, deposed=dup, depends_on=(key,),
                                        reason="a second copy a retried create left behind")
        steps = list(self._steps.values())
        warnings: list[str] = list(self.stack.warnings)  # what the loader noticed (a template's ignored parts)
        if options.targets or options.excludes:
            missing = [n for n in (*options.targets, *options.excludes) if n not in targets]
            if missing:
                raise PlanError(f"--target/--exclude names unknown resources: {', '.join(missing)}")
            if options.destroy:
                keep = set(graph.nodes) if not options.targets else \
                    set().union(*({t} | nx.descendants(graph, t) for t in options.targets))
                for x in options.excludes:  # what stays must keep what it depends on
                    keep -= {x} | nx.ancestors(graph, x)
            else:
                keep = subgraph_for_targets(graph, list(options.targets), list(options.excludes))
            steps = [s for s in steps if s.key in keep or s.name in keep]
            warnings.append(f"this {'destroy' if options.destroy else 'plan'} is partial (--target/--exclude): "
                            "resources outside it were not considered")
        self._check_lifecycle(steps)
        outputs = {} if options.destroy else resolve_outputs(self.stack.outputs, self.resolver, self.stack.region)
        plan = Plan(stack=self.stack.name, region=self.stack.region, steps=tuple(steps), outputs=outputs,
                    output_specs={} if options.destroy else dict(self.stack.outputs),
                    serial=self.state.serial, lineage=self.state.lineage, warnings=tuple(warnings))
        return plan, resolved

    def _value(self, name: str, attr: str | None) -> Any:
        """What ${name} / ${name.attr} is at plan time (UNKNOWN when only the apply will tell). Before
        the decision (during the refresh) it is what the state recorded."""
        step, t = self._steps.get(name), self._targets.get(name)
        if not self._deciding:
            entry = self.state.resources.get(name)
            if entry is None or entry.physical_id is None or entry.pending:
                return UNKNOWN
            handler = self.handlers(entry.type)
            return handler.ref_value(entry.physical_id, entry.attributes) if attr is None else \
                entry.attributes.get(attr, UNKNOWN)
        if step is None or t is None:
            return UNKNOWN
        h = t.handler
        if step.op in (Op.CREATE, Op.REPLACE):
            pid = h.physical_id_for(dict(step.planned)) if not contains_unknown(step.planned) else None
            if attr is None and h.name_property and pid:
                return h.ref_value(pid, {})
            if attr and attr in step.planned and not contains_unknown(step.planned[attr]):
                return step.planned[attr]  # an attribute that is also a spec property (a VPC's CidrBlock)
            return UNKNOWN
        attrs = dict(step.attributes)
        if attr is None:
            return UNKNOWN if step.physical_id is None else h.ref_value(step.physical_id, attrs)
        return attrs.get(attr, UNKNOWN)

    def desired_props(self, t: Target, generate: bool = False) -> dict[str, Any]:
        """The spec's properties with stack tags and the resource's name, references unresolved. The
        name is the spec's, else the one the state recorded, else (or for a replacement, `generate`)
        a generated one."""
        raw = t.handler.with_stack_tags(dict(t.spec.properties), self.stack.tags)
        prop = t.handler.name_property
        if prop and prop not in raw:
            recorded = t.prior.properties.get(prop) if t.prior else None
            if recorded and not generate:
                raw[prop] = recorded
            else:
                serial = self.state.serial + (1 if generate else 0)
                raw[prop] = generated_name(t.handler, self.stack.name, t.name,
                                           substitute(raw, self.resolver.resolver_for(t.region)),
                                           self.state.lineage, serial)
        return raw

    def resolve(self, t: Target, raw: dict[str, Any]) -> dict[str, Any]:
        """Properties with references resolved as far as known, converted to the types the schema
        declares (CloudFormation's scalar conversion: "22" is 22 where a port is an integer)."""
        return coerce(t.handler.schema, substitute(raw, self.resolver.resolver_for(t.region)))

    def _converge(self, t: Target, deps: tuple[str, ...], changing: set[str]) -> tuple[Step, dict[str, Any]]:
        h, res, prior = t.handler, t.spec, t.prior
        live = self._reads.live.get(t.key)
        pid = (prior.physical_id if prior else None) or self._reads.located.get(t.key)
        raw = self.desired_props(t)
        resolved = self.resolve(t, raw)
        sensitive = sensitive_keys(h, res.properties, resolved)
        for k in sensitive:
            secrets.register(resolved.get(k))
        view = h.desired_view(resolved, self._reads.inputs.get(t.key))
        if h.snapshot_property and changing:
            view[h.snapshot_property] = UNKNOWN
        policy = deletion_policy(h, res, prior)
        old_policy = replace_policy(res, policy)
        base = dict(name=t.name, type=h.type_name, region=t.region, depends_on=deps, desired=raw, planned=view,
                    sensitive=sensitive, secret_digests=secret_digests(raw, sensitive),
                    token=token_for(self.state, t.name),
                    ignore_changes=tuple(res.lifecycle.ignore_changes), force_destroy=res.lifecycle.force_destroy,
                    final_snapshot=self._final_snapshot(t, pid) if old_policy == "snapshot" else None,
                    deletion_policy=policy)
        if live is None:
            changes = tuple(Change(k, None, v, sensitive=k in sensitive, policy=holds_policy(v))
                            for k, v in sorted(view.items()))
            return Step(op=Op.CREATE, changes=changes, fingerprint="absent",
                        reason="does not exist" if prior and not prior.pending else None, **base), resolved
        owner = live.owner
        live_pid = live.attributes.get("__physical_id__")
        unproven = prior is None or (prior.pending == "create" and h.create_checks_existence)
        if unproven and (not h.taggable or owner != (self.stack.name, t.name)):
            who = f" (owned by stack '{owner[0]}')" if owner else ""
            raise PlanError(f"{t.name}: {h.type_name} '{live_pid}' already exists outside this stack{who}; "
                            f"use `deployer import`")
        pid = pid or live_pid
        last = prior.properties if prior else {}
        view = mask_ignored(view, live.properties, res.lifecycle.ignore_changes)
        keys = (set(view) | set(last)) - {p for p in res.lifecycle.ignore_changes if "." not in p}
        actual = dict(live.properties)
        for k in h.write_only:
            if k in last:
                actual[k] = last[k]
            elif k in view:
                actual[k] = view[k]
        if prior:
            for k in prior.sensitive_paths:
                if k not in live.properties and k in last:
                    actual[k] = last[k]
        changes = tuple(compare(keys, view, actual, h.defaults, h.create_only,
                                set(sensitive) | set(prior.sensitive_paths if prior else []),
                                tags_key=h.tags_property))
        attrs = {k: v for k, v in live.attributes.items() if k != "__physical_id__"}
        base.update(physical_id=pid, before=self._before(h, live, prior), attributes=attrs,
                    fingerprint=fingerprint(live))
        if not changes:
            return Step(op=Op.NOOP, settle=bool(prior is None or prior.pending), **base), resolved
        forced = sorted({c.property for c in changes if c.replace})
        if not forced:
            refusal = h.refuse_update(actual, view, frozenset(c.property for c in changes))
            if refusal:
                raise PlanError(f"{t.name}: {refusal}; nothing was changed")
            return Step(op=Op.UPDATE, changes=changes, **base), resolved
        order = self._order(t)
        if old_policy == "retain":
            if order is Order.DELETE_FIRST:
                raise PlanError(f"{t.name}: changing {', '.join(forced)} replaces this {h.type_name}, and its "
                                "update_replace_policy (UpdateReplacePolicy) retain keeps the old one, which "
                                f"holds the name the spec sets ({h.name_property}): change the name too, or "
                                "drop the policy")
            base.update(keep_old=True, final_snapshot=None)
        if order is Order.CREATE_FIRST and h.name_property and h.name_property not in res.properties:
            raw = self.desired_props(t, generate=True)  # the new one needs a name of its own
            resolved = self.resolve(t, raw)
            new_view = h.desired_view(resolved, self._reads.inputs.get(t.key))
            if h.snapshot_property and changing:
                new_view[h.snapshot_property] = UNKNOWN
            name_change = Change(h.name_property, actual.get(h.name_property), new_view.get(h.name_property),
                                 replace=True)
            changes = (*[c for c in changes if c.path != h.name_property], name_change)
            base.update(desired=raw, planned=new_view, secret_digests=secret_digests(raw, sensitive))
        return Step(op=Op.REPLACE, changes=changes, order=order,
                    reason=f"{', '.join(forced)} cannot be changed in place", **base), resolved

    def _before(self, h: Handler, live: Live, prior: ResourceState | None) -> dict[str, Any]:
        """The live properties a rollback restores, with write-only ones as last applied."""
        before = dict(live.properties)
        for key in h.write_only:
            if key not in before and prior and key in prior.properties:
                before[key] = prior.properties[key]
        return before

    def _order(self, t: Target) -> Order:
        """Create the replacement first (CloudFormation's default), unless the spec fixes the name or
        the type's schema says delete_then_create; lifecycle.create_before_destroy insists on it."""
        h, res = t.handler, t.spec
        if res.lifecycle.create_before_destroy or h.replace_before_destroy:
            return Order.CREATE_FIRST
        if _literal_name(h, res) or h.replacement_strategy == "delete_then_create":
            return Order.DELETE_FIRST
        return Order.CREATE_FIRST

    def _final_snapshot(self, t: Target, pid: str | None) -> str:
        base = (pid or t.name).split(":")[-1].lower()
        return f"{base[:40]}-final-{_digest(self.state.lineage, t.name, self.state.serial)[:8]}"

    def _delete(self, t: Target, deps: tuple[str, ...], reason: str) -> Step:
        h, prior = t.handler, t.prior
        live = self._reads.live.get(t.key)
        base = dict(name=t.name, type=h.type_name, region=t.region, depends_on=deps,
                    physical_id=prior.physical_id if prior else None)
        if prior is None:  # in the spec, never applied: nothing to delete
            return Step(op=Op.NOOP, **base)
        if live is None:
            return Step(op=Op.DELETE, reason="already gone", fingerprint="absent", **base)
        if live.owner and live.owner != (self.stack.name, t.name):
            raise PlanError(f"{t.name}: the state says {h.type_name} '{prior.physical_id}' is this stack's, but its "
                            f"ownership tags name stack '{live.owner[0]}' as {live.owner[1]}: refusing to delete it. "
                            "If the state is wrong, `deployer state rm` the entry; nothing was changed")
        policy = deletion_policy(h, t.spec, prior)
        force = t.spec.lifecycle.force_destroy if t.spec else bool(prior.lifecycle.get("force_destroy"))
        changes = tuple(Change(k, v, None, sensitive=k in set(prior.sensitive_paths), policy=holds_policy(v))
                        for k, v in sorted(canon(prior.properties).items()))
        attrs = {k: v for k, v in live.attributes.items() if k != "__physical_id__"}
        return Step(op=Op.FORGET if policy in RETAINED else Op.DELETE, changes=changes, reason=reason,
                    before=self._before(h, live, prior), attributes=attrs, fingerprint=fingerprint(live),
                    force_destroy=force, desired=h.with_stack_tags(dict(t.spec.properties), self.stack.tags) if t.spec else {},
                    final_snapshot=self._final_snapshot(t, prior.physical_id) if policy == "snapshot" else None,
                    deletion_policy=policy, **base)

    def _deposed(self, t: Target, deps: tuple[str, ...]) -> Step:
        live = self._reads.live.get(t.key)
        return Step(name=t.name, type=t.handler.type_name, region=t.region, op=Op.DELETE_DEPOSED,
                    physical_id=t.prior.physical_id, deposed=t.key, depends_on=deps,
                    fingerprint=fingerprint(live),
                    reason="the object a replacement left behind" if live else "already gone")

    def _check_lifecycle(self, steps: list[Step]) -> None:
        """prevent_destroy, and SPEC §7's refusals: a named data-bearing replacement without
        lifecycle.allow_replace, a change CloudFormation can neither update nor replace."""
        for s in steps:
            t = self._targets.get(s.name)
            res = t.spec if t else None
            if res is None:
                continue
            if res.lifecycle.prevent_destroy and s.op in (Op.DELETE, Op.REPLACE):
                raise PlanError(f"{s.name}: lifecycle.prevent_destroy is set, but this plan would {s.action} it"
                                + (f" ({s.reason})" if s.reason else ""))
            if s.op in (Op.UPDATE, Op.REPLACE):
                self._check_immutable(t, s)
            if s.op is Op.REPLACE and t.handler.schema.get("dataBearing") and _literal_name(t.handler, res) \
                    and not res.lifecycle.allow_replace:
                forced = ", ".join(sorted({c.property for c in s.changes if c.replace}))
                raise PlanError(
                    f"{s.name}: changing {forced} replaces this {t.handler.type_name}, whose name "
                    f"{t.handler.name_property} is set in the spec, so the data it holds would be deleted; "
                    "set lifecycle.allow_replace: true to replace it (the old one is deleted first)")

    def _check_immutable(self, t: Target, s: Step) -> None:
        immutable = {p.split("/")[2] for p in t.handler.schema.get("immutableProperties", [])}
        hit = sorted({c.property for c in s.changes} & immutable)
        if hit:
            raise PlanError(
                f"{s.name}: {', '.join(hit)} of an existing {t.handler.type_name} cannot be changed, and "
                "CloudFormation will not replace it either (that would destroy what it holds); to proceed, "
                f"add a new resource with the new {', '.join(hit)} under another logical id, move what uses "
                f"{s.name} to it, then remove {s.name}")

    # --- plan-time reads and annotations ---------------------------------------------------------------------
    def plan_inputs(self, plan: Plan, resolved: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The declared plan-time reads of handlers that need their resolved properties (I/O)."""
        todo = [(key, self._targets[key]) for key in resolved
                if type(self._targets[key].handler).plan_reads is not Handler.plan_reads]
        out: dict[str, dict[str, Any]] = {}

        def one(item: tuple[str, Target]) -> None:
            key, t = item
            out[key] = t.handler.plan_reads(self.context(t), resolved[key])
        _parallel(one, todo)
        return out

    def annotate(self, plan: Plan) -> Plan:
        """What each destructive step destroys (one read per data-bearing resource), and which steps
        apply will refuse because they would delete data they may not (a bucket holding objects
        without force_destroy): the plan shows them; apply and destroy stop before changing anything."""
        todo = [s for s in plan.steps if s.op in (Op.DELETE, Op.REPLACE) and s.physical_id
                and self.handlers(s.type).schema.get("dataBearing")]
        found: dict[str, Step] = {}

        def one(s: Step) -> None:
            t = self._targets[s.name]
            ctx = self.context(t, Settings(force_destroy=s.force_destroy, final_snapshot=s.final_snapshot))
            stake = t.handler.at_stake(ctx, s.physical_id, {**(t.prior.properties if t.prior else {}),
                                                           **dict(s.before or {})})
            if stake is None:
                return
            blocked = None
            if stake.refuse_without_force and not s.force_destroy:
                blocked = (f"the {t.handler.type_name} '{s.physical_id}' holds {stake.summary}; apply refuses to "
                           f"{s.action} it and destroy them. Set lifecycle.force_destroy: true to empty it first, "
                           "or empty it yourself")
            found[s.key] = replace(s, destroys=stake.summary, blocked=blocked)
        _parallel(one, todo)
        if not found:
            return plan
        return plan.with_steps([found.get(s.key, s) for s in plan.steps])

    def make(self, options: Options = Options()) -> Plan:
        targets = self.targets()
        graph = self.graph(targets)
        reads = self.refresh(targets, options)
        plan, resolved = self.decide(targets, graph, reads, options)
        inputs = self.plan_inputs(plan, resolved)
        if inputs:
            reads.inputs = inputs
            plan, _ = self.decide(targets, graph, reads, options)
        return self.annotate(plan)


def _parallel(fn: Callable[[Any], None], items: list[Any]) -> None:
    """fn over every item on up to REFRESH_THREADS threads, each taking the next item when done (a
    future per item would cost more than most items: 5,000 resources to locate without a call took
    0.13 s of submitting). The first failure stops the rest and is raised."""
    if len(items) <= 1:
        for item in items:
            fn(item)
        return
    pending = iter(items)
    lock = threading.Lock()
    failed: list[BaseException] = []

    def worker() -> None:
        while not failed:
            with lock:
                item = next(pending, _NONE_LEFT)
            if item is _NONE_LEFT:
                return
            try:
                fn(item)
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread below
                failed.append(exc)

    with ThreadPoolExecutor(max_workers=min(REFRESH_THREADS, len(items))) as pool:
        for f in [pool.submit(worker) for _ in range(min(REFRESH_THREADS, len(items)))]:
            f.result()
    if failed:
        raise failed[0]


_NONE_LEFT = object()
