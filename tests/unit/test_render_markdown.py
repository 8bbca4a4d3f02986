"""The Markdown plan's budget: everything in full while it fits; past 60,000 characters it folds
the least important parts first, says what it folded, and never folds a destructive step or an
IAM policy change."""

from __future__ import annotations

import networkx as nx

from deployer.plan import Change, Op, Order, Plan, Step
from deployer.render.markdown import LIMIT, render_markdown
from deployer.render.text import render_plan
from tests.markdown_check import ELISION_MARKERS, check_markdown

POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:*",
                                                  "Resource": "*"}]}


def big_plan(n: int = 2000) -> Plan:
    """n resources: most unchanged, hundreds of updates and creates with long values, a few
    destructive steps and IAM policy changes."""
    steps = []
    for i in range(n):
        name = f"Q{i:04d}"
        if i % 10 == 1:
            steps.append(Step(name, "AWS::SQS::Queue", "us-east-1", Op.UPDATE, physical_id=f"q-{i}",
                              changes=(Change("Tags[note]", "a" * 300, "b" * 300),
                                       Change("DelaySeconds", 0, 5))))
        elif i % 10 == 2:
            steps.append(Step(name, "AWS::SQS::Queue", "us-east-1", Op.CREATE,
                              changes=(Change("QueueName", None, f"q-{i}"), Change("Tags", None, {"k": "v" * 200}))))
        elif i % 400 == 3:
            steps.append(Step(name, "AWS::DynamoDB::Table", "us-east-1", Op.REPLACE, physical_id=f"t-{i}",
                              order=Order.DELETE_FIRST, reason="KeySchema cannot be changed in place",
                              destroys=f"{i:,} items, 1.0 MiB",
                              changes=(Change("KeySchema[pk]", None, {"AttributeName": "pk", "KeyType": "HASH"},
                                              replace=True),)))
        elif i % 400 == 4:
            steps.append(Step(name, "AWS::IAM::Role", "us-east-1", Op.UPDATE, physical_id=f"r-{i}",
                              changes=(Change("Policies[Access].PolicyDocument", None, POLICY, policy=True),
                                       Change("Description", "x" * 500, "y" * 500))))
        else:
            steps.append(Step(name, "AWS::SQS::Queue", "us-east-1", Op.NOOP, physical_id=f"q-{i}"))
    return Plan(stack="big", region="us-east-1", steps=tuple(steps))


def graph_of(plan: Plan) -> nx.DiGraph:
    g = nx.DiGraph()
    names = [s.name for s in plan.steps]
    for name, step in zip(names, plan.steps, strict=True):
        g.add_node(name, type=step.type)
    for a, b in zip(names, names[1:], strict=False):
        g.add_edge(a, b)
    return g


def test_a_2000_resource_plan_fits_says_what_it_folded_and_keeps_what_matters():
    plan = big_plan()
    text = render_markdown(plan, graph_of(plan))
    check_markdown(text)
    assert len(text) < LIMIT
    assert "Folded to fit the comment" in text
    for step in plan.steps:
        if step.destructive:
            assert f"`{step.name}`" in text and step.destroys in text
            assert '"AttributeName": "pk"' in text
        if step.type == "AWS::IAM::Role":
            assert f"`{step.name}`" in text
            assert text.count('"Action": "s3:*"') >= 5
            assert "y" * 500 in text  # a protected step keeps its long values too


def test_a_plan_that_fits_is_shown_whole_and_says_nothing_was_folded():
    plan = Plan(stack="small", region="us-east-1", steps=big_plan(40).steps)
    text = render_markdown(plan, graph_of(plan))
    check_markdown(text)
    assert "Folded" not in text and "b" * 300 in text
    for marker in ELISION_MARKERS:
        assert marker not in text and marker not in render_plan(plan)


def test_folds_come_in_order_unchanged_neighbours_then_long_update_values():
    plan = Plan(stack="mid", region="us-east-1", steps=big_plan(600).steps)
    text = render_markdown(plan, graph_of(plan))
    check_markdown(text)
    assert "values of in-place updates longer than" in text
    assert '"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb… (302 characters, folded' in text
    assert '"DelaySeconds"' not in text and "~ DelaySeconds: 0 -> 5" in text


def test_long_bodies_collapse_and_fences_outgrow_backticks_in_values():
    step = Step("Fn", "AWS::Lambda::Function", "us-east-1", Op.UPDATE, physical_id="fn",
                changes=tuple(Change(f"Environment.Variables.V{i}", "```", "````x") for i in range(20)))
    text = render_markdown(Plan(stack="fence", region="us-east-1", steps=(step,)))
    check_markdown(text)
    assert "<details>" in text and "`````diff" in text


def test_a_refused_step_is_called_out_beside_what_it_destroys():
    step = Step("B", "AWS::S3::Bucket", "us-east-1", Op.DELETE, physical_id="b", destroys="3 objects, 12.0 KiB",
                blocked="the bucket holds 3 objects; set lifecycle.force_destroy: true")
    plan = Plan(stack="refuse", region="us-east-1", steps=(step,))
    text = render_markdown(plan)
    check_markdown(text, destructive=["B"])
    assert "| 3 objects, 12.0 KiB |" in text and "[!CAUTION]" in text
    assert plan.blocked() == ["B: the bucket holds 3 objects; set lifecycle.force_destroy: true"]
    terminal = render_plan(plan)
    assert terminal.index("destroys: 3 objects, 12.0 KiB") < terminal.index("apply refuses this step")
