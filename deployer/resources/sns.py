"""SNS handlers: AWS::SNS::Topic and AWS::SNS::Subscription.

SNS keeps every setting as a string attribute, read whole with one Get*Attributes call and written one
attribute per Set*Attributes call; values are converted to the spec's booleans and JSON objects here.
A topic's physical id (and Ref) is its ARN, a subscription's its subscription ARN.

CreateTopic and Subscribe answer the ARN of an existing topic or subscription instead of failing, so
`lookup` finds one under the spec's name (or topic and endpoint) and the plan refuses to take it over:
deployer never adopts (and later deletes) a resource silently; `deployer import` adopts one on purpose.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    TagApi,
    map_to_tags,
    owner_of,
    user_tags,
    with_ownership,
)
from deployer.resources.sqs import FifoNamed
from deployer.spec.refs import contains_unknown

TOPIC_SETTINGS = ("DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication")  # updatable in place
SUBSCRIPTION_JSON = ("FilterPolicy", "RedrivePolicy")
MESSAGE_BODY = "MessageBody"
NO_FILTER = "{}"  # what SetSubscriptionAttributes takes to remove a filter policy
NOT_FOUND = frozenset({"NotFound", "NotFoundException", "ResourceNotFound", "ResourceNotFoundException"})


def _text(value: Any) -> str:
    """A spec value as an SNS attribute string; None (a removed setting) clears it."""
    if value is None:
        return ""
    if isinstance(canon(value), bool):
        return "true" if canon(value) else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _json(value: Any) -> Any:
    """A JSON attribute (FilterPolicy, RedrivePolicy) as data; empty text or {} means unset."""
    if isinstance(value, str):
        if value.strip() in ("", NO_FILTER):
            return None
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return value or None


def _is_fifo(props: dict[str, Any]) -> bool:
    return canon(props.get("FifoTopic")) is True


# --- AWS::SNS::Topic ------------------------------------------------------------------------------

def _topic_props(attrs: dict[str, str]) -> dict[str, Any]:
    """get_topic_attributes' strings in spec shape; empty strings are unset settings."""
    props: dict[str, Any] = {"TopicName": attrs["TopicArn"].rsplit(":", 1)[-1]}
    for key in ("DisplayName", "KmsMasterKeyId"):
        if attrs.get(key):
            props[key] = attrs[key]
    if attrs.get("FifoTopic", "").lower() == "true":
        props["FifoTopic"] = True
    if attrs.get("ContentBasedDeduplication"):
        props["ContentBasedDeduplication"] = attrs["ContentBasedDeduplication"].lower() == "true"
    return props


def _topic_attributes(view: dict[str, Any]) -> dict[str, str]:
    """CreateTopic's attributes. FifoTopic=false and ContentBasedDeduplication=false are left out: they
    are the defaults, and CloudFormation documents that ContentBasedDeduplication fails a standard topic."""
    out = {k: _text(view[k]) for k in ("DisplayName", "KmsMasterKeyId") if view.get(k)}
    if _is_fifo(view):
        out["FifoTopic"] = "true"
    if canon(view.get("ContentBasedDeduplication")) is True:
        out["ContentBasedDeduplication"] = "true"
    return out


class Topic(FifoNamed):
    """An SNS topic; its physical id is the TopicArn."""

    type_name = "AWS::SNS::Topic"
    name_property = "TopicName"
    fifo_property = "FifoTopic"
    name_max_length = 256
    defaults: ClassVar[dict[str, Any]] = {"DisplayName": "", "ContentBasedDeduplication": False,
                                          "FifoTopic": False, "Tags": []}
    not_found_codes = NOT_FOUND
    tag_api = TagApi("sns", add="tag_resource", remove="untag_resource", id_param="ResourceArn")

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Unknown before create: the ARN holds the account id, which the props do not."""
        return None

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The ARN of the topic of that name, if it exists (one GetTopicAttributes)."""
        name = self.fifo_named(props).get(self.name_property)
        if not isinstance(name, str):
            return None
        arn = f"arn:{ctx.partition}:sns:{ctx.region}:{ctx.account_id}:{name}"
        return arn if self.absent(lambda: ctx.client("sns").get_topic_attributes(TopicArn=arn)) else None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """A FIFO topic's name as AWS requires it, ending in .fifo."""
        return self.fifo_named(props)

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One get_topic_attributes, plus list_tags_for_resource when Tags are wanted."""
        sns = ctx.client("sns")
        attrs = self.absent(lambda: sns.get_topic_attributes(TopicArn=physical_id)["Attributes"])
        if attrs is None:
            return None
        raw_tags = self.absent(lambda: sns.list_tags_for_resource(ResourceArn=physical_id).get("Tags", [])) \
            if "Tags" in wanted else None
        props = _topic_props(attrs)
        if raw_tags is not None:
            props["Tags"] = user_tags(raw_tags)
        return Live(properties=self.trim(props, wanted), attributes=_topic_result(physical_id),
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_topic with every setting and the ownership tags."""
        view = self.desired_view(props)
        name = view["TopicName"]
        arn = ctx.client("sns").create_topic(Name=name, Attributes=_topic_attributes(view),
                                             Tags=map_to_tags(with_ownership(ctx, props.get("Tags"))))["TopicArn"]
        return arn, _topic_result(arn)

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """One set_topic_attributes per changed setting (a removed one goes back to its default), then tags."""
        sns = ctx.client("sns")
        for key in TOPIC_SETTINGS:
            if key in changed:
                sns.set_topic_attributes(TopicArn=physical_id, AttributeName=key,
                                         AttributeValue=_text(after.get(key, self.defaults.get(key))))
        self.sync_tags(ctx, physical_id, before, after, changed)
        return _topic_result(physical_id)

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """delete_topic (AWS deletes its subscriptions with it); a topic already gone is success."""
        with self.missing_ok():
            ctx.client("sns").delete_topic(TopicArn=physical_id)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """ARNs of topics tagged as this stack's logical id (after a create whose answer was lost)."""
        return self.owned_by_tags(ctx, "sns:topic")


def _topic_result(arn: str) -> dict[str, Any]:
    """The topic's attributes, all derived from its ARN."""
    return {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[-1]}


# --- AWS::SNS::Subscription -----------------------------------------------------------------------

def _subscription_props(attrs: dict[str, str]) -> dict[str, Any]:
    """get_subscription_attributes' strings in spec shape. FilterPolicyScope means something only with a
    filter policy, and AWS reports it only then."""
    props: dict[str, Any] = {k: attrs[k] for k in ("TopicArn", "Protocol", "Endpoint") if attrs.get(k)}
    props["RawMessageDelivery"] = attrs.get("RawMessageDelivery", "false").lower() == "true"
    for key in SUBSCRIPTION_JSON:
        if (value := _json(attrs.get(key))) is not None:
            props[key] = value
    if "FilterPolicy" in props and attrs.get("FilterPolicyScope"):
        props["FilterPolicyScope"] = attrs["FilterPolicyScope"]
    return props


def _subscription_attributes(view: dict[str, Any]) -> dict[str, str]:
    """Subscribe's attributes; RawMessageDelivery only when on (off is the default, and only some protocols
    take the attribute at all)."""
    out = {k: _text(view[k]) for k in SUBSCRIPTION_JSON if view.get(k) is not None}
    if "FilterPolicy" in out and view.get("FilterPolicyScope"):
        out["FilterPolicyScope"] = str(view["FilterPolicyScope"])
    if canon(view.get("RawMessageDelivery")) is True:
        out["RawMessageDelivery"] = "true"
    return out


def _setting_order(after: dict[str, Any]) -> tuple[str, ...]:
    """The order updates go in: a nested filter policy is valid only once the scope is MessageBody, so a
    move to MessageBody sets the scope first and a move away sets the (flat) policy first."""
    if after.get("FilterPolicyScope") == MESSAGE_BODY:
        return ("FilterPolicyScope", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy")
    return ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")


class Subscription(Handler):
    """An SNS subscription; its physical id is the SubscriptionArn. Not taggable."""

    type_name = "AWS::SNS::Subscription"
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = {"RawMessageDelivery": False, "FilterPolicyScope": "MessageAttributes"}
    not_found_codes = NOT_FOUND

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """JSON policies written as text as data; no FilterPolicyScope without a filter policy (AWS shows none)."""
        view = dict(props)
        for key in SUBSCRIPTION_JSON:
            if isinstance(view.get(key), str):
                view[key] = _json(view[key])
            if key in view and view[key] is None:
                view.pop(key)
        if "FilterPolicy" not in view:
            view.pop("FilterPolicyScope", None)
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One get_subscription_attributes."""
        attrs = self.absent(lambda: ctx.client("sns").get_subscription_attributes(
            SubscriptionArn=physical_id)["Attributes"])
        if attrs is None:
            return None
        return Live(properties=self.trim(_subscription_props(attrs), wanted), attributes={"Arn": physical_id})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """subscribe with every setting, asking for the ARN even while confirmation is pending."""
        view = self.desired_view(props)
        target = {"TopicArn": view["TopicArn"], "Protocol": view["Protocol"]}
        if view.get("Endpoint"):
            target["Endpoint"] = view["Endpoint"]
        arn = ctx.client("sns").subscribe(**target, Attributes=_subscription_attributes(view),
                                          ReturnSubscriptionArn=True)["SubscriptionArn"]
        return arn, {"Arn": arn}

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The subscription of the same topic, protocol and endpoint (Subscribe would answer it, not fail)."""
        topic, protocol, endpoint = props.get("TopicArn"), props.get("Protocol"), props.get("Endpoint")
        if not isinstance(topic, str) or contains_unknown([protocol, endpoint]):
            return None
        subs = self.absent(lambda: [s for page in ctx.client("sns").get_paginator(
            "list_subscriptions_by_topic").paginate(TopicArn=topic) for s in page.get("Subscriptions", [])])
        return next((s["SubscriptionArn"] for s in subs or [] if s.get("Protocol") == protocol
                     and s.get("Endpoint") == endpoint and s["SubscriptionArn"].startswith("arn:")), None)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """After a lost answer: the subscription of this topic and endpoint (subscriptions carry no tags)."""
        found = self.lookup(ctx, props)
        return [found] if found else []

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """One set_subscription_attributes per changed setting; a removed one goes back to its default."""
        after = self.desired_view(after)
        sns = ctx.client("sns")
        for key in _setting_order(after):
            if key not in changed or (key == "FilterPolicyScope" and "FilterPolicy" not in after):
                continue
            value = after.get(key, self.defaults.get(key))
            text = NO_FILTER if key == "FilterPolicy" and value is None else _text(value)
            sns.set_subscription_attributes(SubscriptionArn=physical_id, AttributeName=key, AttributeValue=text)
        return {"Arn": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """unsubscribe; a subscription already gone (with its topic, perhaps) is success."""
        with self.missing_ok():
            ctx.client("sns").unsubscribe(SubscriptionArn=physical_id)
