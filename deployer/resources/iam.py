"""IAM handlers: AWS::IAM::Role, Policy, ManagedPolicy, User, Group and InstanceProfile.

A role's physical id is its name. Inline policies (Policies) and attached managed policies
(ManagedPolicyArns) cost extra calls to read, so they are read only when the spec or the last
apply names them. Both are sets to AWS: they are kept sorted (by name, by ARN) on the read side and
in desired_view, so their order in a spec never shows as a change.

Ownership tags (deployer:*) are added at create and never removed (users' too). IAM is not in the
tagging API, so a resource a lost answer made is found again by its name, which the journal
records before the create.

A new role, user or instance profile is configured (policies, groups, roles) right after its create;
only a call that IAM answers "not found" (its eventual consistency) waits with botocore's exists
waiter and is made again (`once_visible`), so a create costs no read while IAM already sees it.

Roles, users and groups share one API shape (put_role_policy / put_user_policy / put_group_policy,
RoleName / UserName / GroupName...); `Principal` names the three kinds so that inline-policy and
attachment helpers are written once.

A user's LoginProfile (console password) is sensitive: plans mask it and the state keeps only its
digest, and IAM never returns a password, so it is compared with what the last apply set (drift of a
password, or a profile deleted by hand, is not seen). A change calls UpdateLoginProfile, re-sending the
password only when its digest says it changed, so a PasswordResetRequired change never trips IAM's
password-reuse policy; a removed LoginProfile is deleted (no console access, IAM's default).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from deployer import secrets
from deployer.aws import error_code
from deployer.errors import DeployerError
from deployer.normalize import canon, parse_policy
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    TagApi,
    absent,
    map_to_tags,
    owner_of,
    user_tags,
    with_ownership,
)

NOT_FOUND = frozenset({"NoSuchEntity"})
EXISTS = frozenset({"EntityAlreadyExists"})


def listed_names(ctx: Context, operation: str, items: str, key: str, props: dict[str, Any]) -> Callable[[str], list[str]]:
    """A lister of the names (under the spec's path) that start with a prefix."""
    def names(prefix: str) -> list[str]:
        pages = ctx.client("iam").get_paginator(operation).paginate(PathPrefix=props.get("Path") or "/")
        return [e[key] for page in pages for e in page.get(items, []) if e[key].startswith(prefix)]
    return names


def owned_by_name(handler: Handler, ctx: Context, props: dict[str, Any], names_with: Callable[[str], list[str]],
                  tags_of: Callable[[str], Any] | None) -> list[str]:
    """The IAM entities this resource may have made: the spec's name, or the names deployer generates
    for it (`stack-logicalid-...`), confirmed by their ownership tags (tags_of(name)); for a type
    without tags, a generated name only when it is the one such name."""
    name = props.get(handler.name_property)
    candidates = [name] if isinstance(name, str) else names_with(handler.generated_prefix(ctx.stack, ctx.logical_id))
    if tags_of is None:
        return candidates if len(candidates) == 1 and not isinstance(name, str) else []
    return [n for n in candidates
            if owner_of(handler.absent(lambda n=n: tags_of(n)) or []) == (ctx.stack, ctx.logical_id)]


class Role(Handler):
    """AWS::IAM::Role with inline policies, managed policy attachments and a permissions boundary."""

    type_name = "AWS::IAM::Role"
    name_property = "RoleName"
    name_max_length = 64
    defaults: ClassVar[dict[str, Any]] = {
        "Description": "", "MaxSessionDuration": 3600, "Path": "/", "Policies": [], "ManagedPolicyArns": [],
        "PermissionsBoundary": None, "Tags": [],
    }
    not_found_codes = NOT_FOUND
    already_exists_codes = EXISTS
    create_checks_existence = True
    tag_api = TagApi("iam", add="tag_role", remove="untag_role", id_param="RoleName")

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Roles carrying this resource's ownership tags, by the spec's name or the generated prefix."""
        iam = ctx.client("iam")
        return owned_by_name(self, ctx, props, listed_names(ctx, "list_roles", "Roles", "RoleName", props),
                             lambda n: iam.list_role_tags(RoleName=n)["Tags"])

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec with its set-like lists in read order (policies by name, ARNs sorted)."""
        view = dict(props)
        if isinstance(props.get("ManagedPolicyArns"), list):
            view["ManagedPolicyArns"] = sorted(props["ManagedPolicyArns"], key=str)
        if isinstance(props.get("Policies"), list):
            view["Policies"] = sorted(props["Policies"], key=_policy_name)
        return view

    # --- read -----------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return self.absent(lambda: self._described(ctx.client("iam"), physical_id, wanted))

    def _described(self, iam: Any, name: str, wanted: set[str]) -> Live:
        role = iam.get_role(RoleName=name)["Role"]
        props = _role_properties(role)
        if "Policies" in wanted:
            props["Policies"] = inline_policies(iam, ROLE, name)
        if "ManagedPolicyArns" in wanted:
            props["ManagedPolicyArns"] = attached_arns(iam, ROLE, name)
        return Live(properties=self.trim(props, wanted), attributes=_attributes(role),
                    owner=owner_of(role.get("Tags")))

    # --- create ---------------------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        iam = ctx.client("iam")
        name = props["RoleName"]
        role = iam.create_role(**_create_args(ctx, props))["Role"]
        once_visible(lambda: add_policies(iam, ROLE, name, props),
                     lambda: iam.get_waiter("role_exists").wait(RoleName=name))
        return name, _attributes(role)

    # --- update ---------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        iam = ctx.client("iam")
        if "AssumeRolePolicyDocument" in changed:
            iam.update_assume_role_policy(RoleName=physical_id,
                                          PolicyDocument=_policy_text(after["AssumeRolePolicyDocument"]))
        keys = ("Description", "MaxSessionDuration")
        if changed & set(keys):  # both in one UpdateRole: one left out is reset by some implementations (moto)
            values = {k: after.get(k, self.defaults[k]) for k in keys}
            values["MaxSessionDuration"] = _whole(values["MaxSessionDuration"])
            iam.update_role(RoleName=physical_id, **values)
        if "PermissionsBoundary" in changed:
            if after.get("PermissionsBoundary"):
                iam.put_role_permissions_boundary(RoleName=physical_id, PermissionsBoundary=after["PermissionsBoundary"])
            else:
                iam.delete_role_permissions_boundary(RoleName=physical_id)
        sync_policies(iam, ROLE, physical_id, before, after, changed)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return _attributes(iam.get_role(RoleName=physical_id)["Role"])

    # --- delete ---------------------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Everything that blocks DeleteRole goes first: attachments, inline policies, instance profiles."""
        iam = ctx.client("iam")
        with self.missing_ok():
            clear_policies(iam, ROLE, physical_id)
            for profile in _instance_profiles(iam, physical_id):
                _ignore_missing(iam.remove_role_from_instance_profile, RoleName=physical_id,
                                InstanceProfileName=profile)
            iam.delete_role(RoleName=physical_id)


# --- helpers ------------------------------------------------------------------------------------

def _policy_name(policy: Any) -> str:
    return str(policy.get("PolicyName", "")) if isinstance(policy, dict) else str(policy)


def _whole(value: Any) -> Any:
    """A number that arrived as text (from a variable) as the integer the API wants."""
    number = canon(value)
    return number if type(number) is int else value


def _policy_text(document: Any) -> str:
    """Policy documents may be written as data or as JSON text; IAM takes text."""
    return document if isinstance(document, str) else json.dumps(document)


def _attributes(role: dict[str, Any]) -> dict[str, Any]:
    return {"Arn": role["Arn"], "RoleId": role["RoleId"], "RoleName": role["RoleName"]}


def _role_properties(role: dict[str, Any]) -> dict[str, Any]:
    """GetRole's answer in spec shape (everything but the separately listed policies)."""
    return {
        "RoleName": role["RoleName"],
        "AssumeRolePolicyDocument": parse_policy(role.get("AssumeRolePolicyDocument")),
        "Description": role.get("Description", ""),
        "MaxSessionDuration": role.get("MaxSessionDuration", 3600),
        "Path": role.get("Path", "/"),
        "PermissionsBoundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
        "Tags": user_tags(role.get("Tags")),
    }


def _create_args(ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "RoleName": props["RoleName"],
        "AssumeRolePolicyDocument": _policy_text(props["AssumeRolePolicyDocument"]),
        "Tags": map_to_tags(with_ownership(ctx, props.get("Tags"))),
    }
    for key in ("Description", "MaxSessionDuration", "Path", "PermissionsBoundary"):
        if props.get(key) is not None:
            args[key] = _whole(props[key]) if key == "MaxSessionDuration" else props[key]
    return args


def _instance_profiles(iam: Any, role_name: str) -> list[str]:
    profiles = ROLE.pages(iam, "list_instance_profiles_for_role", "InstanceProfiles", role_name)
    return [p["InstanceProfileName"] for p in profiles]


def _ignore_missing(call: Any, **kwargs: Any) -> None:
    """Removing something that is already gone is what we wanted."""
    absent(lambda: call(**kwargs), NOT_FOUND)



# --- roles, users and groups: one set of helpers for the three kinds of principal -------------------

@dataclass(frozen=True)
class Principal:
    """A kind of IAM principal and the names IAM's API uses for it."""

    noun: str  # role | user | group: as in put_role_policy, list_attached_user_policies...
    prop: str  # the property listing them in AWS::IAM::Policy and ManagedPolicy: Roles | Users | Groups

    @property
    def key(self) -> str:
        """The parameter naming one of them: RoleName, UserName, GroupName."""
        return f"{self.noun.capitalize()}Name"

    def op(self, iam: Any, template: str) -> Any:
        """The client method for this kind, e.g. op(iam, "put_{}_policy") is iam.put_user_policy for users."""
        return getattr(iam, template.format(self.noun))

    def args(self, name: str) -> dict[str, str]:
        return {self.key: name}

    def pages(self, iam: Any, operation: str, result_key: str, name: str) -> list[Any]:
        """Every item of a paginated list call about one principal."""
        items: list[Any] = []
        for page in iam.get_paginator(operation.format(self.noun)).paginate(**self.args(name)):
            items += page.get(result_key, [])
        return items


ROLE, USER, GROUP = Principal("role", "Roles"), Principal("user", "Users"), Principal("group", "Groups")
PRINCIPALS = (ROLE, USER, GROUP)


def inline_names(iam: Any, kind: Principal, name: str) -> list[str]:
    return kind.pages(iam, "list_{}_policies", "PolicyNames", name)


def inline_policies(iam: Any, kind: Principal, name: str) -> list[dict[str, Any]]:
    """A principal's inline policies in spec shape, sorted by name."""
    out = []
    for policy in sorted(inline_names(iam, kind, name)):
        doc = kind.op(iam, "get_{}_policy")(**kind.args(name), PolicyName=policy)["PolicyDocument"]
        out.append({"PolicyName": policy, "PolicyDocument": parse_policy(doc)})
    return out


def attached_arns(iam: Any, kind: Principal, name: str) -> list[str]:
    attached = kind.pages(iam, "list_attached_{}_policies", "AttachedPolicies", name)
    return sorted(p["PolicyArn"] for p in attached)


def put_inline(iam: Any, kind: Principal, name: str, policy: dict[str, Any]) -> None:
    kind.op(iam, "put_{}_policy")(**kind.args(name), PolicyName=policy["PolicyName"],
                                  PolicyDocument=_policy_text(policy["PolicyDocument"]))


def sync_inline(iam: Any, kind: Principal, name: str, before: list[Any], after: list[Any]) -> None:
    """Put the policies that are new or changed (by name), delete those no longer wanted."""
    old = {_policy_name(p): p.get("PolicyDocument") for p in before if isinstance(p, dict)}
    new = {_policy_name(p): p for p in after if isinstance(p, dict)}
    for policy_name, policy in sorted(new.items()):
        if policy_name not in old or canon(old[policy_name]) != canon(policy.get("PolicyDocument")):
            put_inline(iam, kind, name, policy)
    for policy_name in sorted(set(old) - set(new)):
        _ignore_missing(kind.op(iam, "delete_{}_policy"), **kind.args(name), PolicyName=policy_name)


def sync_managed(iam: Any, kind: Principal, name: str, before: list[str], after: list[str]) -> None:
    for arn in sorted(set(after) - set(before)):
        kind.op(iam, "attach_{}_policy")(**kind.args(name), PolicyArn=arn)
    for arn in sorted(set(before) - set(after)):
        _ignore_missing(kind.op(iam, "detach_{}_policy"), **kind.args(name), PolicyArn=arn)


def once_visible(configure: Callable[[], None], wait: Callable[[], None]) -> None:
    """The calls that configure a principal IAM just created. IAM is eventually consistent and may not
    see it yet: on "not found", wait with botocore's exists waiter and configure once more. The wait
    (one read when the principal is visible) is spent only when a call failed, not before every
    create; a create with nothing to configure waits for nothing. What is still not found after the
    wait is something else (a policy ARN, a group, a role) and fails as IAM said."""
    try:
        configure()
        return
    except Exception as exc:
        if error_code(exc) not in NOT_FOUND:
            raise
    wait()
    configure()


def add_policies(iam: Any, kind: Principal, name: str, props: dict[str, Any]) -> None:
    """A new principal's inline policies and managed policy attachments."""
    for policy in props.get("Policies") or []:
        put_inline(iam, kind, name, policy)
    for arn in sorted(set(props.get("ManagedPolicyArns") or [])):
        kind.op(iam, "attach_{}_policy")(**kind.args(name), PolicyArn=arn)


def sync_policies(iam: Any, kind: Principal, name: str, before: dict[str, Any], after: dict[str, Any],
                  changed: frozenset[str]) -> None:
    """A principal's inline policies and managed attachments, each when it changed."""
    if "Policies" in changed:
        sync_inline(iam, kind, name, before.get("Policies") or [], after.get("Policies") or [])
    if "ManagedPolicyArns" in changed:
        sync_managed(iam, kind, name, before.get("ManagedPolicyArns") or [], after.get("ManagedPolicyArns") or [])


def clear_policies(iam: Any, kind: Principal, name: str) -> None:
    """Detach every managed policy and delete every inline one (IAM refuses to delete a principal that has any)."""
    for arn in attached_arns(iam, kind, name):
        _ignore_missing(kind.op(iam, "detach_{}_policy"), **kind.args(name), PolicyArn=arn)
    for policy_name in inline_names(iam, kind, name):
        _ignore_missing(kind.op(iam, "delete_{}_policy"), **kind.args(name), PolicyName=policy_name)


def _sorted_names(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The spec with set-like lists (names, ARNs, inline policies by name) in read order."""
    view = dict(props)
    for key in keys:
        if isinstance(view.get(key), list):
            view[key] = sorted(view[key], key=_policy_name if key == "Policies" else str)
    if "PolicyDocument" in view:
        view["PolicyDocument"] = parse_policy(view["PolicyDocument"])
    return view


def _iso(value: Any) -> Any:
    """Dates as ISO text: attributes go to the JSON state."""
    return value.isoformat() if hasattr(value, "isoformat") else value


# --- AWS::IAM::Policy -----------------------------------------------------------------------------

def _inline_holders(iam: Any, kinds: tuple[Principal, ...]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every inline policy of the account's principals of these kinds, as {policy name: {"Roles": {role:
    document}, ...}}. IAM cannot look an inline policy up by name, so this is one paginated
    GetAccountAuthorizationDetails, filtered to the kinds asked for."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    filters = [kind.noun.capitalize() for kind in kinds]
    for page in iam.get_paginator("get_account_authorization_details").paginate(Filter=filters):
        for kind in kinds:
            label = kind.noun.capitalize()
            for detail in page.get(f"{label}DetailList", []):
                for policy in detail.get(f"{label}PolicyList", []):
                    holders = found.setdefault(policy["PolicyName"], {}).setdefault(kind.prop, {})
                    holders[detail[kind.key]] = parse_policy(policy["PolicyDocument"])
    return found


def _one_document(documents: list[Any]) -> Any:
    """The document every holder has; when they disagree, the list of distinct ones (so a plan shows a
    change and the update writes the spec's document to all of them)."""
    distinct = {json.dumps(canon(d), sort_keys=True): d for d in documents}
    values = list(distinct.values())
    return values[0] if len(values) == 1 else values


def _targets(props: dict[str, Any]) -> list[tuple[Principal, str]]:
    """(kind, name) of every principal the properties attach the policy to."""
    return [(kind, who) for kind in PRINCIPALS for who in sorted(set(props.get(kind.prop) or []))]


class Policy(Handler):
    """AWS::IAM::Policy: one inline policy put on every listed role, user and group.

    IAM models no policy object here, so the physical id (and Ref, CloudFormation's Id) is the
    PolicyName, and read() finds the principals that hold an inline policy of that name. Renaming
    therefore replaces the resource (CloudFormation renames in place); Roles/Users/Groups and the
    document update in place. Any principal holding an inline policy of that name counts as
    attached, so the name must not be used by other inline policies in the account.
    """

    type_name = "AWS::IAM::Policy"
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = {"Roles": [], "Users": [], "Groups": []}
    not_found_codes = NOT_FOUND

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """The name: recorded before a create, so a create whose answer was lost is found again. (With no
        name_property the planner never looks a new resource up by it, so another stack's policy of the
        same name is not adopted.)"""
        name = props.get("PolicyName")
        return name if isinstance(name, str) else None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        return _sorted_names(props, "Roles", "Users", "Groups")

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The name, when a listed principal already holds an inline policy of that name: PutRolePolicy
        would overwrite it silently, so the plan must see it (and refuse to take it over)."""
        name, iam = props.get("PolicyName"), ctx.client("iam")
        if not isinstance(name, str):
            return None
        for kind, who in _targets(props):
            if isinstance(who, str) and absent(lambda kind=kind, who=who: kind.op(iam, "get_{}_policy")(
                    **kind.args(who), PolicyName=name), NOT_FOUND) is not None:
                return name
        return None

    # --- read -----------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return self.read_many([(ctx, physical_id, wanted)])[0]

    def read_many(self, requests: list[tuple[Context, str, set[str]]]) -> list[Live | None]:
        """One account scan for the whole batch, of the principal kinds some request names (all three when
        none does: only properties the spec or the last apply set are compared)."""
        if not requests:
            return []
        named = set().union(*(wanted for _, _, wanted in requests))
        kinds = tuple(k for k in PRINCIPALS if k.prop in named) or PRINCIPALS
        holders = _inline_holders(requests[0][0].client("iam"), kinds)
        return [self._live(pid, holders.get(pid, {}), kinds, wanted) for _, pid, wanted in requests]

    def _live(self, name: str, held: dict[str, dict[str, Any]], kinds: tuple[Principal, ...],
              wanted: set[str]) -> Live | None:
        if not held:
            return None
        documents = [doc for kind in kinds for _, doc in sorted(held.get(kind.prop, {}).items())]
        props: dict[str, Any] = {"PolicyName": name, "PolicyDocument": _one_document(documents)}
        for kind in kinds:
            props[kind.prop] = sorted(held.get(kind.prop, {}))
        return Live(properties=self.trim(props, wanted), attributes={"Id": name})

    # --- create, update, delete -----------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Put the policy on every principal (the plan made sure none already has one of that name)."""
        iam, name = ctx.client("iam"), props["PolicyName"]
        targets = _targets(props)
        if not targets:
            raise DeployerError(f"{ctx.logical_id}: AWS::IAM::Policy needs at least one of Roles, Users, Groups")
        for kind, who in targets:
            put_inline(iam, kind, who, props)
        return name, {"Id": name}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Put the policy on new principals (on all when the document changed), delete it from dropped ones."""
        iam = ctx.client("iam")
        rewrite = "PolicyDocument" in changed
        policy = {"PolicyName": physical_id, "PolicyDocument": after["PolicyDocument"]}
        for kind in PRINCIPALS:
            old, new = set(before.get(kind.prop) or []), set(after.get(kind.prop) or [])
            for who in sorted(new):
                if rewrite or who not in old:
                    put_inline(iam, kind, who, policy)
            for who in sorted(old - new):
                _ignore_missing(kind.op(iam, "delete_{}_policy"), **kind.args(who), PolicyName=physical_id)
        return {"Id": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Delete the policy from the principals read; when props name none, from every holder found."""
        iam = ctx.client("iam")
        targets = _targets(props)
        if not targets:
            live = self.read(ctx, physical_id, {k.prop for k in PRINCIPALS})
            targets = _targets(live.properties) if live else []
        for kind, who in targets:
            _ignore_missing(kind.op(iam, "delete_{}_policy"), **kind.args(who), PolicyName=physical_id)


# --- AWS::IAM::ManagedPolicy ------------------------------------------------------------------------

MAX_POLICY_VERSIONS = 5


class ManagedPolicy(Handler):
    """AWS::IAM::ManagedPolicy; its physical id (and Ref) is the policy ARN.

    A document change adds a new default version; IAM keeps at most five, so the oldest non-default
    version is deleted first when five exist. Name, Path and Description are create-only (IAM has no
    call to change them). The policy carries the ownership tags (CloudFormation models no Tags for this
    type), so a create whose answer was lost adopts the policy it made instead of failing on the name.
    """

    type_name = "AWS::IAM::ManagedPolicy"
    name_property = "ManagedPolicyName"
    name_max_length = 128
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = {"Description": "", "Path": "/", "Roles": [], "Users": [], "Groups": []}
    not_found_codes = NOT_FOUND
    already_exists_codes = EXISTS

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Unknown before create: the ARN needs the account."""
        return None

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The ARN of the policy of that name and path, if it exists."""
        found = self._by_name(ctx, props)
        return found["Arn"] if found else None

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """The policy of that name and path when it carries this resource's ownership tags."""
        found = self._by_name(ctx, props)
        return [found["Arn"]] if found and owner_of(found.get("Tags")) == (ctx.stack, ctx.logical_id) else []

    def _by_name(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any] | None:
        name = props.get("ManagedPolicyName")
        if not isinstance(name, str):
            return None
        arn = f"arn:{ctx.partition}:iam::{ctx.account_id}:policy{props.get('Path') or '/'}{name}"
        return self.absent(lambda: ctx.client("iam").get_policy(PolicyArn=arn)["Policy"])

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        return _sorted_names(props, "Roles", "Users", "Groups")

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """GetPolicy and its default version; ListEntitiesForPolicy only when attachments are wanted."""
        return self.absent(lambda: self._described(ctx.client("iam"), physical_id, wanted))

    def _described(self, iam: Any, arn: str, wanted: set[str]) -> Live:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        props = _managed_properties(iam, policy)
        if wanted & {k.prop for k in PRINCIPALS}:
            props.update(_policy_entities(iam, arn))
        return Live(properties=self.trim(props, wanted), attributes=_managed_attributes(policy),
                    owner=owner_of(policy.get("Tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        iam = ctx.client("iam")
        args: dict[str, Any] = {"PolicyName": props["ManagedPolicyName"],
                                "PolicyDocument": _policy_text(props["PolicyDocument"]),
                                "Tags": map_to_tags(ctx.ownership_tags())}
        for key in ("Path", "Description"):
            if props.get(key):
                args[key] = props[key]
        arn = iam.create_policy(**args)["Policy"]["Arn"]
        iam.get_waiter("policy_exists").wait(PolicyArn=arn)
        _sync_entities(iam, arn, {}, props)
        return arn, _managed_attributes(iam.get_policy(PolicyArn=arn)["Policy"])

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        iam = ctx.client("iam")
        if "PolicyDocument" in changed:
            _new_default_version(iam, physical_id, after["PolicyDocument"])
        if changed & {k.prop for k in PRINCIPALS}:
            _sync_entities(iam, physical_id, before, after)
        return _managed_attributes(iam.get_policy(PolicyArn=physical_id)["Policy"])

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Detach it everywhere and delete its non-default versions first: IAM refuses otherwise."""
        iam = ctx.client("iam")
        with self.missing_ok():
            entities = _policy_entities(iam, physical_id)
            _sync_entities(iam, physical_id, entities, {})
            for version in _versions(iam, physical_id):
                if not version["IsDefaultVersion"]:
                    _ignore_missing(iam.delete_policy_version, PolicyArn=physical_id, VersionId=version["VersionId"])
            iam.delete_policy(PolicyArn=physical_id)


def _managed_properties(iam: Any, policy: dict[str, Any]) -> dict[str, Any]:
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    return {"ManagedPolicyName": policy["PolicyName"], "Path": policy.get("Path", "/"),
            "Description": policy.get("Description", ""), "PolicyDocument": parse_policy(version["Document"])}


def _managed_attributes(policy: dict[str, Any]) -> dict[str, Any]:
    return {"PolicyArn": policy["Arn"], "PolicyId": policy["PolicyId"], "DefaultVersionId": policy["DefaultVersionId"],
            "AttachmentCount": policy.get("AttachmentCount", 0), "IsAttachable": policy.get("IsAttachable", True),
            "PermissionsBoundaryUsageCount": policy.get("PermissionsBoundaryUsageCount", 0),
            "CreateDate": _iso(policy.get("CreateDate")), "UpdateDate": _iso(policy.get("UpdateDate"))}


def _policy_entities(iam: Any, arn: str) -> dict[str, list[str]]:
    """The roles, users and groups a managed policy is attached to, each sorted."""
    found: dict[str, list[str]] = {kind.prop: [] for kind in PRINCIPALS}
    for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn):
        for kind in PRINCIPALS:
            label = kind.noun.capitalize()
            found[kind.prop] += [entity[kind.key] for entity in page.get(f"Policy{label}s", [])]
    return {prop: sorted(names) for prop, names in found.items()}


def _sync_entities(iam: Any, arn: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Attach the policy to principals new in after, detach it from those only in before."""
    for kind in PRINCIPALS:
        old, new = set(before.get(kind.prop) or []), set(after.get(kind.prop) or [])
        for who in sorted(new - old):
            kind.op(iam, "attach_{}_policy")(**kind.args(who), PolicyArn=arn)
        for who in sorted(old - new):
            _ignore_missing(kind.op(iam, "detach_{}_policy"), **kind.args(who), PolicyArn=arn)


def _versions(iam: Any, arn: str) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = []
    for page in iam.get_paginator("list_policy_versions").paginate(PolicyArn=arn):
        versions += page.get("Versions", [])
    return versions


def _version_number(version: dict[str, Any]) -> int:
    digits = str(version["VersionId"]).lstrip("v")
    return int(digits) if digits.isdigit() else 0


def _new_default_version(iam: Any, arn: str, document: Any) -> None:
    """A new default version with the document, pruning the oldest non-default one when IAM's five are used."""
    versions = _versions(iam, arn)
    if len(versions) >= MAX_POLICY_VERSIONS:
        spare = [v for v in versions if not v["IsDefaultVersion"]]
        oldest = min(spare, key=lambda v: (_iso(v.get("CreateDate")) or "", _version_number(v)))
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_policy_text(document), SetAsDefault=True)


# --- AWS::IAM::User -------------------------------------------------------------------------------

USER_CREDENTIALS = (  # (list operation, result key, id field, operation that removes one): all block DeleteUser
    ("list_access_keys", "AccessKeyMetadata", "AccessKeyId", "delete_access_key"),
    ("list_signing_certificates", "Certificates", "CertificateId", "delete_signing_certificate"),
    ("list_ssh_public_keys", "SSHPublicKeys", "SSHPublicKeyId", "delete_ssh_public_key"),
    ("list_mfa_devices", "MFADevices", "SerialNumber", "deactivate_mfa_device"),
)


def login_profile(value: Any) -> Any:
    """A LoginProfile in one canonical form (its digest is what the state keeps): the password as text,
    PasswordResetRequired only when true (false is IAM's default)."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {"Password": value.get("Password")}
    if canon(value.get("PasswordResetRequired")) is True:
        out["PasswordResetRequired"] = True
    return out


class User(Handler):
    """AWS::IAM::User with group memberships, inline and managed policies, a permissions boundary, a
    console login profile and tags."""

    type_name = "AWS::IAM::User"
    name_property = "UserName"
    name_max_length = 64
    defaults: ClassVar[dict[str, Any]] = {"Path": "/", "Groups": [], "ManagedPolicyArns": [], "Policies": [],
                                          "PermissionsBoundary": None, "LoginProfile": None, "Tags": []}
    sensitive_properties = frozenset({"LoginProfile"})
    restore_from_spec = frozenset({"LoginProfile"})  # a rollback recreating the user takes the password from the spec
    not_found_codes = NOT_FOUND
    already_exists_codes = EXISTS
    create_checks_existence = True
    tag_api = TagApi("iam", add="tag_user", remove="untag_user", id_param="UserName")

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Users carrying this resource's ownership tags, by the spec's name or the generated prefix."""
        iam = ctx.client("iam")
        return owned_by_name(self, ctx, props, listed_names(ctx, "list_users", "Users", "UserName", props),
                             lambda n: iam.list_user_tags(UserName=n)["Tags"])

    @property
    def write_only(self) -> set[str]:
        """LoginProfile too: IAM never answers the password (CloudFormation marks LoginProfile.Password
        write-only), so the whole profile is compared by the digest the last apply stored."""
        return super().write_only | {"LoginProfile"}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        view = _sorted_names(props, "Groups", "ManagedPolicyArns", "Policies")
        if "LoginProfile" in view:
            view["LoginProfile"] = login_profile(view["LoginProfile"])
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """GetUser (it includes tags and the boundary); one list call per wanted set-like property."""
        return self.absent(lambda: self._described(ctx.client("iam"), physical_id, wanted))

    def _described(self, iam: Any, name: str, wanted: set[str]) -> Live:
        user = iam.get_user(UserName=name)["User"]
        props = _user_properties(user)
        if "Groups" in wanted:
            props["Groups"] = _groups_for_user(iam, name)
        if "Policies" in wanted:
            props["Policies"] = inline_policies(iam, USER, name)
        if "ManagedPolicyArns" in wanted:
            props["ManagedPolicyArns"] = attached_arns(iam, USER, name)
        return Live(properties=self.trim(props, wanted), attributes={"Arn": user["Arn"]},
                    owner=owner_of(user.get("Tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        iam, name = ctx.client("iam"), props["UserName"]
        args: dict[str, Any] = {"UserName": name, "Tags": map_to_tags(with_ownership(ctx, props.get("Tags")))}
        for key in ("Path", "PermissionsBoundary"):
            if props.get(key):
                args[key] = props[key]
        user = iam.create_user(**args)["User"]
        once_visible(lambda: self._configure(iam, name, props), lambda: iam.get_waiter("user_exists").wait(UserName=name))
        return name, {"Arn": user["Arn"]}

    @staticmethod
    def _configure(iam: Any, name: str, props: dict[str, Any]) -> None:
        """A new user's groups, policies and login profile (each call safe to make again)."""
        for group in sorted(set(props.get("Groups") or [])):
            iam.add_user_to_group(UserName=name, GroupName=group)
        add_policies(iam, USER, name, props)
        profile = login_profile(props.get("LoginProfile"))
        if profile:
            iam.create_login_profile(UserName=name, Password=profile["Password"],
                                     PasswordResetRequired=bool(profile.get("PasswordResetRequired")))

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        iam = ctx.client("iam")
        if "Path" in changed:
            iam.update_user(UserName=physical_id, NewPath=after.get("Path") or "/")
        if "PermissionsBoundary" in changed:
            if after.get("PermissionsBoundary"):
                iam.put_user_permissions_boundary(UserName=physical_id, PermissionsBoundary=after["PermissionsBoundary"])
            else:
                iam.delete_user_permissions_boundary(UserName=physical_id)
        if "Groups" in changed:
            _sync_groups(iam, physical_id, before.get("Groups") or [], after.get("Groups") or [])
        sync_policies(iam, USER, physical_id, before, after, changed)
        if "LoginProfile" in changed:
            _sync_login_profile(iam, physical_id, before.get("LoginProfile"), login_profile(after.get("LoginProfile")))
        if "Path" in changed:  # the ARN changed: write every tag again (moto forgets them; AWS keeps them)
            self.tag_api.sync(ctx, physical_id, [], after.get("Tags"))
        else:
            self.sync_tags(ctx, physical_id, before, after, changed)
        return {"Arn": iam.get_user(UserName=physical_id)["User"]["Arn"]}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Everything that blocks DeleteUser goes first: group memberships, policies, credentials, login profile."""
        iam = ctx.client("iam")
        with self.missing_ok():
            for group in _groups_for_user(iam, physical_id):
                _ignore_missing(iam.remove_user_from_group, UserName=physical_id, GroupName=group)
            clear_policies(iam, USER, physical_id)
            _delete_credentials(iam, physical_id)
            _ignore_missing(iam.delete_login_profile, UserName=physical_id)
            iam.delete_user(UserName=physical_id)


def _sync_login_profile(iam: Any, user_name: str, before: Any, after: dict[str, Any] | None) -> None:
    """Create, change or delete the console login profile. `before` is the digest the last apply stored
    (or nothing known): an unchanged profile costs no call, and the password is re-sent only when it
    changed (judged with the live PasswordResetRequired)."""
    if not after:
        _ignore_missing(iam.delete_login_profile, UserName=user_name)
        return
    if _same_digest(before, after):
        return
    live = absent(lambda: iam.get_login_profile(UserName=user_name)["LoginProfile"], NOT_FOUND)
    reset = bool(after.get("PasswordResetRequired"))
    if live is None:
        iam.create_login_profile(UserName=user_name, Password=after["Password"], PasswordResetRequired=reset)
        return
    as_it_was = login_profile({"Password": after["Password"], "PasswordResetRequired": live.get("PasswordResetRequired")})
    args: dict[str, Any] = {"UserName": user_name, "PasswordResetRequired": reset}
    if not _same_digest(before, as_it_was):
        args["Password"] = after["Password"]
    iam.update_login_profile(**args)


def _same_digest(stored: Any, value: Any) -> bool:
    """Whether the digest a state keeps for a sensitive value is this value's."""
    return isinstance(stored, str) and stored.startswith("sha256:") and stored == secrets.digest(value)


def _user_properties(user: dict[str, Any]) -> dict[str, Any]:
    return {"UserName": user["UserName"], "Path": user.get("Path", "/"),
            "PermissionsBoundary": (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            "Tags": user_tags(user.get("Tags"))}


def _groups_for_user(iam: Any, user_name: str) -> list[str]:
    return sorted(g["GroupName"] for g in USER.pages(iam, "list_groups_for_user", "Groups", user_name))


def _sync_groups(iam: Any, user_name: str, before: list[str], after: list[str]) -> None:
    for group in sorted(set(after) - set(before)):
        iam.add_user_to_group(UserName=user_name, GroupName=group)
    for group in sorted(set(before) - set(after)):
        _ignore_missing(iam.remove_user_from_group, UserName=user_name, GroupName=group)


def _delete_credentials(iam: Any, user_name: str) -> None:
    """Access keys, signing certificates, SSH keys and MFA devices (deactivated: the device itself may be shared)."""
    for list_op, result_key, id_field, remove_op in USER_CREDENTIALS:
        for item in USER.pages(iam, list_op, result_key, user_name):
            _ignore_missing(getattr(iam, remove_op), UserName=user_name, **{id_field: item[id_field]})


# --- AWS::IAM::Group ------------------------------------------------------------------------------

class Group(Handler):
    """AWS::IAM::Group with inline and managed policies (IAM groups take no tags)."""

    type_name = "AWS::IAM::Group"
    name_property = "GroupName"
    name_max_length = 128
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = {"Path": "/", "ManagedPolicyArns": [], "Policies": []}
    not_found_codes = NOT_FOUND
    already_exists_codes = EXISTS

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """The one group with the generated prefix (groups take no tags)."""
        return owned_by_name(self, ctx, props, listed_names(ctx, "list_groups", "Groups", "GroupName", props), None)

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        return _sorted_names(props, "ManagedPolicyArns", "Policies")

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return self.absent(lambda: self._described(ctx.client("iam"), physical_id, wanted))

    def _described(self, iam: Any, name: str, wanted: set[str]) -> Live:
        group = iam.get_group(GroupName=name)["Group"]
        props: dict[str, Any] = {"GroupName": group["GroupName"], "Path": group.get("Path", "/")}
        if "Policies" in wanted:
            props["Policies"] = inline_policies(iam, GROUP, name)
        if "ManagedPolicyArns" in wanted:
            props["ManagedPolicyArns"] = attached_arns(iam, GROUP, name)
        return Live(properties=self.trim(props, wanted), attributes={"Arn": group["Arn"]})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        iam, name = ctx.client("iam"), props["GroupName"]
        args = {"GroupName": name, **({"Path": props["Path"]} if props.get("Path") else {})}
        group = iam.create_group(**args)["Group"]
        add_policies(iam, GROUP, name, props)
        return name, {"Arn": group["Arn"]}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        iam = ctx.client("iam")
        if "Path" in changed:
            iam.update_group(GroupName=physical_id, NewPath=after.get("Path") or "/")
        sync_policies(iam, GROUP, physical_id, before, after, changed)
        return {"Arn": iam.get_group(GroupName=physical_id)["Group"]["Arn"]}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Members out and policies off first: IAM refuses to delete a group that has either."""
        iam = ctx.client("iam")
        with self.missing_ok():
            for user in GROUP.pages(iam, "get_{}", "Users", physical_id):
                _ignore_missing(iam.remove_user_from_group, GroupName=physical_id, UserName=user["UserName"])
            clear_policies(iam, GROUP, physical_id)
            iam.delete_group(GroupName=physical_id)


# --- AWS::IAM::InstanceProfile ----------------------------------------------------------------------

class InstanceProfile(Handler):
    """AWS::IAM::InstanceProfile holding one role (IAM's limit); Roles changes swap the role in place."""

    type_name = "AWS::IAM::InstanceProfile"
    name_property = "InstanceProfileName"
    name_max_length = 128
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = {"Path": "/"}
    not_found_codes = NOT_FOUND
    already_exists_codes = EXISTS

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """The one instance profile with the generated prefix (deployer does not tag them)."""
        return owned_by_name(self, ctx, props, listed_names(ctx, "list_instance_profiles", "InstanceProfiles",
                                                            "InstanceProfileName", props), None)

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        profile = self.absent(lambda: ctx.client("iam").get_instance_profile(
            InstanceProfileName=physical_id)["InstanceProfile"])
        if profile is None:
            return None
        props = {"InstanceProfileName": profile["InstanceProfileName"], "Path": profile.get("Path", "/"),
                 "Roles": sorted(r["RoleName"] for r in profile.get("Roles", []))}
        return Live(properties=self.trim(props, wanted), attributes={"Arn": profile["Arn"]})

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        return _sorted_names(props, "Roles")

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        iam, name = ctx.client("iam"), props["InstanceProfileName"]
        args = {"InstanceProfileName": name, **({"Path": props["Path"]} if props.get("Path") else {})}
        profile = iam.create_instance_profile(**args)["InstanceProfile"]
        once_visible(lambda: _swap_roles(iam, name, [], props.get("Roles") or []),
                     lambda: iam.get_waiter("instance_profile_exists").wait(InstanceProfileName=name))
        return name, {"Arn": profile["Arn"]}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        iam = ctx.client("iam")
        if "Roles" in changed:
            _swap_roles(iam, physical_id, before.get("Roles") or [], after.get("Roles") or [])
        return {"Arn": iam.get_instance_profile(InstanceProfileName=physical_id)["InstanceProfile"]["Arn"]}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Roles out first: IAM refuses to delete a profile that still holds one."""
        iam = ctx.client("iam")
        with self.missing_ok():
            profile = iam.get_instance_profile(InstanceProfileName=physical_id)["InstanceProfile"]
            _swap_roles(iam, physical_id, [r["RoleName"] for r in profile.get("Roles", [])], [])
            iam.delete_instance_profile(InstanceProfileName=physical_id)


def _swap_roles(iam: Any, profile: str, before: list[str], after: list[str]) -> None:
    """Remove roles no longer wanted before adding new ones: a profile holds only one."""
    for role in sorted(set(before) - set(after)):
        _ignore_missing(iam.remove_role_from_instance_profile, InstanceProfileName=profile, RoleName=role)
    for role in sorted(set(after) - set(before)):
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
