"""AWS::DynamoDB::Table: read into CloudFormation shape, create, update in place step by step, delete.

DynamoDB takes one kind of change per UpdateTable call (capacity, one index created or deleted, streams...)
and refuses most of them while the table or an index is not ACTIVE, so an update runs its steps in a fixed
order and waits for the table to settle after each one.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer import waiting
from deployer.aws import error_code
from deployer.errors import AwsError
from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    Stake,
    TagApi,
    absent,
    map_to_tags,
    owner_of,
    size_text,
    user_tags,
    with_ownership,
)

POLL_SECONDS = 5
WAIT_SECONDS = 4 * 3600  # an index backfill on a large table can take hours
NOT_FOUND = frozenset({"ResourceNotFoundException"})
MANAGED_KEY_ALIAS = "alias/aws/dynamodb"
GSI = "GlobalSecondaryIndexes"
LSI = "LocalSecondaryIndexes"
SSE = "SSESpecification"
TTL = "TimeToLiveSpecification"
PITR = "PointInTimeRecoverySpecification"
STREAM = "StreamSpecification"


# --- pure shape helpers ---------------------------------------------------------------------------

def _on(value: Any) -> bool:
    """A spec boolean ("true", True, "True") as a bool."""
    return canon(value) is True


def _data(value: Any) -> Any:
    """The schema lets KeySchema be JSON text: parse it so it compares and serialises as data."""
    if isinstance(value, str) and value.strip()[:1] in "[{":
        return json.loads(value)
    return value


def _sorted_by(items: Any, key: str) -> Any:
    """A list of maps sorted by one field, so the order in a spec never shows as a change."""
    if not isinstance(items, list):
        return items
    return sorted(items, key=lambda i: str(i.get(key)) if isinstance(i, dict) else "")


def _mode(props: dict[str, Any]) -> Any:
    return props.get("BillingMode") or "PROVISIONED"


def _throughput(pt: dict[str, Any]) -> dict[str, int]:
    return {"ReadCapacityUnits": int(canon(pt["ReadCapacityUnits"])),
            "WriteCapacityUnits": int(canon(pt["WriteCapacityUnits"]))}


def _projection(p: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in p.items() if k in ("ProjectionType", "NonKeyAttributes")}
    names = out.get("NonKeyAttributes")
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        out["NonKeyAttributes"] = sorted(names)
    return out


def _index(i: Any, provisioned: bool) -> Any:
    """An index in spec shape; throughput only means something on a provisioned table."""
    if not isinstance(i, dict):
        return i
    out = {k: i[k] for k in ("IndexName", "KeySchema") if k in i}
    if "Projection" in i:
        out["Projection"] = _projection(i["Projection"]) if isinstance(i["Projection"], dict) else i["Projection"]
    if provisioned and i.get("ProvisionedThroughput"):
        pt = i["ProvisionedThroughput"]
        out["ProvisionedThroughput"] = {k: pt[k] for k in ("ReadCapacityUnits", "WriteCapacityUnits") if k in pt} \
            if isinstance(pt, dict) else pt
    return out


def _used_attributes(table: dict[str, Any]) -> list[dict[str, str]]:
    """Attribute definitions the table's keys use: AWS keeps only those (moto keeps a dropped index's too)."""
    schemas = [table.get("KeySchema") or []]
    schemas += [i.get("KeySchema") or [] for i in (table.get(GSI) or []) + (table.get(LSI) or [])]
    used = {k["AttributeName"] for schema in schemas for k in schema}
    defs = [{"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
            for a in table.get("AttributeDefinitions") or [] if a["AttributeName"] in used]
    return _sorted_by(defs, "AttributeName")


def _sse_of(table: dict[str, Any]) -> dict[str, Any]:
    desc = table.get("SSEDescription") or {}
    if desc.get("Status") not in ("ENABLED", "UPDATING"):
        return {"SSEEnabled": False}
    out: dict[str, Any] = {"SSEEnabled": True, "SSEType": desc.get("SSEType") or "KMS"}
    if desc.get("KMSMasterKeyArn"):
        out["KMSMasterKeyId"] = desc["KMSMasterKeyArn"]
    return out


def _table_props(table: dict[str, Any]) -> dict[str, Any]:
    """What describe_table says, in spec shape (TTL, point-in-time recovery and tags need other calls)."""
    mode = (table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    provisioned = mode == "PROVISIONED"
    props: dict[str, Any] = {
        "TableName": table["TableName"],
        "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in table["KeySchema"]],
        "AttributeDefinitions": _used_attributes(table),
        "BillingMode": mode,
        GSI: _sorted_by([_index(i, provisioned) for i in table.get(GSI) or []], "IndexName"),
        LSI: _sorted_by([_index(i, False) for i in table.get(LSI) or []], "IndexName"),
        "DeletionProtectionEnabled": bool(table.get("DeletionProtectionEnabled", False)),
        "TableClass": (table.get("TableClassSummary") or {}).get("TableClass") or "STANDARD",
        SSE: _sse_of(table),
    }
    if provisioned and table.get("ProvisionedThroughput"):
        props["ProvisionedThroughput"] = _throughput(table["ProvisionedThroughput"])
    stream = table.get(STREAM) or {}
    if stream.get("StreamEnabled"):
        props[STREAM] = {"StreamViewType": stream.get("StreamViewType")}
    return props


def _attributes(table: dict[str, Any]) -> dict[str, Any]:
    attrs = {"TableName": table["TableName"], "Arn": table["TableArn"]}
    if (table.get(STREAM) or {}).get("StreamEnabled") and table.get("LatestStreamArn"):
        attrs["StreamArn"] = table["LatestStreamArn"]
    return attrs



def _settled(table: dict[str, Any]) -> bool:
    indexes = table.get(GSI) or []
    return table.get("TableStatus") == "ACTIVE" and all(i.get("IndexStatus") == "ACTIVE" for i in indexes)


def _api_index(i: dict[str, Any], provisioned: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"IndexName": i["IndexName"], "KeySchema": _data(i["KeySchema"]),
                           "Projection": _projection(i.get("Projection") or {})}
    if provisioned and i.get("ProvisionedThroughput"):
        out["ProvisionedThroughput"] = _throughput(i["ProvisionedThroughput"])
    return out


def _api_sse(sse: dict[str, Any] | None) -> dict[str, Any]:
    if not sse or not _on(sse.get("SSEEnabled")):
        return {"Enabled": False}
    out = {"Enabled": True, "SSEType": sse.get("SSEType") or "KMS"}
    if sse.get("KMSMasterKeyId"):
        out["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
    return out


def _resize(index: dict[str, Any]) -> dict[str, Any]:
    return {"IndexName": index["IndexName"], "ProvisionedThroughput": _throughput(index["ProvisionedThroughput"])}


def _protected(exc: ClientError) -> bool:
    """Whether a delete was refused for deletion protection (AWS and moto word it differently)."""
    text = str(exc).lower().replace(" ", "")
    return "deletionprotection" in text or "protectedagainstdeletion" in text


def _index_map(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["IndexName"]: i for i in props.get(GSI) or []}


def _shape(i: dict[str, Any]) -> Any:
    """What cannot change on an existing index (a change means delete and create)."""
    return canon({"KeySchema": _data(i.get("KeySchema")), "Projection": _projection(i.get("Projection") or {})})


def _index_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[dict], list[dict]]:
    """(names to delete, indexes to create, kept indexes whose throughput changes)."""
    b, a = _index_map(before), _index_map(after)
    rebuilt = {n for n in b.keys() & a.keys() if _shape(b[n]) != _shape(a[n])}
    deletes = sorted((b.keys() - a.keys()) | rebuilt)
    creates = [a[n] for n in sorted((a.keys() - b.keys()) | rebuilt)]
    resized = [a[n] for n in sorted((b.keys() & a.keys()) - rebuilt)
               if a[n].get("ProvisionedThroughput")
               and canon(a[n]["ProvisionedThroughput"]) != canon(b[n].get("ProvisionedThroughput"))]
    return deletes, creates, resized


def _ttl_name(spec: Any) -> str | None:
    """The TTL attribute when TTL is on, else None."""
    if isinstance(spec, dict) and _on(spec.get("Enabled")):
        return spec.get("AttributeName")
    return None



# --- the handler ------------------------------------------------------------------------------------

class Table(Handler):
    """A DynamoDB table; its physical id is the table name."""

    type_name = "AWS::DynamoDB::Table"
    name_property = "TableName"
    name_max_length = 255
    defaults: ClassVar[dict[str, Any]] = {
        "BillingMode": "PROVISIONED",
        "DeletionProtectionEnabled": False,
        "TableClass": "STANDARD",
        GSI: [],
        LSI: [],
        SSE: {"SSEEnabled": False},
        TTL: {"Enabled": False},
        PITR: {"PointInTimeRecoveryEnabled": False},
        "Tags": [],
    }
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"ResourceInUseException", "TableAlreadyExistsException"})
    create_checks_existence = True
    tag_api = TagApi("dynamodb", add="tag_resource", remove="untag_resource", id_param="ResourceArn")

    # --- comparison view ----------------------------------------------------------------------
    def plan_reads(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The ARN of the KMS key the spec names by id or alias (describe_table reports ARNs)."""
        key = (props.get(SSE) or {}).get("KMSMasterKeyId") if isinstance(props.get(SSE), dict) else None
        if not isinstance(key, str) or (key.startswith("arn:") and ":key/" in key) or key.endswith(MANAGED_KEY_ALIAS):
            return {}
        try:
            return {"key_arns": {key: ctx.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"]}}
        except ClientError:
            return {}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec in read()'s shape: lists sorted by name, disabled settings bare, keys as ARNs."""
        out = dict(props)
        if "KeySchema" in out:
            out["KeySchema"] = _data(out["KeySchema"])
        if "AttributeDefinitions" in out:
            out["AttributeDefinitions"] = _sorted_by(out["AttributeDefinitions"], "AttributeName")
        provisioned = _mode(out) == "PROVISIONED" or not isinstance(_mode(out), str)
        for key, keep_throughput in ((GSI, provisioned), (LSI, False)):
            if isinstance(out.get(key), list):
                out[key] = _sorted_by([_index(i, keep_throughput) for i in out[key]], "IndexName")
        if not provisioned:
            out.pop("ProvisionedThroughput", None)
        if isinstance(out.get(TTL), dict) and canon(out[TTL].get("Enabled")) is False:
            out[TTL] = {"Enabled": False}
        if isinstance(out.get(PITR), dict):
            out[PITR] = {"PointInTimeRecoveryEnabled": False, **out[PITR]}
        if isinstance(out.get(SSE), dict):
            out[SSE] = self._sse_view(out[SSE], (reads or {}).get("key_arns", {}))
        return out

    @staticmethod
    def _sse_view(sse: dict[str, Any], key_arns: dict[str, str]) -> dict[str, Any]:
        """A key id or alias as its ARN (the form describe_table reports; as given when unreadable)."""
        if canon(sse.get("SSEEnabled")) is False:
            return {"SSEEnabled": False}
        out = {**sse, "SSEType": sse.get("SSEType") or "KMS"}
        key = out.pop("KMSMasterKeyId", None)
        if key is not None and not (isinstance(key, str) and key.endswith(MANAGED_KEY_ALIAS)):
            out["KMSMasterKeyId"] = key_arns.get(key, key) if isinstance(key, str) else key
        return out

    # --- read -----------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One describe_table, plus TTL, backups, tags and the managed-key check only when wanted."""
        table = self.absent(lambda: ctx.client("dynamodb").describe_table(TableName=physical_id)["Table"])
        if table is None or table.get("TableStatus") == "DELETING":
            return None
        props = _table_props(table)
        raw_tags = None
        if "Tags" in wanted:
            raw_tags = self._tags(ctx, table["TableArn"])
            props["Tags"] = user_tags(raw_tags)
        if TTL in wanted:
            props[TTL] = self._ttl(ctx, physical_id)
        if PITR in wanted:
            props[PITR] = self._pitr(ctx, physical_id)
        if SSE in wanted and props[SSE].get("KMSMasterKeyId"):
            props[SSE] = self._without_managed_key(ctx, props[SSE])
        return Live(properties=self.trim(props, wanted), attributes=_attributes(table),
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    @staticmethod
    def _tags(ctx: Context, arn: str) -> list[dict[str, str]]:
        client, tags, kwargs = ctx.client("dynamodb"), [], {"ResourceArn": arn}
        while True:
            page = client.list_tags_of_resource(**kwargs)
            tags += page.get("Tags", [])
            if not page.get("NextToken"):
                return tags
            kwargs["NextToken"] = page["NextToken"]

    @staticmethod
    def _ttl(ctx: Context, name: str) -> dict[str, Any]:
        desc = ctx.client("dynamodb").describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if desc.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return {"Enabled": True, "AttributeName": desc.get("AttributeName")}
        return {"Enabled": False}

    @staticmethod
    def _pitr(ctx: Context, name: str) -> dict[str, bool]:
        desc = ctx.client("dynamodb").describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        status = (desc.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
        return {"PointInTimeRecoveryEnabled": status in ("ENABLED", "ENABLING")}

    @staticmethod
    def _without_managed_key(ctx: Context, sse: dict[str, Any]) -> dict[str, Any]:
        """Drop the key when it is DynamoDB's AWS-managed one: a spec names it by leaving KMSMasterKeyId out."""
        meta = absent(lambda: ctx.client("kms").describe_key(KeyId=MANAGED_KEY_ALIAS)["KeyMetadata"],
                      frozenset({"NotFoundException"}))
        if meta is None:
            return sse
        managed = meta["Arn"]
        return {k: v for k, v in sse.items() if not (k == "KMSMasterKeyId" and v == managed)}

    # --- create ---------------------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_table with everything it takes, wait for ACTIVE, then TTL and point-in-time recovery."""
        view = self.desired_view(props, self.plan_reads(ctx, props))
        name = view["TableName"]
        client = ctx.client("dynamodb")
        created = client.create_table(**self._create_args(ctx, view))["TableDescription"]
        table = self._wait_ready(ctx, name, created)  # one poll loop; none when CreateTable answers ACTIVE
        if _ttl_name(view.get(TTL)):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": _ttl_name(view[TTL])})
        if _on((view.get(PITR) or {}).get("PointInTimeRecoveryEnabled")):
            self._set_pitr(ctx, name, True)
        return name, _attributes(table)

    @staticmethod
    def _create_args(ctx: Context, view: dict[str, Any]) -> dict[str, Any]:
        provisioned = _mode(view) == "PROVISIONED"
        args: dict[str, Any] = {
            "TableName": view["TableName"],
            "KeySchema": view["KeySchema"],
            "AttributeDefinitions": view.get("AttributeDefinitions") or [],
            "BillingMode": _mode(view),
            "Tags": map_to_tags(with_ownership(ctx, view.get("Tags"))),
        }
        if provisioned and view.get("ProvisionedThroughput"):
            args["ProvisionedThroughput"] = _throughput(view["ProvisionedThroughput"])
        if view.get(GSI):
            args[GSI] = [_api_index(i, provisioned) for i in view[GSI]]
        if view.get(LSI):
            args[LSI] = [_api_index(i, False) for i in view[LSI]]
        if view.get(STREAM):
            args[STREAM] = {"StreamEnabled": True, "StreamViewType": view[STREAM]["StreamViewType"]}
        if _on((view.get(SSE) or {}).get("SSEEnabled")):
            args[SSE] = _api_sse(view[SSE])
        if "DeletionProtectionEnabled" in view:
            args["DeletionProtectionEnabled"] = _on(view["DeletionProtectionEnabled"])
        if view.get("TableClass"):
            args["TableClass"] = view["TableClass"]
        return args

    # --- update ---------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Each changed group with its own call, indexes one at a time, waiting for ACTIVE in between.

        Order: index deletions first (frees capacity, and a changed index is deleted then created),
        then capacity, index throughput, index creations, streams, encryption, class, protection,
        TTL, backups and tags. Changing the TTL attribute disables the old one before enabling the
        new one; AWS may refuse the second step for up to an hour after the first.
        """
        after = self.desired_view(after, self.plan_reads(ctx, after))
        deletes, creates, resized = _index_changes(before, after)
        for name in deletes:
            self._update_table(ctx, physical_id, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}])
        self._update_capacity(ctx, physical_id, before, after, resized, changed)
        if _mode(before) == _mode(after) == "PROVISIONED":
            for index in resized:
                self._update_table(ctx, physical_id, GlobalSecondaryIndexUpdates=[{"Update": _resize(index)}])
        for index in creates:
            self._update_table(ctx, physical_id, AttributeDefinitions=after.get("AttributeDefinitions") or [],
                               GlobalSecondaryIndexUpdates=[{"Create": _api_index(index, _mode(after) == "PROVISIONED")}])
        if STREAM in changed:
            self._update_stream(ctx, physical_id, before, after)
        self._update_settings(ctx, physical_id, after, changed)
        if TTL in changed:
            self._update_ttl(ctx, physical_id, before, after)
        if PITR in changed:
            self._set_pitr(ctx, physical_id, _on((after.get(PITR) or {}).get("PointInTimeRecoveryEnabled")))
        table = self._wait_ready(ctx, physical_id)
        self.sync_tags(ctx, table["TableArn"], before, after, changed)
        return _attributes(table)

    def _update_table(self, ctx: Context, name: str, **changes: Any) -> None:
        ctx.client("dynamodb").update_table(TableName=name, **changes)
        self._wait_ready(ctx, name)

    def _update_capacity(self, ctx: Context, name: str, before: dict[str, Any], after: dict[str, Any],
                         resized: list[dict[str, Any]], changed: frozenset[str]) -> None:
        """Billing mode and table throughput; switching to provisioned sets every index's throughput too."""
        if not changed & {"BillingMode", "ProvisionedThroughput"}:
            return
        changes: dict[str, Any] = {}
        if "BillingMode" in changed:
            changes["BillingMode"] = _mode(after)
        if _mode(after) == "PROVISIONED" and after.get("ProvisionedThroughput"):
            changes["ProvisionedThroughput"] = _throughput(after["ProvisionedThroughput"])
        if _mode(after) == "PROVISIONED" and _mode(before) != "PROVISIONED" and resized:
            changes["GlobalSecondaryIndexUpdates"] = [{"Update": _resize(i)} for i in resized]
        self._update_table(ctx, name, **changes)

    def _update_stream(self, ctx: Context, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """A stream's view type cannot change in place: disable, then enable with the new type."""
        if before.get(STREAM):
            self._update_table(ctx, name, StreamSpecification={"StreamEnabled": False})
        if after.get(STREAM):
            self._update_table(ctx, name, StreamSpecification={
                "StreamEnabled": True, "StreamViewType": after[STREAM]["StreamViewType"]})

    def _update_settings(self, ctx: Context, name: str, after: dict[str, Any], changed: frozenset[str]) -> None:
        """Encryption, table class and deletion protection: one update_table each (each may be refused alone)."""
        if SSE in changed:
            self._update_table(ctx, name, SSESpecification=_api_sse(after.get(SSE)))
        if "TableClass" in changed:
            self._update_table(ctx, name, TableClass=after.get("TableClass") or self.defaults["TableClass"])
        if "DeletionProtectionEnabled" in changed:
            self._update_table(ctx, name, DeletionProtectionEnabled=_on(after.get("DeletionProtectionEnabled", False)))

    def _update_ttl(self, ctx: Context, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        old, new = _ttl_name(before.get(TTL)), _ttl_name(after.get(TTL))
        client = ctx.client("dynamodb")
        if old and old != new:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": old})
        if new and new != old:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": new})

    @staticmethod
    def _set_pitr(ctx: Context, name: str, enabled: bool) -> None:
        ctx.client("dynamodb").update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled})

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        """The tag APIs take the table ARN (a physical id that already is one stays as it is)."""
        if physical_id.startswith("arn:"):
            return physical_id
        return f"arn:{ctx.partition}:dynamodb:{ctx.region}:{ctx.account_id}:table/{physical_id}"

    def _wait_ready(self, ctx: Context, name: str, known: dict[str, Any] | None = None) -> dict[str, Any]:
        """Poll until the table and all its indexes are ACTIVE (no botocore waiter covers indexes);
        `known`, a description just answered (CreateTable's), spares the first poll when it is settled."""
        if known is not None and _settled(known):
            return known
        client = ctx.client("dynamodb")

        def settled() -> dict[str, Any] | None:
            table = client.describe_table(TableName=name)["Table"]
            return table if _settled(table) else None
        return waiting.until(settled, f"table {name} becoming ACTIVE", budget=WAIT_SECONDS, first=POLL_SECONDS,
                             longest=POLL_SECONDS)

    # --- delete and ownership -------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """delete_table and wait until gone; deletion protection is reported, never switched off here."""
        client = ctx.client("dynamodb")
        try:
            self._delete_when_idle(ctx, physical_id)
        except ClientError as exc:
            if self.is_not_found(exc):
                return
            if _protected(exc):
                raise AwsError(ctx.logical_id, f"table {physical_id} has deletion protection on: set "
                               "DeletionProtectionEnabled to false and apply before deleting it",
                               error_code(exc)) from exc
            raise
        client.get_waiter("table_not_exists").wait(TableName=physical_id)

    def _delete_when_idle(self, ctx: Context, name: str) -> None:
        """A table that is still updating refuses deletion: wait for it once, then try again."""
        client = ctx.client("dynamodb")
        try:
            client.delete_table(TableName=name)
        except ClientError as exc:
            if error_code(exc) != "ResourceInUseException":
                raise
            self._wait_ready(ctx, name)
            client.delete_table(TableName=name)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Tables tagged as this stack's logical id (found after a create whose answer was lost)."""
        return [arn.split(":table/", 1)[1] for arn in self.owned_by_tags(ctx, "dynamodb:table")]

    def at_stake(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> Stake | None:
        """The items the table holds (DynamoDB's ItemCount and TableSizeBytes, updated about every 6 hours)."""
        table = self.absent(lambda: ctx.client("dynamodb").describe_table(TableName=physical_id)["Table"])
        if table is None:
            return None
        count = int(table.get("ItemCount") or 0)
        return Stake(f"{count:,} item{'s' if count != 1 else ''}, {size_text(int(table.get('TableSizeBytes') or 0))}")
