"""SNS handlers: AWS::SNS::Topic and AWS::SNS::Subscription.

SNS keeps every setting as a string attribute, read whole with one Get*Attributes call and written one
attribute per Set*Attributes call; values are converted to the spec's booleans and JSON objects here.
A topic's physical id (and Ref) is its ARN, a subscription's its subscription ARN.

CreateTopic and Subscribe answer the ARN of an existing topic or subscription instead of failing, so
create checks first and refuses one that exists: deployer never adopts (and later deletes) a resource
silently; `deployer import` adopts one on purpose.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer.errors import AwsError
from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    is_not_found,
    map_to_tags,
    missing_ok,
    owned_arn,
    owner_of,
    tag_changes,
    user_tags,
    with_ownership,
)
from deployer.resources.sqs import FifoNamed

TOPIC_SETTINGS = ("DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication")  # updatable in place
SUBSCRIPTION_JSON = ("FilterPolicy", "RedrivePolicy")
MESSAGE_BODY = "MessageBody"
NO_FILTER = "{}"  # what SetSubscriptionAttributes takes to remove a filter policy


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

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Unknown before create: the ARN holds the account id, which the props do not."""
        return None

    def desired_view(self, props: dict[str, Any], ctx: Context | None = None) -> dict[str, Any]:
        """A FIFO topic's name as AWS requires it, ending in .fifo."""
        return self.fifo_named(props)

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One get_topic_attributes, plus list_tags_for_resource when Tags are wanted."""
        sns = ctx.client("sns")
        try:
            attrs = sns.get_topic_attributes(TopicArn=physical_id)["Attributes"]
            raw_tags = sns.list_tags_for_resource(ResourceArn=physical_id).get("Tags", []) \
                if "Tags" in wanted else None
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        props = _topic_props(attrs)
        if raw_tags is not None:
            props["Tags"] = user_tags(raw_tags)
        return Live(properties=self.trim(props, wanted), attributes=_topic_result(physical_id),
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_topic with every setting and the ownership tags, after checking the name is free."""
        view = self.desired_view(props)
        name = view["TopicName"]
        self._refuse_existing(ctx, f"arn:{ctx.partition}:sns:{ctx.region}:{ctx.account_id}:{name}")
        arn = ctx.client("sns").create_topic(Name=name, Attributes=_topic_attributes(view),
                                             Tags=map_to_tags(with_ownership(ctx, props.get("Tags"))))["TopicArn"]
        return arn, _topic_result(arn)

    @staticmethod
    def _refuse_existing(ctx: Context, arn: str) -> None:
        try:
            ctx.client("sns").get_topic_attributes(TopicArn=arn)
        except ClientError as exc:
            if is_not_found(exc):
                return
            raise
        raise AwsError(ctx.logical_id, f"topic {arn} already exists; use `deployer import` to adopt it",
                       "TopicAlreadyExists")

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """One set_topic_attributes per changed setting (a removed one goes back to its default), then tags."""
        sns = ctx.client("sns")
        for key in TOPIC_SETTINGS:
            if self.differs(before, after, key):
                sns.set_topic_attributes(TopicArn=physical_id, AttributeName=key,
                                         AttributeValue=_text(after.get(key, self.defaults.get(key))))
        self._update_tags(ctx, physical_id, before, after)
        return _topic_result(physical_id)

    def _update_tags(self, ctx: Context, arn: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Tag changes, re-asserting the ownership tags in the same call."""
        if not self.differs(before, after, "Tags"):
            return
        to_set, to_remove = tag_changes(before.get("Tags"), after.get("Tags"))
        sns = ctx.client("sns")
        if to_remove:
            sns.untag_resource(ResourceArn=arn, TagKeys=to_remove)
        sns.tag_resource(ResourceArn=arn, Tags=map_to_tags({**to_set, **ctx.ownership_tags()}))

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """delete_topic (AWS deletes its subscriptions with it); a topic already gone is success."""
        with missing_ok():
            ctx.client("sns").delete_topic(TopicArn=physical_id)

    def find_owned(self, ctx: Context) -> str | None:
        """The ARN of the topic tagged as this stack's logical id (after a create whose answer was lost)."""
        return owned_arn(ctx, "sns:topic")

    def tag_for_ownership(self, ctx: Context, physical_id: str) -> None:
        """Add the ownership tags with one call (update() only tags when the Tags property changes)."""
        ctx.client("sns").tag_resource(ResourceArn=physical_id, Tags=map_to_tags(ctx.ownership_tags()))


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

    def desired_view(self, props: dict[str, Any], ctx: Context | None = None) -> dict[str, Any]:
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
        try:
            attrs = ctx.client("sns").get_subscription_attributes(SubscriptionArn=physical_id)["Attributes"]
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        return Live(properties=self.trim(_subscription_props(attrs), wanted), attributes={"Arn": physical_id})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """subscribe with every setting, asking for the ARN even while confirmation is pending."""
        view = self.desired_view(props)
        target = {"TopicArn": view["TopicArn"], "Protocol": view["Protocol"]}
        if view.get("Endpoint"):
            target["Endpoint"] = view["Endpoint"]
        self._refuse_existing(ctx, target)
        arn = ctx.client("sns").subscribe(**target, Attributes=_subscription_attributes(view),
                                          ReturnSubscriptionArn=True)["SubscriptionArn"]
        return arn, {"Arn": arn}

    @staticmethod
    def _refuse_existing(ctx: Context, target: dict[str, str]) -> None:
        """Subscribe answers the existing subscription of the same endpoint: never adopt one silently."""
        pages = ctx.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=target["TopicArn"])
        for page in pages:
            for sub in page.get("Subscriptions", []):
                if sub.get("Protocol") == target["Protocol"] and sub.get("Endpoint") == target.get("Endpoint"):
                    raise AwsError(ctx.logical_id, f"{target['TopicArn']} already has a {target['Protocol']} "
                                   f"subscription for {target.get('Endpoint')} ({sub['SubscriptionArn']}); "
                                   "use `deployer import` to adopt it", "SubscriptionAlreadyExists")

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """One set_subscription_attributes per changed setting; a removed one goes back to its default."""
        before, after = self.desired_view(before), self.desired_view(after)
        sns = ctx.client("sns")
        for key in _setting_order(after):
            if not self.differs(before, after, key) or (key == "FilterPolicyScope" and "FilterPolicy" not in after):
                continue
            value = after.get(key, self.defaults.get(key))
            text = NO_FILTER if key == "FilterPolicy" and value is None else _text(value)
            sns.set_subscription_attributes(SubscriptionArn=physical_id, AttributeName=key, AttributeValue=text)
        return {"Arn": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """unsubscribe; a subscription already gone (with its topic, perhaps) is success."""
        with missing_ok():
            ctx.client("sns").unsubscribe(SubscriptionArn=physical_id)
