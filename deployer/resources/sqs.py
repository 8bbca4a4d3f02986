"""AWS::SQS::Queue: read into CloudFormation shape, create, update attributes in one call, delete.

SQS keeps every setting as a string attribute; the spec has integers, booleans and JSON objects, so
values are converted both ways here. The physical id is the QueueUrl, which AWS assigns: `lookup`
turns a name into its URL (one GetQueueUrl), so the plan sees a name clash before the apply does —
CreateQueue itself would answer an existing queue's URL when its attributes match.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from deployer.normalize import canon, parse_policy
from deployer.resources.base import Context, Handler, Live, Stake, TagApi, owner_of, user_tags, with_ownership

FIFO_SUFFIX = ".fifo"
INT_KEYS = ("DelaySeconds", "KmsDataKeyReusePeriodSeconds", "MaximumMessageSize", "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout")
BOOL_KEYS = ("ContentBasedDeduplication", "FifoQueue", "SqsManagedSseEnabled")
JSON_KEYS = ("RedrivePolicy", "RedriveAllowPolicy")
TEXT_KEYS = ("DeduplicationScope", "FifoThroughputLimit", "KmsMasterKeyId")
ATTRIBUTE_KEYS = INT_KEYS + BOOL_KEYS + JSON_KEYS + TEXT_KEYS
UPDATABLE_KEYS = tuple(k for k in ATTRIBUTE_KEYS if k != "FifoQueue")


def _is_fifo(props: dict[str, Any]) -> bool:
    return canon(props.get("FifoQueue")) is True


def fifo_name(name: str, max_length: int = 80) -> str:
    """A queue name ending in .fifo within max_length, keeping a generated name's random tail."""
    if name.endswith(FIFO_SUFFIX):
        return name
    room = max_length - len(FIFO_SUFFIX)
    if len(name) > room and "-" in name:
        head, _, tail = name.rpartition("-")
        name = f"{head[:max(room - len(tail) - 1, 0)]}-{tail}"
    return name[:room] + FIFO_SUFFIX


def _from_api(key: str, value: str) -> Any:
    """An attribute string as the spec types it."""
    if key in INT_KEYS:
        return int(value)
    if key in BOOL_KEYS:
        return value.lower() == "true"
    if key in JSON_KEYS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _to_api(key: str, value: Any) -> str:
    """A spec value as the attribute string; None (a removed policy or key) clears it."""
    if value is None:
        return ""
    if key in BOOL_KEYS:
        return "true" if canon(value) is True else "false"
    if key in INT_KEYS:
        return str(canon(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _spec_props(attrs: dict[str, str]) -> dict[str, Any]:
    """get_queue_attributes' strings in spec shape; SSE-SQS reads as off while a KMS key is set (as AWS says)."""
    props = {k: _from_api(k, attrs[k]) for k in ATTRIBUTE_KEYS if attrs.get(k) not in (None, "")}
    if props.get("KmsMasterKeyId"):
        props["SqsManagedSseEnabled"] = False
    if not props.get("FifoQueue"):
        props.pop("FifoQueue", None)
    return props


def _name_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _arn_of(ctx: Context, url: str) -> str:
    """The queue ARN from its URL (…/ACCOUNT/NAME), without a call."""
    account, name = url.rstrip("/").rsplit("/", 2)[-2:]
    return f"arn:{ctx.partition}:sqs:{ctx.region}:{account}:{name}"




NOT_FOUND = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
SQS_TAGS = TagApi("sqs", add="tag_queue", remove="untag_queue", id_param="QueueUrl", shape="map")


class FifoNamed(Handler):
    """Queues and topics: a FIFO one's name must end in .fifo, generated or written without it."""

    fifo_property: ClassVar[str]

    def generate_name(self, stack: str, logical_id: str, props: dict[str, Any], suffix: str) -> str:
        name = super().generate_name(stack, logical_id, props, suffix)
        return fifo_name(name, self.name_max_length) if canon(props.get(self.fifo_property)) is True else name

    def fifo_named(self, props: dict[str, Any]) -> dict[str, Any]:
        """A copy of props whose name, for a FIFO resource, ends in .fifo."""
        out = dict(props)
        name = out.get(self.name_property)
        if canon(out.get(self.fifo_property)) is True and isinstance(name, str):
            out[self.name_property] = fifo_name(name, self.name_max_length)
        return out


class Queue(FifoNamed):
    """An SQS queue; its physical id is the QueueUrl."""

    type_name = "AWS::SQS::Queue"
    name_property = "QueueName"
    fifo_property = "FifoQueue"
    name_max_length = 80
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"QueueAlreadyExists", "QueueNameExists"})
    tag_api = SQS_TAGS
    defaults: ClassVar[dict[str, Any]] = {
        "DelaySeconds": 0,
        "MaximumMessageSize": 1048576,  # AWS's and moto's default since 2025 (it was 262144)
        "MessageRetentionPeriod": 345600,
        "ReceiveMessageWaitTimeSeconds": 0,
        "VisibilityTimeout": 30,
        "SqsManagedSseEnabled": True,
        "KmsDataKeyReusePeriodSeconds": 300,
        "ContentBasedDeduplication": False,
        "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue",
        "FifoQueue": False,
        "Tags": [],
    }

    # --- naming and comparison view ---------------------------------------------------------------

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Unknown before create: the physical id is the QueueUrl, which AWS assigns."""
        return None

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The URL of the queue of that name, if there is one."""
        name = self.fifo_named(props).get(self.name_property)
        if not isinstance(name, str):
            return None
        return self.absent(lambda: ctx.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec as read() shows it: FIFO name suffixed, JSON policies as data, SSE-SQS off under KMS."""
        out = self.fifo_named(props)
        for key in JSON_KEYS:
            if isinstance(out.get(key), str) and out[key].strip():
                out[key] = _from_api(key, out[key])
        if out.get("KmsMasterKeyId") and "SqsManagedSseEnabled" not in out:
            out["SqsManagedSseEnabled"] = False
        return out

    # --- operations -------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One get_queue_attributes, plus list_queue_tags when Tags are wanted."""
        client = ctx.client("sqs")
        attrs = self.absent(lambda: client.get_queue_attributes(QueueUrl=physical_id,
                                                                AttributeNames=["All"])["Attributes"])
        if attrs is None:
            return None
        raw_tags = self.absent(lambda: client.list_queue_tags(QueueUrl=physical_id).get("Tags", {})) \
            if "Tags" in wanted else None
        props = _spec_props(attrs)
        props["QueueName"] = _name_of(physical_id)
        if raw_tags is not None:
            props["Tags"] = user_tags(raw_tags)
        attributes = {"QueueUrl": physical_id, "Arn": attrs["QueueArn"], "QueueName": props["QueueName"]}
        return Live(properties=self.trim(props, wanted), attributes=attributes,
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_queue with every attribute and the ownership tags."""
        name = self.desired_view(props)["QueueName"]
        attributes = {k: _to_api(k, props[k]) for k in ATTRIBUTE_KEYS if props.get(k) not in (None, "")}
        if not _is_fifo(props):
            attributes.pop("FifoQueue", None)  # AWS rejects FifoQueue=false
        url = ctx.client("sqs").create_queue(QueueName=name, Attributes=attributes,
                                             tags=with_ownership(ctx, props.get("Tags")))["QueueUrl"]
        return url, self._attributes(ctx, url)

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Every changed attribute in one set_queue_attributes (a removed one goes back to its default)."""
        after = self.desired_view(after)
        attributes = {k: _to_api(k, after.get(k, self.defaults.get(k))) for k in UPDATABLE_KEYS if k in changed}
        if attributes:
            ctx.client("sqs").set_queue_attributes(QueueUrl=physical_id, Attributes=attributes)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return self._attributes(ctx, physical_id)

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """delete_queue; a queue already gone is success."""
        with self.missing_ok():
            ctx.client("sqs").delete_queue(QueueUrl=physical_id)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """URLs of the queues tagged as this stack's logical id (after a create whose answer was lost)."""
        urls = []
        for arn in self.owned_by_tags(ctx, "sqs"):
            parts = arn.split(":")
            url = self.absent(lambda parts=parts: ctx.client("sqs").get_queue_url(
                QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"])
            if url:
                urls.append(url)
        return urls

    def at_stake(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> Stake | None:
        """The messages waiting in the queue (SQS's approximate counts)."""
        attrs = self.absent(lambda: ctx.client("sqs").get_queue_attributes(
            QueueUrl=physical_id, AttributeNames=["ApproximateNumberOfMessages",
                                                  "ApproximateNumberOfMessagesNotVisible"])["Attributes"])
        if attrs is None:
            return None
        count = sum(int(attrs.get(k, 0)) for k in ("ApproximateNumberOfMessages",
                                                   "ApproximateNumberOfMessagesNotVisible"))
        return Stake(f"{count:,} queued message{'s' if count != 1 else ''} (approximate)")

    @staticmethod
    def _attributes(ctx: Context, url: str) -> dict[str, Any]:
        return {"QueueUrl": url, "Arn": _arn_of(ctx, url), "QueueName": _name_of(url)}


# --- AWS::SQS::QueuePolicy ------------------------------------------------------------------------

QUEUE_SEPARATOR = "|"  # queue URLs never contain it


def policy_id(urls: list[str]) -> str:
    """A queue policy's physical id: its queue URLs, sorted and joined (the one URL for the usual single queue)."""
    return QUEUE_SEPARATOR.join(sorted(set(urls)))


def _policy_text(document: Any) -> str:
    """SQS takes the policy as JSON text; a spec may hold it as data or as text."""
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


def _known_strings(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values)


class QueuePolicy(Handler):
    """The Policy attribute of one or more queues. SQS models no policy object, so the physical id (and
    Ref, CloudFormation's Id) is derived from the queue URLs and read() finds the policy through them.
    Because the id names the queues, deployer replaces the resource when Queues changes (CloudFormation
    updates it in place)."""

    type_name = "AWS::SQS::QueuePolicy"
    tags_property = None
    not_found_codes = NOT_FOUND

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        return policy_id(props["Queues"]) if _known_strings(props.get("Queues")) else None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Queues as a sorted set (their order means nothing), a policy written as JSON text as data."""
        view = dict(props)
        if _known_strings(view.get("Queues")):
            view["Queues"] = sorted(set(view["Queues"]))
        if "PolicyDocument" in view:
            view["PolicyDocument"] = parse_policy(view["PolicyDocument"])
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One get_queue_attributes per queue. Queues lists those that still exist; when they hold different
        policies, PolicyDocument shows each queue's (so the plan updates them all back)."""
        policies = self._policies(ctx, physical_id)
        present = [doc for doc in policies.values() if doc is not None]
        if not present:
            return None
        same = all(canon(doc) == canon(present[0]) for doc in policies.values())
        props = {"Queues": sorted(policies), "PolicyDocument": present[0] if same else policies}
        return Live(properties=props, attributes={"Id": physical_id})

    def _policies(self, ctx: Context, physical_id: str) -> dict[str, Any]:
        """{queue URL: its policy as data, or None} for every queue of the id that exists."""
        client = ctx.client("sqs")
        out: dict[str, Any] = {}
        for url in physical_id.split(QUEUE_SEPARATOR):
            attrs = self.absent(lambda url=url: client.get_queue_attributes(
                QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}))
            if attrs is not None:
                out[url] = parse_policy(attrs["Policy"]) if attrs.get("Policy") else None
        return out

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Set the policy on every queue; the id is known from the URLs alone."""
        physical_id = policy_id(props["Queues"])
        self._set_policy(ctx, physical_id, _policy_text(props["PolicyDocument"]))
        return physical_id, {"Id": physical_id}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Only PolicyDocument can change in place (Queues is part of the id): set it on every queue."""
        if "PolicyDocument" in changed:
            self._set_policy(ctx, physical_id, _policy_text(after["PolicyDocument"]))
        return {"Id": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Clear the Policy attribute of every queue; a queue already gone is success."""
        for url in physical_id.split(QUEUE_SEPARATOR):
            with self.missing_ok():
                ctx.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})

    @staticmethod
    def _set_policy(ctx: Context, physical_id: str, text: str) -> None:
        client = ctx.client("sqs")
        for url in physical_id.split(QUEUE_SEPARATOR):
            client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": text})
