"""The plan as a value: JSON round trip (what a saved plan is), validity against the published
schema, sensitive values never written, and the summary."""

from __future__ import annotations

import json

import jsonschema

from deployer import secrets
from deployer.plan import Change, Op, Order, Plan, Step
from deployer.schemas_loader import plan_schema
from deployer.spec.refs import UNKNOWN
from tests.unit.fake_cloud import Engine, stack


def every_kind_of_step() -> Plan:
    return Plan(stack="unit", region="us-east-1", serial=4, lineage="abc", source={"path": "spec"},
                outputs={"Out": UNKNOWN, "Known": "x"}, output_specs={"Out": "${A.Arn}"}, warnings=("w",),
                steps=(
                    Step("A", "AWS::Test::Thing", "us-east-1", Op.CREATE, desired={"Size": 1, "Parent": "${B}"},
                         planned={"Size": 1, "Parent": UNKNOWN}, changes=(Change("Size", None, 1),),
                         token="tok", fingerprint="absent", depends_on=("B",)),
                    Step("B", "AWS::Test::Thing", "us-east-1", Op.REPLACE, physical_id="thing-1",
                         order=Order.CREATE_FIRST, reason="Kind cannot be changed in place",
                         before={"Kind": "x"}, attributes={"Arn": "arn:fake:thing-1"},
                         changes=(Change("Kind", "x", "y", replace=True),), fingerprint="sha256:1",
                         destroys="3 items", final_snapshot="snap"),
                    Step("C", "AWS::Test::Thing", "us-east-1", Op.FORGET, physical_id="thing-2", reason="destroy"),
                    Step("D", "AWS::Test::Thing", "us-east-1", Op.DELETE_DEPOSED, physical_id="thing-3",
                         deposed="D#deposed"),
                    Step("E", "AWS::Test::Thing", "us-east-1", Op.NOOP, physical_id="thing-4", settle=True,
                         deletion_policy="snapshot", force_destroy=True, ignore_changes=("Size",)),
                ))


def test_plans_round_trip_through_json_exactly():
    plan = every_kind_of_step()
    doc = plan.to_json()
    assert Plan.from_json(json.loads(json.dumps(doc))) == plan
    assert Plan.from_json(doc).to_json() == doc


def test_the_json_is_valid_against_the_published_schema():
    jsonschema.validate(every_kind_of_step().to_json(), plan_schema())


def test_the_json_actions_are_the_five_of_the_spec():
    actions = [a["action"] for a in every_kind_of_step().to_json()["actions"]]
    assert actions == ["create", "replace", "delete", "delete", "noop"]
    assert every_kind_of_step().summary() == {"create": 1, "update": 0, "replace": 1, "delete": 2, "noop": 1}


def test_sensitive_values_are_masked_and_kept_only_as_digests():
    secrets.register("hunter2-secret")
    step = Step("S", "AWS::Test::Thing", "us-east-1", Op.CREATE, desired={"Password": "hunter2-secret"},
                planned={"Password": "hunter2-secret"}, sensitive=frozenset({"Password"}),
                secret_digests={"Password": secrets.digest("hunter2-secret")},
                changes=(Change("Password", None, "hunter2-secret", sensitive=True),))
    plan = Plan(stack="unit", region="us-east-1", steps=(step,))
    text = plan.dumps()
    assert "hunter2-secret" not in text
    loaded = Plan.from_json(json.loads(text)).step("S")
    assert loaded.desired["Password"] == secrets.MASK and loaded.changes[0].sensitive
    assert loaded.secret_digests == step.secret_digests


def test_a_real_plan_round_trips():
    engine = Engine()
    engine.apply(engine.plan(stack({"A": {"properties": {"Kind": "x"}}})))
    plan = engine.plan(stack({"A": {"properties": {"Kind": "y"}}, "B": {"properties": {"Parent": "${A.Arn}"}}}))
    assert Plan.from_json(json.loads(plan.dumps())) == plan
