"""AWS::SNS::TopicPolicy: the access policy of one or more SNS topics.

A topic always has a policy: SNS gives every new topic a default one (only the owning account may
publish, subscribe and manage it), and the `Policy` topic attribute replaces it whole. SNS models no
policy object, so, as for AWS::SQS::QueuePolicy, the physical id (and Ref, CloudFormation's Id) is
derived from the topics: their ARNs, sorted and joined with "|". read() asks each topic for its
policy; a topic holding the default policy holds none of this resource's, and no topic holding
another policy means the resource does not exist.

Create and update set the policy on every topic; delete puts each topic's default policy back, as
CloudFormation does. Because the id names the topics, a change of Topics replaces the resource
(CloudFormation updates it in place), the old one first: its delete would otherwise restore the
default policy on a topic both list, over the new one.
"""

from __future__ import annotations

import json
from typing import Any

from deployer.errors import PlanError
from deployer.normalize import canon, parse_policy
from deployer.resources.base import Context, Handler, Live
from deployer.resources.sns import NOT_FOUND

SEP = "|"  # topic ARNs never contain it
POLICY = "Policy"
DEFAULT_ACTIONS = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                   "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic",
                   "SNS:Publish"]


def policy_id(topics: list[str]) -> str:
    """A topic policy's physical id: its topic ARNs, sorted and joined."""
    return SEP.join(sorted(set(topics)))


def topic_arns(physical_id: str) -> list[str]:
    """The topic ARNs of a physical id; anything else (a hand-edited state, CloudFormation's generated id
    given to an import) is a clear error."""
    arns = physical_id.split(SEP)
    if not all(arn.startswith("arn:") and arn.split(":")[2:3] == ["sns"] and len(arn.split(":")) == 6 for arn in arns):
        raise PlanError(f"'{physical_id}' is not a topic policy id: expected TOPICARN[{SEP}TOPICARN...]")
    return arns


def default_policy(topic_arn: str) -> dict[str, Any]:
    """The policy SNS gives a new topic (the owning account may do everything with it), which a
    delete restores."""
    account = topic_arn.split(":")[4]
    return {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": list(DEFAULT_ACTIONS),
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
        }],
    }


def is_default(topic_arn: str, document: Any) -> bool:
    return canon(document) == canon(default_policy(topic_arn))


def _text(document: Any) -> str:
    """SNS takes the policy as JSON text; a spec may hold it as data or as text."""
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


def _known_strings(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) and "${" not in v for v in values)


class TopicPolicy(Handler):
    """The Policy attribute of one or more topics; physical id their sorted ARNs joined with "|"."""

    type_name = "AWS::SNS::TopicPolicy"
    tags_property = None
    not_found_codes = NOT_FOUND

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        return policy_id(props["Topics"]) if _known_strings(props.get("Topics")) else None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Topics as a sorted set (their order means nothing), a policy written as JSON text as data."""
        view = dict(props)
        if _known_strings(view.get("Topics")):
            view["Topics"] = sorted(set(view["Topics"]))
        if "PolicyDocument" in view:
            view["PolicyDocument"] = parse_policy(view["PolicyDocument"])
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One GetTopicAttributes per topic. Topics lists those that still exist; when they hold different
        policies (one changed or reset out of band), PolicyDocument shows each topic's, by ARN, so the
        plan updates them all back."""
        policies = self._policies(ctx, physical_id)
        ours = {arn: doc for arn, doc in policies.items() if not is_default(arn, doc)}
        if not ours:
            return None
        first = next(iter(ours.values()))
        same = all(canon(doc) == canon(first) for doc in policies.values())
        props = {"Topics": sorted(policies), "PolicyDocument": first if same else policies}
        return Live(properties=props, attributes={"Id": physical_id})

    def _policies(self, ctx: Context, physical_id: str) -> dict[str, Any]:
        """{topic ARN: its policy as data} for every topic of the id that exists."""
        sns = ctx.client("sns")
        out: dict[str, Any] = {}
        for arn in topic_arns(physical_id):
            attrs = self.absent(lambda arn=arn: sns.get_topic_attributes(TopicArn=arn)["Attributes"])
            if attrs is not None:
                out[arn] = parse_policy(attrs[POLICY]) if attrs.get(POLICY) else default_policy(arn)
        return out

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Set the policy on every topic; the id is known from the ARNs alone."""
        physical_id = policy_id(props["Topics"])
        text = _text(props["PolicyDocument"])
        for arn in topic_arns(physical_id):
            self._set(ctx, arn, text)
        return physical_id, {"Id": physical_id}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Only PolicyDocument changes in place (Topics is part of the id): set it on every topic."""
        if "PolicyDocument" in changed:
            text = _text(after["PolicyDocument"])
            for arn in topic_arns(physical_id):
                self._set(ctx, arn, text)
        return {"Id": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Put each topic's default policy back; a topic already gone is success."""
        for arn in topic_arns(physical_id):
            with self.missing_ok():
                self._set(ctx, arn, _text(default_policy(arn)))

    @staticmethod
    def _set(ctx: Context, arn: str, text: str) -> None:
        ctx.client("sns").set_topic_attributes(TopicArn=arn, AttributeName=POLICY, AttributeValue=text)
