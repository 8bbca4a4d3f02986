"""Resource attributes the state holds masked: a sensitive value (an access key's secret, answered once to
the run that created it) that a later run cannot know. Such a reference is unknown, never the mask text,
so an apply refuses to write it rather than write "(sensitive)"; an output of it stays (sensitive)."""

from __future__ import annotations

from typing import Any

from deployer import secrets
from deployer.errors import DeployerError
from deployer.resolve import Resolver, outputs
from deployer.spec.refs import UNKNOWN, Ref, contains_unknown, substitute

ATTRIBUTES = {("Key", "SecretAccessKey"): secrets.MASK, ("Key", "Id"): "AKIAIOSFODNN7EXAMPLE"}


def value(name: str, attr: str | None) -> Any:
    if name == "Gone":
        raise DeployerError("${Gone.X} is not available: Gone was not applied")
    return ATTRIBUTES.get((name, attr), f"{name}-id")


def resolver() -> Resolver:
    return Resolver(None, "demo", "us-east-1", value)


def test_a_masked_attribute_is_unknown_not_the_mask():
    r = resolver()
    assert r.value(Ref("resource", "Key", attr="SecretAccessKey"), "us-east-1") is UNKNOWN
    assert r.value(Ref("resource", "Key", attr="Id"), "us-east-1") == "AKIAIOSFODNN7EXAMPLE"
    assert r.value(Ref("resource", "Key"), "us-east-1") == "Key-id"


def test_a_string_holding_one_is_unknown_as_a_whole():
    resolve = resolver().resolver_for("us-east-1")
    got = substitute({"SecretString": '{"id": "${Key.Id}", "secret": "${Key.SecretAccessKey}"}'}, resolve)
    assert contains_unknown(got) and secrets.MASK not in str(got)


def test_an_output_of_one_stays_sensitive():
    got = outputs({"Secret": "${Key.SecretAccessKey}", "Pair": "${Key.Id}:${Key.SecretAccessKey}",
                   "Id": "${Key.Id}", "Later": "${Gone.X}"}, resolver(), "us-east-1", skip_unavailable=True)
    assert got == {"Secret": secrets.MASK, "Pair": secrets.MASK, "Id": "AKIAIOSFODNN7EXAMPLE"}
