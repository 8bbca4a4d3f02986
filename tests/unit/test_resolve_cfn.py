"""The resolver's additions for templates: Fn::GetAZs (EC2, cached), AWS::StackId, AWS::NotificationARNs,
and that Fn::ResolveSecret counts as a secret (so plans mask the property)."""

from __future__ import annotations

import re

from deployer.resolve import Resolver, refers_to_secret, stack_id
from deployer.spec.refs import Ref


def test_zones_come_from_ec2_once_per_region(aws, calls):
    resolver = Resolver(aws, "demo", "us-east-1", lambda n, a: None)
    zones = resolver.value(Ref("azs", "us-east-1"), "us-east-1")
    assert zones and zones == sorted(zones) and all(z.startswith("us-east-1") for z in zones)
    assert resolver.value(Ref("azs", "us-east-1"), "us-east-1") == zones
    assert sum(1 for c in calls.names() if c == "DescribeAvailabilityZones") == 1


def test_stack_id_and_notification_arns(aws):
    resolver = Resolver(aws, "demo", "us-east-1", lambda n, a: None)
    value = resolver.value(Ref("pseudo", "AWS::StackId"), "us-east-1")
    assert re.match(r"^arn:aws:cloudformation:us-east-1:\d{12}:stack/demo/[0-9a-f-]{36}$", value)
    assert value == resolver.value(Ref("pseudo", "AWS::StackId"), "us-east-1")
    assert stack_id("aws", "us-east-1", "123456789012", "a") != stack_id("aws", "us-east-1", "123456789012", "b")
    assert resolver.value(Ref("pseudo", "AWS::NotificationARNs"), "us-east-1") == []


def test_resolve_secret_function_is_a_secret():
    assert refers_to_secret({"Fn::ResolveSecret": {"SecretId": "${S}"}})
    assert refers_to_secret(["x", {"Fn::Join": ["", [{"Fn::ResolveSecret": {"SecretId": "${S}"}}]]}])
    assert refers_to_secret("${secret:db:password}")
    assert not refers_to_secret({"Fn::Join": ["", ["${S}"]]})


def test_a_sensitive_value_not_known_yet_is_not_registered():
    """A property holding Fn::ResolveSecret of a secret created in the same plan is UNKNOWN at plan time."""
    from deployer import secrets
    from deployer.spec.refs import UNKNOWN

    secrets.register(UNKNOWN)
    secrets.register({"password": UNKNOWN})
    assert secrets.redact("(known after apply)") == "(known after apply)"
