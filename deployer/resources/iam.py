"""IAM handlers: AWS::IAM::Role, Policy, ManagedPolicy, User, Group and InstanceProfile.

A role's physical id is its name. Inline policies (Policies) and attached managed policies
(ManagedPolicyArns) cost extra calls to read, so they are read only when the spec or the last
apply names them. Both are sets to AWS: they are kept sorted (by name, by ARN) on the read side and
in desired_view, so their order in a spec never shows as a change.

Ownership tags (deployer:*) are added at create and never removed. An update whose before and
after are identical is a request to re-assert them (what Handler.tag_for_ownership sends); any
other update adds them only when it calls TagRole anyway. Users follow the same rule.

Roles, users and groups share one API shape (put_role_policy / put_user_policy / put_group_policy,
RoleName / UserName / GroupName...); `Principal` names the three kinds so that inline-policy and
attachment helpers are written once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer.aws import error_code
from deployer.errors import AwsError, DeployerError
from deployer.normalize import canon, parse_policy
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    is_not_found,
    map_to_tags,
    owner_of,
    tag_changes,
    user_tags,
    with_ownership,
)


class Role(Handler):
    """AWS::IAM::Role with inline policies, managed policy attachments and a permissions boundary."""

    type_name = "AWS::IAM::Role"
    name_property = "RoleName"
    name_max_length = 64
    defaults: ClassVar[dict[str, Any]] = {
        "Description": "", "MaxSessionDuration": 3600, "Path": "/", "Policies": [], "ManagedPolicyArns": [],
        "PermissionsBoundary": None, "Tags": [],
    }

    def desired_view(self, props: dict[str, Any], ctx: Context | None = None) -> dict[str, Any]:
        """The spec with its set-like lists in read order (policies by name, ARNs sorted)."""
        view = dict(props)
        if isinstance(props.get("ManagedPolicyArns"), list):
            view["ManagedPolicyArns"] = sorted(props["ManagedPolicyArns"], key=str)
        if isinstance(props.get("Policies"), list):
            view["Policies"] = sorted(props["Policies"], key=_policy_name)
        return view

    # --- read -----------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        iam = ctx.client("iam")
        try:
            role = iam.get_role(RoleName=physical_id)["Role"]
            props = _role_properties(role)
            if "Policies" in wanted:
                props["Policies"] = _inline_policies(iam, physical_id)
            if "ManagedPolicyArns" in wanted:
                props["ManagedPolicyArns"] = _attached_policies(iam, physical_id)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        return Live(properties=self.trim(props, wanted), attributes=_attributes(role),
                    owner=owner_of(role.get("Tags")))

    # --- create ---------------------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        iam = ctx.client("iam")
        name = props["RoleName"]
        role = iam.create_role(**_create_args(ctx, props))["Role"]
        iam.get_waiter("role_exists").wait(RoleName=name)
        for policy in props.get("Policies") or []:
            _put_inline(iam, name, policy)
        for arn in props.get("ManagedPolicyArns") or []:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return name, _attributes(role)

    # --- update ---------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        iam = ctx.client("iam")
        if self.differs(before, after, "AssumeRolePolicyDocument"):
            iam.update_assume_role_policy(RoleName=physical_id,
                                          PolicyDocument=_policy_text(after["AssumeRolePolicyDocument"]))
        self._update_settings(iam, physical_id, before, after)
        self._update_boundary(iam, physical_id, before, after)
        if self.differs(before, after, "Policies"):
            _sync_inline(iam, physical_id, before.get("Policies") or [], after.get("Policies") or [])
        if self.differs(before, after, "ManagedPolicyArns"):
            _sync_managed(iam, physical_id, before.get("ManagedPolicyArns") or [],
                          after.get("ManagedPolicyArns") or [])
        self._update_tags(ctx, iam, physical_id, before, after)
        return _attributes(iam.get_role(RoleName=physical_id)["Role"])

    def _update_settings(self, iam: Any, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Description and MaxSessionDuration share one UpdateRole call; a removed one goes back to default.
        Both are always sent together: an UpdateRole without one resets it in some implementations (moto)."""
        keys = ("Description", "MaxSessionDuration")
        if any(self.differs(before, after, k) for k in keys):
            values = {k: after.get(k, self.defaults[k]) for k in keys}
            values["MaxSessionDuration"] = _whole(values["MaxSessionDuration"])
            iam.update_role(RoleName=name, **values)

    def _update_boundary(self, iam: Any, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        if not self.differs(before, after, "PermissionsBoundary"):
            return
        if after.get("PermissionsBoundary"):
            iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=after["PermissionsBoundary"])
        else:
            iam.delete_role_permissions_boundary(RoleName=name)

    def _update_tags(self, ctx: Context, iam: Any, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """User tag changes, with the ownership tags riding along (see the module docstring)."""
        if not self.differs(before, after, "Tags") and before != after:
            return
        to_set, to_remove = tag_changes(before.get("Tags"), with_ownership(ctx, after.get("Tags")))
        if to_remove:
            iam.untag_role(RoleName=name, TagKeys=to_remove)
        if to_set:
            iam.tag_role(RoleName=name, Tags=map_to_tags(to_set))

    # --- delete ---------------------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Everything that blocks DeleteRole goes first: attachments, inline policies, instance profiles."""
        iam = ctx.client("iam")
        try:
            for arn in _attached_policies(iam, physical_id):
                _ignore_missing(iam.detach_role_policy, RoleName=physical_id, PolicyArn=arn)
            for policy in _policy_names(iam, physical_id):
                _ignore_missing(iam.delete_role_policy, RoleName=physical_id, PolicyName=policy)
            for profile in _instance_profiles(iam, physical_id):
                _ignore_missing(iam.remove_role_from_instance_profile, RoleName=physical_id,
                                InstanceProfileName=profile)
            iam.delete_role(RoleName=physical_id)
        except ClientError as exc:
            if not is_not_found(exc):
                raise


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


def _paginate(iam: Any, operation: str, result_key: str, role_name: str) -> list[Any]:
    return ROLE.pages(iam, operation, result_key, role_name)


def _policy_names(iam: Any, role_name: str) -> list[str]:
    return inline_names(iam, ROLE, role_name)


def _inline_policies(iam: Any, role_name: str) -> list[dict[str, Any]]:
    return inline_policies(iam, ROLE, role_name)


def _attached_policies(iam: Any, role_name: str) -> list[str]:
    return attached_arns(iam, ROLE, role_name)


def _instance_profiles(iam: Any, role_name: str) -> list[str]:
    profiles = _paginate(iam, "list_instance_profiles_for_role", "InstanceProfiles", role_name)
    return [p["InstanceProfileName"] for p in profiles]


def _put_inline(iam: Any, role_name: str, policy: dict[str, Any]) -> None:
    put_inline(iam, ROLE, role_name, policy)


def _sync_inline(iam: Any, role_name: str, before: list[Any], after: list[Any]) -> None:
    sync_inline(iam, ROLE, role_name, before, after)


def _sync_managed(iam: Any, role_name: str, before: list[str], after: list[str]) -> None:
    sync_managed(iam, ROLE, role_name, before, after)


def _ignore_missing(call: Any, **kwargs: Any) -> None:
    """Removing something that is already gone is what we wanted."""
    try:
        call(**kwargs)
    except ClientError as exc:
        if not is_not_found(exc):
            raise

