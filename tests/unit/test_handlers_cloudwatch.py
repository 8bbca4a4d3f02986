"""The CloudWatch dashboard handler against in-process moto: created with its body and tags, read back in
spec shape, the body compared as the data its JSON holds (so AWS's re-serialised text is no change),
updated with one PutDashboard, tags changed with the tag calls, deleted, and a taken name seen by the
plan before PutDashboard would overwrite it.

moto stores no dashboard tags (it drops PutDashboard's Tags and refuses TagResource on a dashboard ARN,
as the CloudWatch API did before dashboards could be tagged); AWS tags dashboards. `aws_tags_dashboards`
makes in-process moto keep them as AWS does, so the tag tests check both the calls and the read-back."""

from __future__ import annotations

import json

import boto3
import pytest

from deployer.diff import changed_keys
from deployer.resources import cloudwatch, handler_for
from deployer.resources.base import Context
from tests.unit.handler_support import apply_update, ref_property
from tests.unit.messaging_support import OWNER, assert_matches, changes

DASHBOARD = cloudwatch.Dashboard()
ACCOUNT = "123456789012"
BODY = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3, "properties": {"markdown": "# Orders"}}]}


def cw():
    return boto3.client("cloudwatch", region_name="us-east-1")


def text(body: dict) -> str:
    return json.dumps(body)


@pytest.fixture
def aws_tags_dashboards(monkeypatch):
    """In-process moto keeps a dashboard's tags (PutDashboard's Tags, TagResource, UntagResource) as AWS does."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    put = CloudWatchResponse.put_dashboard

    def put_keeping_tags(self):
        result = put(self)
        tags = self._get_param("Tags", [])
        if tags:
            arn = self.cloudwatch_backend.get_dashboard(self._get_param("DashboardName")).arn
            self.cloudwatch_backend.tagger.tag_resource(arn, tags)
        return result

    def tag(self, arn, tags):
        self.tagger.tag_resource(arn, self.tagger.convert_dict_to_tags_input(tags))

    def untag(self, arn, keys):
        self.tagger.untag_resource_using_names(arn, keys)

    monkeypatch.setattr(CloudWatchResponse, "put_dashboard", put_keeping_tags)
    monkeypatch.setattr(CloudWatchBackend, "tag_resource", tag)
    monkeypatch.setattr(CloudWatchBackend, "untag_resource", untag)


def test_dashboard_metadata():
    assert isinstance(handler_for("AWS::CloudWatch::Dashboard"), cloudwatch.Dashboard)
    assert DASHBOARD.create_only == {"DashboardName"}
    assert DASHBOARD.attribute_names == ()  # CloudFormation has no Fn::GetAtt for a dashboard
    assert ref_property(DASHBOARD) == "DashboardName" and DASHBOARD.taggable
    assert DASHBOARD.physical_id_for({"DashboardName": "orders"}) == "orders"
    assert DASHBOARD.lookup(None, {"DashboardName": "orders"}) == "orders"  # read() tells whether it exists


def test_dashboard_create_reads_back_with_its_tags(ctx, calls, aws_tags_dashboards):
    props = {"DashboardName": "orders", "DashboardBody": text(BODY), "Tags": [{"Key": "team", "Value": "ops"}]}
    pid, attrs = DASHBOARD.create(ctx, props)
    assert (pid, attrs) == ("orders", {})
    sent = calls.of("PutDashboard")[0]
    assert sent["DashboardBody"] == text(BODY)
    assert {"Key": "deployer:stack", "Value": "teststack"} in sent["Tags"]
    assert {"Key": "team", "Value": "ops"} in sent["Tags"]
    live = assert_matches(DASHBOARD, ctx, pid, props)
    assert live.owner == OWNER and live.properties["Tags"] == [{"Key": "team", "Value": "ops"}]


def test_body_compares_as_the_data_its_json_holds(ctx):
    pid, _ = DASHBOARD.create(ctx, {"DashboardName": "orders", "DashboardBody": text(BODY)})
    cw().put_dashboard(DashboardName="orders", DashboardBody=json.dumps(BODY, indent=4, sort_keys=True))
    respaced = {"DashboardName": "orders", "DashboardBody": json.dumps(BODY, separators=(",", ":"))}
    assert changes(DASHBOARD, ctx, pid, respaced) == []
    moved = {**BODY, "widgets": [{**BODY["widgets"][0], "x": 6}]}
    found = changes(DASHBOARD, ctx, pid, {"DashboardName": "orders", "DashboardBody": text(moved)})
    assert [(c.path, c.before, c.after) for c in found] == [("DashboardBody.widgets[0].x", 0, 6)]


def test_body_given_as_a_mapping_is_sent_as_json(ctx, calls):
    DASHBOARD.create(ctx, {"DashboardName": "mapped", "DashboardBody": BODY})
    assert json.loads(calls.of("PutDashboard")[0]["DashboardBody"]) == BODY


def test_read_fetches_tags_only_when_wanted(ctx, calls):
    pid, _ = DASHBOARD.create(ctx, {"DashboardName": "orders", "DashboardBody": text(BODY)})
    calls.clear()
    live = DASHBOARD.read(ctx, pid, {"DashboardBody"})
    assert calls.names() == ["GetDashboard"] and live.owner is None and "Tags" not in live.properties
    calls.clear()
    DASHBOARD.read(ctx, pid, {"DashboardBody", "Tags"})
    assert calls.names() == ["GetDashboard", "ListTagsForResource"]
    assert calls.of("ListTagsForResource") == [{"ResourceARN": f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/orders"}]


def test_body_update_is_one_put_that_leaves_the_tags_alone(ctx, calls, aws_tags_dashboards):
    props = {"DashboardName": "orders", "DashboardBody": text(BODY), "Tags": [{"Key": "team", "Value": "ops"}]}
    pid, _ = DASHBOARD.create(ctx, props)
    new = {**props, "DashboardBody": text({"widgets": []})}
    calls.clear()
    apply_update(DASHBOARD, ctx, pid, props, new)
    assert calls.mutating() == ["PutDashboard"]
    assert calls.of("PutDashboard") == [{"DashboardName": "orders", "DashboardBody": '{"widgets": []}'}]
    assert_matches(DASHBOARD, ctx, pid, new)


def test_tags_change_with_the_tag_calls(ctx, calls, aws_tags_dashboards):
    props = {"DashboardName": "orders", "DashboardBody": text(BODY), "Tags": [{"Key": "team", "Value": "ops"}]}
    pid, _ = DASHBOARD.create(ctx, props)
    new = {**props, "Tags": [{"Key": "cost", "Value": "7"}]}
    calls.clear()
    apply_update(DASHBOARD, ctx, pid, props, new)
    arn = f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/orders"
    assert calls.of("UntagResource") == [{"ResourceARN": arn, "TagKeys": ["team"]}]
    assert {"Key": "cost", "Value": "7"} in calls.of("TagResource")[0]["Tags"]
    assert "PutDashboard" not in calls.names()
    live = assert_matches(DASHBOARD, ctx, pid, new)
    assert live.owner == OWNER  # the ownership tags ride along and are never removed
    removed = {k: v for k, v in new.items() if k != "Tags"}
    apply_update(DASHBOARD, ctx, pid, new, removed)
    assert_matches(DASHBOARD, ctx, pid, removed, removed=["Tags"])


def test_delete_and_delete_again(ctx):
    pid, _ = DASHBOARD.create(ctx, {"DashboardName": "orders", "DashboardBody": text(BODY)})
    DASHBOARD.delete(ctx, pid, {})
    assert DASHBOARD.read(ctx, pid, set()) is None
    DASHBOARD.delete(ctx, pid, {})  # already gone is success


def test_a_name_taken_is_found_before_the_put_would_overwrite_it(ctx):
    cw().put_dashboard(DashboardName="theirs", DashboardBody=text(BODY))
    pid = DASHBOARD.lookup(ctx, {"DashboardName": "theirs"})
    live = DASHBOARD.read(ctx, pid, {"Tags"})
    assert live is not None and live.owner is None  # the plan refuses to take over what is not the stack's


def test_generated_names_fit_and_use_only_allowed_characters():
    name = DASHBOARD.generate_name("web-app", "OrdersBoard" * 30, {}, "abcd1234")
    assert len(name) <= 255 and name.endswith("-abcd1234")
    assert all(ch.isalnum() or ch in "-_" for ch in name)


def test_removed_tags_are_a_change_to_their_default():
    assert changed_keys({"Tags": [{"Key": "a", "Value": "b"}]}, {}, DASHBOARD.defaults, "Tags") == {"Tags"}


def test_context_arn_is_global(ctx: Context):
    assert cloudwatch.dashboard_arn(ctx, "x") == f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/x"
