"""The planner with the fake cloud: the decision is a pure function of the reads, and SPEC §7's rules
(replacement order, refusals of named data-bearing replacements and immutable changes) hold."""

from __future__ import annotations

import pytest

from deployer.errors import PlanError
from deployer.plan import Op, Order
from deployer.planner import Options, Planner
from tests.unit.fake_cloud import ClaimingHandler, Engine, stack


def planner(engine: Engine, spec) -> Planner:
    return Planner(spec, engine.aws, engine.state, engine.handlers)


def test_decide_makes_no_call_once_the_refresh_has_returned():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {"Size": 1}}})))
    spec = stack({"A": {"properties": {"Size": 2}}, "B": {"properties": {}}})
    p = planner(engine, spec)
    targets = p.targets()
    reads = p.refresh(targets)
    engine.cloud.resources.clear()  # if decide read anything now, it would see nothing
    plan, _ = p.decide(targets, p.graph(targets), reads)
    assert {s.name: s.op for s in plan.steps} == {"A": Op.UPDATE, "B": Op.CREATE}
    assert engine.aws.log.calls == []


def test_only_what_the_spec_or_the_last_apply_set_is_compared_and_removed_properties_reset():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {"Size": 3}}})))
    pid = engine.state.resources["A"].physical_id
    engine.cloud.resources[pid]["Colour"] = "red"  # set outside deployer, never in the spec: not compared
    plan = engine.plan(stack({"A": {"properties": {}}}))
    changes = {c.path: (c.before, c.after) for c in plan.step("A").changes}
    assert changes == {"Size": (3, 1)}  # back to the default


def test_generated_names_are_stable_and_a_create_first_replacement_gets_a_new_one():
    engine = Engine()
    first = engine.plan(stack({"A": {"properties": {"Kind": "x"}}}))
    again = engine.plan(stack({"A": {"properties": {"Kind": "x"}}}))
    assert first.step("A").desired["Name"] == again.step("A").desired["Name"]
    engine.apply(first)
    replaced = engine.plan(stack({"A": {"properties": {"Kind": "y"}}})).step("A")
    assert replaced.order is Order.CREATE_FIRST
    assert replaced.desired["Name"] != first.step("A").desired["Name"]
    assert any(c.path == "Name" and c.replace for c in replaced.changes)


def test_create_before_destroy_and_the_schema_decide_the_order():
    engine = Engine(schema={"replacementStrategy": "delete_then_create"})
    engine.apply(engine.plan(stack({"A": {"properties": {"Kind": "x"}}})))
    assert engine.plan(stack({"A": {"properties": {"Kind": "y"}}})).step("A").order is Order.DELETE_FIRST
    forced = stack({"A": {"properties": {"Kind": "y"}, "lifecycle": {"create_before_destroy": True}}})
    assert engine.plan(forced).step("A").order is Order.CREATE_FIRST


def test_a_named_data_bearing_replacement_needs_allow_replace():
    engine = Engine(schema={"dataBearing": True})
    engine.apply(engine.plan(stack({"A": {"properties": {"Name": "keep-me", "Kind": "x"}}})))
    with pytest.raises(PlanError, match=r"Kind.*lifecycle.allow_replace"):
        engine.plan(stack({"A": {"properties": {"Name": "keep-me", "Kind": "y"}}}))
    allowed = stack({"A": {"properties": {"Name": "keep-me", "Kind": "y"}, "lifecycle": {"allow_replace": True}}})
    step = engine.plan(allowed).step("A")
    assert step.op is Op.REPLACE and step.order is Order.DELETE_FIRST


def test_an_immutable_property_change_fails_the_plan_and_says_how_to_proceed():
    engine = Engine(schema={"immutableProperties": ["/properties/Size"]})
    engine.apply(engine.plan(stack({"A": {"properties": {"Size": 1}}})))
    with pytest.raises(PlanError, match="Size of an existing AWS::Test::Thing cannot be changed.*another logical id"):
        engine.plan(stack({"A": {"properties": {"Size": 2}}}))


def test_prevent_destroy_refuses_a_delete_or_a_replacement():
    engine = Engine()
    guarded = {"properties": {"Kind": "x"}, "lifecycle": {"prevent_destroy": True}}
    engine.apply(engine.plan(stack({"A": guarded})))
    with pytest.raises(PlanError, match="prevent_destroy"):
        engine.plan(stack({"A": {**guarded, "properties": {"Kind": "y"}}}))
    with pytest.raises(PlanError, match="prevent_destroy"):
        engine.plan(stack({"A": guarded}), destroy=True)


def test_a_resource_removed_from_the_spec_is_deleted_and_one_deleted_outside_is_created_again():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {}}, "B": {"properties": {}}})))
    engine.cloud.resources.pop(engine.state.resources["B"].physical_id)
    plan = engine.plan(stack({"B": {"properties": {}}}))
    assert (plan.step("A").op, plan.step("A").reason) == (Op.DELETE, "removed from the spec")
    assert (plan.step("B").op, plan.step("B").reason) == (Op.CREATE, "does not exist")


def test_targets_keep_what_they_depend_on_and_excludes_drop_dependents():
    engine = Engine()
    spec = stack({"A": {"properties": {}}, "B": {"properties": {"Parent": "${A.Arn}"}}, "C": {"properties": {}}})
    targeted = engine.plan(spec, targets=("B",))
    assert {s.name for s in targeted.steps} == {"A", "B"} and targeted.warnings
    excluded = engine.plan(spec, excludes=("A",))
    assert {s.name for s in excluded.steps} == {"C"}
    with pytest.raises(PlanError, match="unknown resources: Nope"):
        engine.plan(spec, targets=("Nope",))


def test_values_known_at_plan_time_are_resolved_and_others_unknown():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {}}})))
    arn = f"arn:fake:{engine.state.resources['A'].physical_id}"
    plan = engine.plan(stack({"A": {"properties": {}}, "B": {"properties": {"Parent": "${A.Arn}"}},
                              "C": {"properties": {"Parent": "${D.Arn}"}}, "D": {"properties": {}}}))
    assert plan.step("B").planned["Parent"] == arn
    assert str(plan.step("C").planned["Parent"]) == "(known after apply)"
    assert plan.step("C").depends_on == ("D",)


def test_a_plan_with_options_is_partial():
    engine = Engine()
    plan = Planner(stack({"A": {"properties": {}}}), engine.aws, engine.state, engine.handlers).make(
        Options(targets=("A",)))
    assert plan.warnings and "partial" in plan.warnings[0]


def test_an_update_the_handler_cannot_make_fails_the_plan_before_anything_changes():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {"Size": 1}}})))
    engine.handler.refuse_update = lambda before, after, changed: (
        f"Size cannot shrink ({before['Size']} -> {after['Size']})" if after["Size"] < before["Size"] else None)
    assert engine.plan(stack({"A": {"properties": {"Size": 2}}})).step("A").op is Op.UPDATE
    with pytest.raises(PlanError, match=r"A: Size cannot shrink \(1 -> 0\); nothing was changed"):
        engine.plan(stack({"A": {"properties": {"Size": 0}}}))


# --- a create that is its own existence check -------------------------------------------------------

def test_a_plan_applied_at_once_folds_the_existence_read_into_a_claiming_create():
    """`deployer apply` plans with fold_existence: a handler whose create fails on a taken name and
    carries its tags is not read before it; `deployer plan` still reads, to show a clash."""
    engine = Engine(handler_type=ClaimingHandler)
    spec = stack({"A": {"properties": {"Name": "taken"}}})
    engine.cloud.resources["taken"] = {"Name": "taken", "Tags": {"team": "other"}}
    with pytest.raises(PlanError, match="already exists outside this stack"):
        engine.plan(spec)
    assert engine.handler.reads == ["taken"]
    engine.handler.reads.clear()
    plan = engine.plan(spec, fold_existence=True)
    assert plan.step("A").op is Op.CREATE and engine.handler.reads == []


def test_a_pending_claiming_create_never_adopts_an_untagged_namesake():
    """After a kill the journal holds the create; what the name finds untagged is somebody else's
    (the create carries the tags), and the plan says so instead of adopting it."""
    from deployer.state.model import ResourceState

    engine = Engine(handler_type=ClaimingHandler)
    engine.cloud.resources["taken"] = {"Name": "taken", "Tags": {}}
    engine.state.resources["A"] = ResourceState(type="AWS::Test::Thing", physical_id=None, region="us-east-1",
                                                pending="create", token="t", properties={"Name": "taken"})
    with pytest.raises(PlanError, match="already exists outside this stack"):
        engine.plan(stack({"A": {"properties": {"Name": "taken"}}}))
    engine.cloud.resources["taken"]["Tags"] = {"deployer:stack": "unit", "deployer:logical-id": "A"}
    assert engine.plan(stack({"A": {"properties": {"Name": "taken"}}})).step("A").physical_id == "taken"
