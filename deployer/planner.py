"""Refresh and diff: read every resource in the spec or the state (in parallel), then decide
per resource whether to create, update, replace, delete or leave it alone."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from deployer import secrets
from deployer.aws import Aws
from deployer.diff import Change, compare, mask_ignored
from deployer.errors import AwsError, PlanError
from deployer.graph import build_graph, subgraph_for_targets
from deployer.normalize import canon
from deployer.plan import Action, Plan
from deployer.resolve import Resolver, refers_to_secret
from deployer.resolve import outputs as resolve_outputs
from deployer.resources import handler_for
from deployer.resources.base import Context, Handler, Live, tags_to_map
from deployer.spec.model import Resource, Stack
from deployer.spec.refs import UNKNOWN, contains_unknown, substitute
from deployer.state.model import ResourceState, State

REFRESH_THREADS = 16


@dataclass
class Item:
    """Everything known about one resource while planning and applying (not serialised)."""

    name: str
    handler: Handler
    region: str
    spec: Resource | None
    prior: ResourceState | None
    live: Live | None = None
    desired: dict[str, Any] = field(default_factory=dict)  # resolved as far as known at plan time
    sensitive: set[str] = field(default_factory=set)
    action: Action | None = None


@dataclass
class Planned:
    plan: Plan
    items: dict[str, Item]
    graph: nx.DiGraph
    resolver: Resolver | None = None


def merged_tags(stack: Stack, handler: Handler, props: dict[str, Any]) -> dict[str, Any]:
    """Stack-level tags added to a taggable resource's own (the resource's win)."""
    if not handler.taggable or not stack.tags:
        return props
    key = handler.tags_property
    own = props.get(key)
    if isinstance(own, str):  # a reference producing the whole tag list; leave it alone
        return props
    merged = dict(stack.tags)
    merged.update(tags_to_map(own))
    out = dict(props)
    out[key] = [{"Key": k, "Value": v} for k, v in sorted(merged.items())] if not isinstance(own, dict) else merged
    return out


def _name_suffix(lineage: str, logical_id: str, serial: int) -> str:
    return hashlib.sha256(f"{lineage}/{logical_id}/{serial}".encode()).hexdigest()[:8]


def generated_name(handler: Handler, stack: str, logical_id: str, props: dict[str, Any], lineage: str,
                   serial: int) -> str:
    """A deterministic unique name for a resource whose spec sets none (stable across re-plans of one serial)."""
    return handler.generate_name(stack, logical_id, props, _name_suffix(lineage, logical_id, serial))


def fingerprint(live: Live | None) -> str:
    if live is None:
        return "absent"
    data = json.dumps(canon(live.properties), sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()[:32]


def stored_properties(props: dict[str, Any], sensitive: set[str]) -> dict[str, Any]:
    """What the state keeps of applied properties: sensitive ones only as digests."""
    return {k: (secrets.digest(v) if k in sensitive else v) for k, v in props.items()}


class Planner:
    def __init__(self, stack: Stack, aws: Aws, state: State):
        self.stack = stack
        self.aws = aws
        self.state = state

    def context(self, item: Item) -> Context:
        token = hashlib.sha256(f"{self.state.lineage}/{self.state.serial}/{item.name}".encode()).hexdigest()[:32]
        return Context(self.aws, item.region, self.stack.name, item.name, token=token)

    def items(self) -> dict[str, Item]:
        items: dict[str, Item] = {}
        for name, res in self.stack.resources.items():
            handler = handler_for(res.type)
            if handler is None:
                raise PlanError(f"{name}: resource type {res.type} has no handler")
            items[name] = Item(name, handler, res.region or self.stack.region, res, self.state.resources.get(name))
        for name, prior in self.state.resources.items():
            if name not in items:
                handler = handler_for(prior.type)
                if handler is None:
                    raise PlanError(f"{name}: the state holds type {prior.type}, which this deployer cannot manage")
                items[name] = Item(name, handler, prior.region, None, prior)
        return items

    # --- refresh --------------------------------------------------------------------------------
    def refresh(self, items: dict[str, Item]) -> None:
        """Read every resource that has (or may have) a physical id: one batch per (type, region),
        the batches in parallel; a handler reads its batch with as few calls as its API allows."""
        requests: dict[tuple[str, str], list[tuple[Item, Context, str, set[str]]]] = {}

        def locate(item: Item) -> None:
            pid = item.prior.physical_id if item.prior else None
            wanted = set(item.prior.properties) if item.prior else set()
            if item.spec:
                wanted |= set(item.spec.properties)
            if item.handler.taggable:
                wanted.add(item.handler.tags_property)
            ctx = self.context(item)
            if pid is None and item.spec is not None:
                pid = self._candidate_id(item)
            if pid is None and item.prior is not None and item.prior.pending == "create":
                pid = item.handler.find_owned(ctx)
            if pid is not None:
                requests.setdefault((item.handler.type_name, item.region), []).append((item, ctx, pid, wanted))

        def read_batch(batch: list[tuple[Item, Context, str, set[str]]]) -> None:
            handler = batch[0][0].handler
            try:
                lives = handler.read_many([(ctx, pid, wanted) for _, ctx, pid, wanted in batch])
            except Exception as exc:
                from deployer.aws import describe_exception, error_code

                names = ", ".join(sorted(it.name for it, *_ in batch))
                raise AwsError(names, f"cannot read {handler.type_name}: {describe_exception(exc)}",
                               error_code(exc)) from exc
            for (item, _, pid, _), live in zip(batch, lives, strict=True):
                if live is not None:
                    live.attributes.setdefault("__physical_id__", pid)
                item.live = live

        todo = list(items.values())
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=min(REFRESH_THREADS, len(todo))) as pool:
            for f in [pool.submit(locate, it) for it in todo]:
                f.result()
        batches: list[list[tuple[Item, Context, str, set[str]]]] = []
        for batch in requests.values():
            handler = batch[0][0].handler
            if type(handler).read_many is Handler.read_many:  # one read per resource: spread across threads
                batches += [[r] for r in batch]
            else:
                batches.append(batch)
        if batches:
            with ThreadPoolExecutor(max_workers=min(REFRESH_THREADS, len(batches))) as pool:
                for f in [pool.submit(read_batch, b) for b in batches]:
                    f.result()

    def _candidate_id(self, item: Item) -> str | None:
        """The physical id a resource not in state would have: its explicit name (to detect a name clash)."""
        props = item.spec.properties
        name_prop = item.handler.name_property
        if name_prop and isinstance(props.get(name_prop), str) and "${" not in props[name_prop]:
            return item.handler.physical_id_for(props)
        return None

    # --- diff -----------------------------------------------------------------------------------
    def make(self, targets: list[str] | None = None, excludes: list[str] | None = None,
             destroy: bool = False) -> Planned:
        items = self.items()
        graph = build_graph(self.stack)
        for name, item in items.items():
            graph.add_node(name, type=item.handler.type_name)
            if item.spec is None and item.prior:
                for dep in item.prior.depends_on:
                    if dep in items:
                        graph.add_edge(dep, name, fields=["(state)"])
        self.refresh(items)
        resolver = Resolver(self.aws, self.stack.name, self.stack.region, lambda n, a: self._plan_value(items, n, a))
        order = list(nx.topological_sort(graph)) if nx.is_directed_acyclic_graph(graph) else list(items)
        actions: list[Action] = []
        for name in order:
            item = items[name]
            changing = {p for p in graph.predecessors(name) if p in items and items[p].action
                        and items[p].action.action != "noop"}
            action = self._decide(item, resolver, destroy, changing)
            item.action = action
            actions.append(action)
        warnings: list[str] = []
        if targets or excludes:
            missing = [t for t in (targets or []) + (excludes or []) if t not in items]
            if missing:
                raise PlanError(f"--target/--exclude names unknown resources: {', '.join(missing)}")
            keep = subgraph_for_targets(graph, targets or [], excludes or [])
            actions = [a for a in actions if a.name in keep]
            warnings.append("this plan is partial (--target/--exclude): resources outside it were not considered")
        self._check_lifecycle(items, actions)
        outputs = {} if destroy else resolve_outputs(self.stack.outputs, resolver, self.stack.region)
        plan = Plan(stack=self.stack.name, region=self.stack.region, actions=actions, outputs=outputs,
                    serial=self.state.serial, lineage=self.state.lineage, warnings=warnings)
        return Planned(plan, items, graph, resolver)

    def _plan_value(self, items: dict[str, Item], name: str, attr: str | None) -> Any:
        item = items.get(name)
        if item is None or item.action is None:
            return UNKNOWN
        if item.action.action in ("create", "replace"):
            pid = item.handler.physical_id_for(item.desired) if not contains_unknown(item.desired) else None
            if attr is None and item.handler.name_property and pid:
                return item.handler.ref_value(pid, {})
            if attr and attr in item.desired and not contains_unknown(item.desired[attr]):
                return item.desired[attr]  # an attribute that is also a spec property (a VPC's CidrBlock)
            return UNKNOWN
        attrs = (item.live.attributes if item.live else {}) or (item.prior.attributes if item.prior else {})
        if attr is None:
            pid = item.prior.physical_id if item.prior and item.prior.physical_id else attrs.get("__physical_id__")
            return UNKNOWN if pid is None else item.handler.ref_value(pid, attrs)
        if attr in attrs:
            return attrs[attr]
        if item.prior and attr in item.prior.attributes:
            return item.prior.attributes[attr]
        return UNKNOWN

    def desired_props(self, item: Item, resolver: Resolver) -> dict[str, Any]:
        """The spec's properties with stack tags, generated name and references resolved where known."""
        raw = merged_tags(self.stack, item.handler, item.spec.properties)
        resolved = substitute(raw, resolver.resolver_for(item.region))
        name_prop = item.handler.name_property
        if name_prop and name_prop not in resolved:
            if item.prior and item.prior.properties.get(name_prop):
                resolved[name_prop] = item.prior.properties[name_prop]
            else:
                resolved[name_prop] = generated_name(item.handler, self.stack.name, item.name, resolved,
                                                     self.state.lineage, self.state.serial)
        return resolved

    def sensitive_keys(self, item: Item, resolved: dict[str, Any]) -> set[str]:
        keys = {k for k, v in item.spec.properties.items() if refers_to_secret(v)}
        keys |= {k for k in item.handler.sensitive_properties if k in resolved}
        keys |= {k for k, v in resolved.items() if secrets.is_sensitive(json.dumps(v, default=str))}
        return keys

    def _decide(self, item: Item, resolver: Resolver, destroy: bool, changing: set[str] | None = None) -> Action:
        h = item.handler
        pid = item.prior.physical_id if item.prior else None
        base = dict(name=item.name, type=h.type_name, region=item.region, physical_id=pid,
                    depends_on=sorted(item.spec.depends_on) if item.spec else [])
        if item.spec is None or destroy:
            if item.prior is None and (item.live is None or not destroy):
                return Action(action="noop", **base)
            if item.live is None:
                return Action(action="delete", reason="already gone", **base, fingerprint="absent")
            retain = bool(item.spec and item.spec.deletion_policy == "retain")
            if item.prior is None:  # destroy of a resource found by name but never recorded: leave it
                return Action(action="noop", **base)
            changes = [Change(k, v, None, sensitive=k in set(item.prior.sensitive_paths))
                       for k, v in sorted(canon(item.prior.properties).items())]
            return Action(action="delete", changes=changes, retain=retain, fingerprint=fingerprint(item.live),
                          reason="removed from the spec" if item.spec is None else "destroy", **base)

        desired = self.desired_props(item, resolver)
        item.desired = desired
        item.sensitive = self.sensitive_keys(item, desired)
        view = h.desired_view(desired, self.context(item))
        if h.snapshot_property and changing:
            view[h.snapshot_property] = UNKNOWN
        if item.live is None:
            changes = [Change(k, None, v, sensitive=k in item.sensitive) for k, v in sorted(view.items())]
            return Action(action="create", changes=changes, fingerprint="absent",
                          reason="does not exist" if item.prior else None, **base)
        owner = item.live.owner
        if item.prior is None and (not h.taggable or owner != (self.stack.name, item.name)):
            who = f" (owned by stack '{owner[0]}')" if owner else ""
            raise PlanError(f"{item.name}: {h.type_name} '{item.live.attributes.get('__physical_id__')}' already "
                            f"exists outside this stack{who}; use `deployer import`")
        if item.prior is None:
            base["physical_id"] = item.live.attributes.get("__physical_id__")
        last = item.prior.properties if item.prior else {}
        view = mask_ignored(view, item.live.properties, item.spec.lifecycle.ignore_changes)
        keys = set(view) | set(last)
        keys -= {p for p in item.spec.lifecycle.ignore_changes if "." not in p}
        actual = dict(item.live.properties)
        for k in h.write_only:
            if k in last:
                actual[k] = last[k]
            elif k in view:
                actual[k] = view[k]
        if item.prior:
            for k in item.prior.sensitive_paths:
                if k not in item.live.properties and k in last:
                    actual[k] = last[k]
        changes = compare(keys, view, actual, h.defaults, h.create_only, item.sensitive | set(
            item.prior.sensitive_paths if item.prior else []), tags_key=h.tags_property)
        if not changes:
            return Action(action="noop", fingerprint=fingerprint(item.live), **base)
        forced = sorted({c.path.split(".")[0] for c in changes if c.replace})
        if forced:
            return Action(action="replace", changes=changes, fingerprint=fingerprint(item.live),
                          reason=f"{', '.join(forced)} cannot be changed in place",
                          create_before_destroy=item.spec.lifecycle.create_before_destroy or h.replace_before_destroy,
                          **base)
        return Action(action="update", changes=changes, fingerprint=fingerprint(item.live), **base)

    def _check_lifecycle(self, items: dict[str, Item], actions: list[Action]) -> None:
        for a in actions:
            item = items[a.name]
            protected = item.spec.lifecycle.prevent_destroy if item.spec else False
            if protected and a.action in ("delete", "replace") and not a.retain:
                raise PlanError(f"{a.name}: lifecycle.prevent_destroy is set, but this plan would {a.action} it"
                                + (f" ({a.reason})" if a.reason else ""))

