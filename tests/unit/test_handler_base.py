"""The helpers every handler shares (deployer/resources/base.py), without AWS: the one tag API per service
(TagApi), when Handler.sync_tags and tag_for_ownership call it, the not-found helpers, the tagging-API
search, and the test helper that computes `changed` the way the engine does."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.resources.base import Context, Handler, Live, TagApi, size_text
from tests.unit.handler_support import changed

OWNERSHIP = {"deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}


class Client:
    """Records every call made on it; answers get_paginator with the pages it was given."""

    def __init__(self, pages: list[dict[str, Any]] | None = None) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []
        self.pages = pages or []

    def __getattr__(self, name: str):
        def call(**kwargs: Any) -> dict[str, Any]:
            self.made.append((name, kwargs))
            return {}
        return call

    def get_paginator(self, operation: str):
        client = self

        class Paginator:
            def paginate(self, **kwargs: Any):
                client.made.append((operation, kwargs))
                return iter(client.pages)
        return Paginator()


class FakeAws:
    def __init__(self, client: Client) -> None:
        self.clients = client

    def client(self, service: str, region: str) -> Client:
        return self.clients


def context(client: Client) -> Context:
    return Context(FakeAws(client), "us-east-1", "teststack", "LogicalId")  # type: ignore[arg-type]


class Thing(Handler):
    """A taggable type with a default and a not-found code, read from a dict."""

    type_name = "Test::Thing"
    defaults = {"Size": 1, "Tags": []}
    not_found_codes = frozenset({"NoSuchThing"})
    tag_api = TagApi("thing", add="tag", remove="untag", id_param="Id")

    def __init__(self, tags: list[dict[str, str]] | None = None) -> None:
        super().__init__()
        self.schema = {"taggable": True}
        self.tags = tags or []

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return Live({"Tags": self.tags})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "id", {}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        self.sync_tags(ctx, physical_id, before, after, changed)
        return {}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        with self.missing_ok("AlsoFine"):
            raise ClientError({"Error": {"Code": physical_id, "Message": "x"}}, "DeleteThing")


def error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "Op")


# --- TagApi ---------------------------------------------------------------------------------------------

def test_tag_api_encodes_each_shape():
    mapping = {"b": "2", "a": "1"}
    assert TagApi("s", "add", "rm", "Id").encode(mapping) == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert TagApi("s", "add", "rm", "Id", shape="map").encode(mapping) == mapping
    assert TagApi("s", "add", "rm", "Id", shape="kms").encode(mapping) == [
        {"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}]
    assert TagApi("s", "add", None, "Id", wrap="TagSet").encode({"a": "1"}) == {"TagSet": [{"Key": "a", "Value": "1"}]}


def test_tag_api_sync_removes_dropped_keys_and_sets_changed_ones_with_the_ownership_tags():
    client = Client()
    api = TagApi("ec2", add="create_tags", remove="delete_tags", id_param="Resources", keys_param="Tags",
                 keys_shape="tags", id_as_list=True)
    api.sync(context(client), "vpc-1", [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"},
                                        {"Key": "deployer:stack", "Value": "old"}], {"a": "9"})
    assert client.made == [
        ("delete_tags", {"Resources": ["vpc-1"], "Tags": [{"Key": "b"}]}),  # ownership tags are never removed
        ("create_tags", {"Resources": ["vpc-1"], "Tags": [
            {"Key": "a", "Value": "9"}, {"Key": "deployer:logical-id", "Value": "LogicalId"},
            {"Key": "deployer:stack", "Value": "teststack"}]})]


def test_tag_api_without_a_remove_call_writes_the_whole_set():
    client = Client()
    TagApi("s3", add="put_bucket_tagging", remove=None, id_param="Bucket", tags_param="Tagging",
           wrap="TagSet").sync(context(client), "b", [{"Key": "gone", "Value": "1"}], [{"Key": "a", "Value": "1"}])
    (name, args), = client.made
    assert name == "put_bucket_tagging" and args["Bucket"] == "b"
    assert {t["Key"]: t["Value"] for t in args["Tagging"]["TagSet"]} == {"a": "1", **OWNERSHIP}


# --- when a handler tags ----------------------------------------------------------------------------------

def test_sync_tags_calls_the_tag_api_only_when_tags_changed():
    client = Client()
    thing = Thing()
    thing.update(context(client), "t-1", {"Tags": [{"Key": "a", "Value": "1"}]}, {"Tags": []}, frozenset({"Size"}))
    assert client.made == []
    thing.update(context(client), "t-1", {"Tags": [{"Key": "a", "Value": "1"}]}, {}, frozenset({"Tags"}))
    assert [name for name, _ in client.made] == ["untag", "tag"]
    assert client.made[0][1] == {"Id": "t-1", "TagKeys": ["a"]}


def test_tag_for_ownership_keeps_the_resources_tags_and_adds_the_ownership_ones():
    client = Client()
    Thing([{"Key": "team", "Value": "x"}]).tag_for_ownership(context(client), "t-1")
    assert client.made == [("tag", {"Id": "t-1", "Tags": [
        {"Key": "deployer:logical-id", "Value": "LogicalId"}, {"Key": "deployer:stack", "Value": "teststack"}]})]
    untaggable = Thing()
    untaggable.schema = {}
    client.made.clear()
    untaggable.tag_for_ownership(context(client), "t-1")
    assert client.made == []


# --- not found ------------------------------------------------------------------------------------------

def test_absent_and_missing_ok_accept_only_the_declared_codes():
    thing = Thing()
    assert thing.absent(lambda: "found") == "found"

    def gone() -> str:
        raise error("NoSuchThing")
    assert thing.absent(gone) is None
    assert thing.is_not_found(error("NoSuchThing")) and not thing.is_not_found(error("NotFound"))
    thing.delete(None, "NoSuchThing", {})  # type: ignore[arg-type]
    thing.delete(None, "AlsoFine", {})  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="AccessDenied"):
        thing.delete(None, "AccessDenied", {})  # type: ignore[arg-type]


def test_owned_by_tags_searches_the_tagging_api_for_this_resource():
    client = Client(pages=[{"ResourceTagMappingList": [{"ResourceARN": "arn:1"}]},
                           {"ResourceTagMappingList": [{"ResourceARN": "arn:2"}]}])
    assert Thing().owned_by_tags(context(client), "thing:kind") == ["arn:1", "arn:2"]
    assert client.made == [("get_resources", {
        "TagFilters": [{"Key": "deployer:stack", "Values": ["teststack"]},
                       {"Key": "deployer:logical-id", "Values": ["LogicalId"]}],
        "ResourceTypeFilters": ["thing:kind"]})]


def test_differs_and_trim_treat_an_absent_property_as_its_default():
    thing = Thing()
    assert not thing.differs({}, {"Size": "1"}, "Size") and thing.differs({}, {"Size": 2}, "Size")
    assert thing.trim({"Size": 1, "Name": "n", "Gone": None}, set()) == {"Name": "n"}
    assert thing.trim({"Size": 1}, {"Size"}) == {"Size": 1}


def test_size_text():
    assert [size_text(n) for n in (0, 1023, 12 * 1024, 3 * 1024 ** 3)] == ["0 B", "1023 B", "12.0 KiB", "3.0 GiB"]


# --- the test helper ------------------------------------------------------------------------------------

def test_changed_is_what_differs_with_absent_as_default_and_tags_as_a_map():
    thing, ctx = Thing(), context(Client())
    assert changed(thing, ctx, {"Size": 1, "Tags": []}, {}) == frozenset()
    assert changed(thing, ctx, {"Tags": [{"Key": "a", "Value": "1"}]}, {"Tags": {"a": "1"}}) == frozenset()
    assert changed(thing, ctx, {"Tags": [{"Key": "a", "Value": "1"}]}, {"Size": 2}) == frozenset({"Size", "Tags"})
