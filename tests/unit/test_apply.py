"""The applier with the fake cloud: dependency order, bounded parallelism, stop on the first failure,
rollback order, both replacement orders, the journal after a crash, lost answers and the
planned-vs-actual check — no emulator involved."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deployer.errors import ApplyFailed, DeployerError
from deployer.plan import Op, Order
from tests.unit.fake_cloud import ClaimingHandler, Engine, FakeHandler, stack


def chain(*names: str, **props) -> dict:
    """Things where each depends on the one before (by reference, so the graph has the edge)."""
    out = {}
    for i, name in enumerate(names):
        body = {"properties": {"Size": 1, **props}}
        if i:
            body["properties"]["Parent"] = "${" + names[i - 1] + ".Arn}"
        out[name] = body
    return out


def test_creates_run_in_dependency_order_each_as_soon_as_its_own_are_done():
    engine = Engine()
    engine.cloud.delay = 0.05
    spec = stack({**chain("A", "B", "C"), "Solo": {"properties": {}}})
    engine.apply(engine.plan(spec))
    order = engine.cloud.ops("create")
    assert order.index("A") < order.index("B") < order.index("C")
    assert order.index("Solo") < order.index("B")  # started with A, not after the whole first level
    b = engine.state.resources["B"]
    assert engine.cloud.resources[b.physical_id]["Parent"] == f"arn:fake:{engine.state.resources['A'].physical_id}"


def test_parallelism_bounds_the_calls_in_flight():
    engine = Engine()
    engine.cloud.delay = 0.05
    spec = stack({f"T{i}": {"properties": {}} for i in range(12)})
    engine.apply(engine.plan(spec), parallelism=3)
    assert engine.cloud.most_at_once == 3
    assert len(engine.cloud.resources) == 12


def test_first_failure_stops_new_work_skips_dependents_and_reports_only_the_root_cause():
    engine = Engine()
    engine.cloud.fail[("create", "B")] = "InvalidParameter"
    spec = stack(chain("A", "B", "C"))
    with pytest.raises(ApplyFailed) as failed:
        engine.apply(engine.plan(spec), parallelism=1)
    assert "C" not in engine.cloud.ops("create")  # a dependent of the failed step never ran
    assert failed.value.root_cause.startswith("B (AWS::Test::Thing)")
    assert "InvalidParameter" in failed.value.root_cause
    lines = failed.value.lines()
    assert lines[0].startswith("apply failed: B") and "rolled back every completed step (1)" in lines[-1]
    assert engine.cloud.resources == {} and engine.state.resources == {}


def test_rollback_undoes_completed_steps_in_reverse_order():
    engine = Engine()
    spec = stack(chain("A", "B", "C"))
    engine.apply(engine.plan(spec))
    grown = stack({**chain("A", "B", "C", Size=2), "D": {"properties": {"Parent": "${C.Arn}"}}})
    engine.cloud.fail[("create", "D")] = "LimitExceeded"
    engine.cloud.calls.clear()
    with pytest.raises(ApplyFailed):
        engine.apply(engine.plan(grown), parallelism=1)
    updates = [c for c in engine.cloud.calls if c[0] == "update"]
    assert [lid for _, lid in updates] == ["A", "B", "C", "C", "B", "A"]  # forward, then undone backwards
    assert {item["Size"] for item in engine.cloud.resources.values()} == {1}
    assert not any(r.pending for r in engine.state.resources.values())


def test_a_replacement_creates_first_by_default_and_moves_dependents_before_the_old_one_goes():
    engine = Engine()
    def spec(kind: str):
        return stack({"A": {"properties": {"Kind": kind}}, "B": {"properties": {"Parent": "${A.Arn}"}}})
    engine.apply(engine.plan(spec("x")))
    old = engine.state.resources["A"].physical_id
    plan = engine.plan(spec("y"))
    assert plan.step("A").op is Op.REPLACE and plan.step("A").order is Order.CREATE_FIRST
    engine.cloud.calls.clear()
    engine.apply(plan)
    assert engine.cloud.ops() == ["create:A", "update:B", "delete:A"]
    new = engine.state.resources["A"].physical_id
    assert new != old and old not in engine.cloud.resources
    assert engine.cloud.resources[engine.state.resources["B"].physical_id]["Parent"] == f"arn:fake:{new}"
    assert set(engine.state.resources) == {"A", "B"}


def test_a_fixed_name_replaces_delete_first():
    engine = Engine()
    spec = stack({"A": {"properties": {"Name": "fixed", "Kind": "x"}}})
    engine.apply(engine.plan(spec))
    plan = engine.plan(stack({"A": {"properties": {"Name": "fixed", "Kind": "y"}}}))
    assert plan.step("A").order is Order.DELETE_FIRST
    engine.cloud.calls.clear()
    engine.apply(plan)
    assert engine.cloud.ops() == ["delete:A", "create:A"]


def test_a_failed_create_first_replacement_is_undone_and_the_old_one_kept():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {"Kind": "x"}}})))
    old = engine.state.resources["A"].physical_id
    engine.cloud.fail[("create", "A")] = "InvalidParameter"
    with pytest.raises(ApplyFailed):
        engine.apply(engine.plan(stack({"A": {"properties": {"Kind": "y"}}})))
    assert engine.state.resources["A"].physical_id == old and set(engine.state.resources) == {"A"}
    assert list(engine.cloud.resources) == [old]


def test_a_deposed_object_left_by_a_crash_is_deleted_by_the_next_plan():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {"Kind": "x"}}})))
    plan = engine.plan(stack({"A": {"properties": {"Kind": "y"}}}))
    engine.cloud.fail[("delete", "A")] = "Crash"  # the process "dies" at the old object's delete
    with pytest.raises(ApplyFailed):
        engine.apply(plan, rollback=False)
    assert "A#deposed" in engine.state.resources
    del engine.cloud.fail[("delete", "A")]
    again = engine.plan(stack({"A": {"properties": {"Kind": "y"}}}))
    deposed = again.step("A#deposed")
    assert deposed.op is Op.DELETE_DEPOSED and again.step("A").op is Op.NOOP
    engine.apply(again)
    assert set(engine.state.resources) == {"A"} and len(engine.cloud.resources) == 1


def test_a_lost_create_answer_adopts_exactly_the_one_it_made():
    engine = Engine()
    engine.cloud.lose.add(("create", "A"))
    engine.apply(engine.plan(stack({"A": {"properties": {"Size": 3}}})))
    assert len(engine.cloud.resources) == 1
    assert engine.state.resources["A"].physical_id in engine.cloud.resources
    assert engine.cloud.ops("create") == ["A"]  # read before retrying: no second create


def test_duplicates_carrying_the_steps_tags_are_deleted():
    engine = Engine()
    spec = stack({"A": {"properties": {}}})
    handler_ctx_tags = {"deployer:stack": "unit", "deployer:logical-id": "A"}
    engine.cloud.resources["thing-90"] = {"Name": "x", "Tags": dict(handler_ctx_tags)}
    engine.cloud.resources["thing-91"] = {"Name": "y", "Tags": dict(handler_ctx_tags)}
    engine.cloud.lose.add(("create", "A"))
    engine.apply(engine.plan(spec))
    mine = [pid for pid, item in engine.cloud.resources.items() if item["Tags"] == handler_ctx_tags]
    assert mine == [engine.state.resources["A"].physical_id]


def test_a_journalled_create_without_an_id_is_found_by_its_tags_after_a_kill():
    from deployer.state.model import ResourceState

    engine = Engine()
    engine.cloud.resources["thing-7"] = {"Name": "unit-A-1234", "Size": 1,
                                         "Tags": {"deployer:stack": "unit", "deployer:logical-id": "A"}}
    engine.state.resources["A"] = ResourceState(type="AWS::Test::Thing", physical_id=None, region="us-east-1",
                                                pending="create", token="t", properties={"Name": "unit-A-1234"})
    plan = engine.plan(stack({"A": {"properties": {"Size": 1}}}))
    assert plan.step("A").op is Op.NOOP and plan.step("A").physical_id == "thing-7"
    engine.apply(plan)
    entry = engine.state.resources["A"]
    assert entry.physical_id == "thing-7" and entry.pending is None
    assert engine.cloud.ops("create") == []


def test_the_applier_refuses_when_a_value_differs_from_what_the_plan_showed():
    engine = Engine()
    plan = engine.plan(stack({"A": {"properties": {"Size": 2}}}))
    step = plan.step("A")
    tampered = plan.with_steps([replace(step, desired={**step.desired, "Size": 5})])
    with pytest.raises(ApplyFailed) as failed:
        engine.apply(tampered)
    assert "at apply time, but the plan showed" in failed.value.root_cause
    assert engine.cloud.resources == {}


def test_a_removed_resource_is_deleted_after_what_depends_on_it():
    engine = Engine()
    engine.apply(engine.plan(stack(chain("A", "B", "C"))))
    engine.cloud.calls.clear()
    engine.apply(engine.plan(stack({}), destroy=True))
    assert engine.cloud.ops("delete") == ["C", "B", "A"]
    assert engine.state.resources == {} and engine.cloud.resources == {}


def test_an_interrupted_apply_with_nothing_done_says_so():
    from deployer.errors import Interrupted

    engine = Engine()
    plan = engine.plan(stack({"A": {"properties": {}}}))
    from deployer.apply import Applier

    applier = Applier(plan, engine.state, engine.handlers, engine.save, engine.aws)
    applier.stop.set()
    with pytest.raises(Interrupted, match="nothing had completed"):
        applier.run()


def test_retained_resources_are_only_forgotten():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {}, "deletion_policy": "retain"}})))
    plan = engine.plan(stack({"A": {"properties": {}, "deletion_policy": "retain"}}), destroy=True)
    assert plan.step("A").op is Op.FORGET and plan.step("A").action == "delete"
    engine.apply(plan)
    assert engine.state.resources == {} and len(engine.cloud.resources) == 1


def test_retain_except_on_create_forgets_on_delete_but_a_failed_create_is_undone():
    engine = Engine()
    spec = {"A": {"properties": {}, "deletion_policy": "retain_except_on_create"},
            "B": {"properties": {"Parent": "${A.Arn}"}}}
    engine.cloud.fail[("create", "B")] = "InvalidParameter"
    with pytest.raises(ApplyFailed):
        engine.apply(engine.plan(stack(spec)))
    assert engine.cloud.resources == {} and engine.state.resources == {}  # the rollback deleted A
    del engine.cloud.fail[("create", "B")]
    engine.apply(engine.plan(stack(spec)))
    plan = engine.plan(stack(spec), destroy=True)
    assert plan.step("A").op is Op.FORGET
    engine.apply(plan)
    assert engine.state.resources == {} and len(engine.cloud.resources) == 1


def test_update_replace_policy_retain_keeps_the_old_one_and_forgets_it():
    engine = Engine()
    def spec(kind: str, **extra):
        return stack({"A": {"properties": {"Kind": kind, **extra}, "update_replace_policy": "retain"}})
    engine.apply(engine.plan(spec("x")))
    old = engine.state.resources["A"].physical_id
    plan = engine.plan(spec("y"))
    step = plan.step("A")
    assert step.op is Op.REPLACE and step.keep_old and step.order is Order.CREATE_FIRST
    engine.cloud.calls.clear()
    engine.apply(plan)
    assert engine.cloud.ops() == ["create:A"]
    assert old in engine.cloud.resources and set(engine.state.resources) == {"A"}
    assert engine.state.resources["A"].physical_id != old
    with pytest.raises(DeployerError, match="update_replace_policy .* retain keeps the old one"):
        engine.plan(spec("z", Name="fixed"))  # a fixed name must go first, which retain forbids


def test_a_step_that_cannot_resolve_a_reference_fails_before_any_call():
    engine = Engine()
    plan = engine.plan(stack(chain("A", "B")))
    only_b = plan.with_steps([s for s in plan.steps if s.name == "B"])
    with pytest.raises(ApplyFailed, match="not available"):
        engine.apply(only_b)
    assert engine.cloud.calls == []


def test_deployer_error_is_the_base_of_apply_failures():
    assert issubclass(ApplyFailed, DeployerError)


def test_a_create_is_told_whether_this_command_read_its_absence(monkeypatch):
    """Only a plan made by the applying command itself (fresh_reads) read the absence moments ago."""
    seen = []
    original = FakeHandler.create

    def create(self, ctx, props):
        seen.append(ctx.settings.absence_fresh)
        return original(self, ctx, props)

    monkeypatch.setattr(FakeHandler, "create", create)
    for fresh in (True, False):
        engine = Engine()
        engine.apply(engine.plan(stack({"A": {"properties": {}}})), fresh_reads=fresh)
    assert seen == [True, False]


def _recording_saves(engine: Engine) -> list[dict[str, str | None]]:
    """What each state write held: logical id -> pending."""
    written: list[dict[str, str | None]] = []
    save = engine.save

    def record(state):
        written.append({k: e.pending for k, e in state.resources.items()})
        save(state)

    engine.save = record
    return written


def test_independent_creates_are_announced_in_one_record_before_the_first_call():
    engine = Engine()
    written = _recording_saves(engine)
    engine.apply(engine.plan(stack({"A": {"properties": {}}, "B": {"properties": {}}, "C": {"properties": {}}})),
                 parallelism=1)
    assert written[0] == {"A": "create", "B": "create", "C": "create"}
    assert len(written) == 4  # the announcement, then one result per create: no intent of its own
    assert {k: e.pending for k, e in engine.state.resources.items()} == {"A": None, "B": None, "C": None}


def test_a_create_that_needs_another_steps_result_journals_its_own_intent():
    engine = Engine()
    written = _recording_saves(engine)
    engine.apply(engine.plan(stack({**chain("A", "B"), "Solo": {"properties": {}}})), parallelism=1)
    assert written[0] == {"A": "create", "Solo": "create"}
    assert {"B": "create"}.items() <= written[written.index(next(w for w in written if "B" in w))].items()
    assert all(e.pending is None for e in engine.state.resources.values())


@pytest.mark.parametrize("rollback", [True, False])
def test_announced_creates_that_never_started_leave_no_entry(rollback):
    engine = Engine()
    engine.cloud.fail[("create", "A")] = "InvalidParameter"
    spec = stack({"A": {"properties": {}}, "B": {"properties": {}}, "C": {"properties": {}}})
    with pytest.raises(ApplyFailed):
        engine.apply(engine.plan(spec), parallelism=1, rollback=rollback)
    assert engine.cloud.ops("create") == ["A"]
    assert engine.state.resources == {} and engine.cloud.resources == {}


def test_a_run_killed_after_the_announcement_is_finished_by_the_next_apply():
    """The announcement is what a crash leaves: pending creates, looked up by the next plan, created
    once (a lost answer of one is adopted, not made twice)."""
    engine = Engine()
    spec = stack({"A": {"properties": {}}, "B": {"properties": {}}})
    engine.cloud.lose.add(("create", "B"))
    plan = engine.plan(spec)
    from deployer.apply import Applier

    applier = Applier(plan, engine.state, engine.handlers, engine.save, engine.aws, parallelism=1)
    applier._announce([s for s in plan.steps if s.op is Op.CREATE])  # the crash: nothing after this
    engine.state = applier.state
    assert {k: e.pending for k, e in engine.state.resources.items()} == {"A": "create", "B": "create"}
    engine.apply(engine.plan(spec))
    assert sorted(engine.cloud.ops("create")) == ["A", "B"] and len(engine.cloud.resources) == 2
    assert all(e.pending is None for e in engine.state.resources.values())
    assert engine.plan(spec).has_changes is False


def test_an_announced_create_that_fails_before_its_call_leaves_no_entry(monkeypatch):
    from deployer.apply import Applier

    def refuse(self, step, handler, live):
        raise DeployerError(f"{step.name}: a referenced value is still unknown at apply time")

    engine = Engine()
    spec = stack({"A": {"properties": {}}, "B": {"properties": {}}})
    plan = engine.plan(spec)
    monkeypatch.setattr(Applier, "resolved", refuse)
    with pytest.raises(ApplyFailed):
        engine.apply(plan, parallelism=1)
    assert engine.cloud.ops("create") == [] and engine.state.resources == {}


def test_a_steps_declared_plan_reads_are_read_once_per_step(monkeypatch):
    """The planned-vs-actual check and the entry recorded after the create share one read of the inputs."""
    reads = []

    def plan_reads(self, ctx, props):
        reads.append(ctx.logical_id)
        return {"seen": props.get("Size")}

    monkeypatch.setattr(FakeHandler, "plan_reads", plan_reads)
    engine = Engine()
    plan = engine.plan(stack({"A": {"properties": {"Size": 2}}, "B": {"properties": {"Size": 3}}}))
    reads.clear()
    engine.apply(plan)
    assert sorted(reads) == ["A", "B"]


# --- a create that is its own existence check (the plan was folded into the apply) -----------------

OURS = {"deployer:stack": "unit", "deployer:logical-id": "A"}


def test_a_folded_create_over_a_name_taken_outside_fails_and_rolls_back():
    engine = Engine(handler_type=ClaimingHandler)
    engine.cloud.resources["taken"] = {"Name": "taken", "Size": 5, "Tags": {"team": "other"}}
    plan = engine.plan(stack({"A": {"properties": {"Name": "taken", "Size": 1}},
                              "B": {"properties": {"Name": "free", "Size": 1}}}), fold_existence=True)
    with pytest.raises(ApplyFailed, match="already exists and is not this stack's; use `deployer import`"):
        engine.apply(plan, parallelism=1)
    assert engine.cloud.resources == {"taken": {"Name": "taken", "Size": 5, "Tags": {"team": "other"}}}
    assert "A" not in engine.state.resources and "B" not in engine.state.resources


def test_a_folded_create_adopts_what_carries_its_own_tags():
    """The state was lost: the create meets the resource it made before, tagged as this one's."""
    engine = Engine(handler_type=ClaimingHandler)
    engine.cloud.resources["taken"] = {"Name": "taken", "Size": 5, "Tags": dict(OURS)}
    engine.apply(engine.plan(stack({"A": {"properties": {"Name": "taken", "Size": 1}}}), fold_existence=True))
    assert engine.state.resources["A"].physical_id == "taken" and engine.state.resources["A"].pending is None
    assert engine.cloud.resources["taken"]["Size"] == 1 and list(engine.cloud.resources) == ["taken"]


def test_a_folded_create_whose_answer_was_lost_adopts_the_one_it_made():
    engine = Engine(handler_type=ClaimingHandler)
    engine.cloud.lose.add(("create", "A"))
    engine.apply(engine.plan(stack({"A": {"properties": {"Name": "mine", "Size": 2}}}), fold_existence=True))
    assert engine.state.resources["A"].physical_id == "mine" and list(engine.cloud.resources) == ["mine"]
    assert engine.cloud.ops("create") == ["A"]


# --- attributes a create leaves out (Handler.lazy_attributes) -----------------------------------------

class LazyHandler(FakeHandler):
    """A thing whose `Extra` attribute costs a read of its own: its create leaves it out."""

    lazy_attributes = frozenset({"Extra"})

    def read(self, ctx, physical_id, wanted):
        live = super().read(ctx, physical_id, wanted)
        if live is not None:
            live.attributes["Extra"] = f"extra-of-{physical_id}"
        return live


def test_a_lazy_attribute_is_read_once_when_referred_to_and_recorded():
    engine = Engine(handler_type=LazyHandler)
    spec = stack({"A": {"properties": {}},
                  "B": {"properties": {"Parent": "${A.Extra}"}},
                  "C": {"properties": {"Parent": "${A.Extra}"}}})
    engine.apply(engine.plan(spec))
    a = engine.state.resources["A"].physical_id
    assert engine.handler.reads == [a]
    assert engine.cloud.resources[engine.state.resources["B"].physical_id]["Parent"] == f"extra-of-{a}"
    assert engine.cloud.resources[engine.state.resources["C"].physical_id]["Parent"] == f"extra-of-{a}"
    assert engine.state.resources["A"].attributes["Extra"] == f"extra-of-{a}"


def test_a_lazy_attribute_nothing_refers_to_is_never_read():
    engine = Engine(handler_type=LazyHandler)
    engine.apply(engine.plan(stack({"A": {"properties": {}}, "B": {"properties": {"Parent": "${A.Arn}"}}})))
    assert engine.handler.reads == [] and "Extra" not in engine.state.resources["A"].attributes
