"""Values for ${...} references: pseudo parameters, SSM parameters, secrets and resource attributes."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

from deployer import secrets
from deployer.aws import Aws, partition_of, url_suffix_of
from deployer.errors import DeployerError
from deployer.spec.refs import UNKNOWN, Ref


class Resolver:
    """Resolves references for one stack. `resource_value(name, attr)` supplies resource values
    (UNKNOWN when not known yet); SSM and secret values are read once and cached."""

    def __init__(self, aws: Aws, stack_name: str, default_region: str,
                 resource_value: Callable[[str, str | None], Any]):
        self.aws = aws
        self.stack_name = stack_name
        self.default_region = default_region
        self.resource_value = resource_value
        self._cache: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self.sensitive_refs_seen = False

    def prefetch(self, refs: list[tuple[Ref, str]]) -> None:
        """Read every SSM parameter, secret and account id these (reference, region) pairs need, in
        parallel, so that resolving them later (while deciding a plan) makes no call."""
        from concurrent.futures import ThreadPoolExecutor

        jobs = {(r.kind, r.target, r.key, region) for r, region in refs if r.kind in ("ssm", "secret")}
        calls = [lambda job=job: self.value(Ref(job[0], job[1], key=job[2]), job[3]) for job in jobs]
        accounts = [region for r, region in refs if r.kind == "pseudo" and r.target == "AWS::AccountId"]
        if accounts:
            calls.append(lambda: self.aws.account_id(accounts[0]))
        if not calls:
            return
        with ThreadPoolExecutor(max_workers=min(8, len(calls))) as pool:
            for f in [pool.submit(c) for c in calls]:
                try:
                    f.result()
                except DeployerError:
                    pass  # a missing parameter is reported where it is used, with its resource

    def resolver_for(self, region: str) -> Callable[[Ref], Any]:
        return lambda ref: self.value(ref, region)

    def value(self, ref: Ref, region: str) -> Any:
        if ref.kind == "resource":
            got = self.resource_value(ref.target, ref.attr)
            # an attribute the state holds masked (a sensitive value, e.g. a secret AWS answered once, to
            # an earlier run) is not known to this run: unknown, never the mask written in its place
            return UNKNOWN if ref.attr and got == secrets.MASK else got
        if ref.kind == "pseudo":
            return {
                "AWS::Region": lambda: region,
                "AWS::AccountId": lambda: self.aws.account_id(region),
                "AWS::Partition": lambda: partition_of(region),
                "AWS::StackName": lambda: self.stack_name,
                "AWS::URLSuffix": lambda: url_suffix_of(region),
                "AWS::StackId": lambda: stack_id(partition_of(region), region, self.aws.account_id(region),
                                                 self.stack_name),
                "AWS::NotificationARNs": lambda: [],
            }[ref.target]()
        if ref.kind == "var":  # replaced at load time; one left over is a bug, not a user error
            raise DeployerError(f"{ref}: variable references are replaced when the stack is loaded")
        key = (ref.kind, ref.target, ref.key, region)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        reader = {"ssm": self._ssm, "secret": self._secret, "azs": self._zones}[ref.kind]
        value = reader(ref, region)
        with self._lock:
            self._cache[key] = value
        return value

    def _ssm(self, ref: Ref, region: str) -> Any:
        client = self.aws.client("ssm", region)
        try:
            param = client.get_parameter(Name=ref.target, WithDecryption=True)["Parameter"]
        except client.exceptions.ParameterNotFound:
            raise DeployerError(f"${{ssm:{ref.target}}}: no such SSM parameter in {region}") from None
        if param.get("Type") == "SecureString":
            secrets.register(param["Value"])
        return param["Value"]

    def _zones(self, ref: Ref, _region: str) -> list[str]:
        """Fn::GetAZs: the available zones of a region, by name (one call per region, cached)."""
        client = self.aws.client("ec2", ref.target)
        zones = client.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])
        return sorted(z["ZoneName"] for z in zones["AvailabilityZones"])

    def _secret(self, ref: Ref, region: str) -> Any:
        client = self.aws.client("secretsmanager", region)
        try:
            value = client.get_secret_value(SecretId=ref.target)
        except client.exceptions.ResourceNotFoundException:
            raise DeployerError(f"${{secret:{ref.target}}}: no such secret in {region}") from None
        text = value.get("SecretString")
        if text is None:
            raise DeployerError(f"${{secret:{ref.target}}}: the secret holds binary data, not a string")
        secrets.register(text)
        if ref.key:
            try:
                data = json.loads(text)
                result = data[ref.key]
            except (ValueError, KeyError, TypeError):
                raise DeployerError(f"${{secret:{ref.target}:{ref.key}}}: the secret is not JSON with key "
                                    f"'{ref.key}'") from None
            secrets.register(result if isinstance(result, str) else json.dumps(result))
            return result
        return text


def stack_id(partition: str, region: str, account: str, stack_name: str) -> str:
    """AWS::StackId: a CloudFormation-shaped stack ARN whose last part is a UUID derived from the
    account, region and stack name, so it is the same on every run (deployer makes no CloudFormation stack)."""
    tail = uuid.uuid5(uuid.NAMESPACE_URL, f"deployer:{account}:{region}:{stack_name}")
    return f"arn:{partition}:cloudformation:{region}:{account}:stack/{stack_name}/{tail}"


def refers_to_secret(value: Any) -> bool:
    """Whether a raw (unresolved) value contains a ${secret:...} reference or an Fn::ResolveSecret."""
    from deployer.spec.functions import RESOLVE_SECRET, contains_function
    from deployer.spec.refs import walk_refs

    return (any(isinstance(r, Ref) and r.kind == "secret" for _, r in walk_refs(value))
            or contains_function(value, RESOLVE_SECRET))


def outputs(stack_outputs: dict[str, Any], resolver: Resolver, region: str, skip_unavailable: bool = False
            ) -> dict[str, Any]:
    """The stack's outputs resolved (unknown parts stay unknown); sensitive ones, by declaration or
    because they hold a secret, as (sensitive). skip_unavailable drops outputs whose references
    cannot be resolved (after a partial apply)."""
    from deployer.spec.refs import contains_unknown, substitute

    out: dict[str, Any] = {}
    for name, spec in stack_outputs.items():
        value = spec.get("value") if isinstance(spec, dict) else spec
        try:
            resolved = substitute(value, resolver.resolver_for(region))
        except DeployerError:
            if skip_unavailable:
                continue
            raise
        masked = _refers_to_masked(value, resolver)
        sensitive = (isinstance(spec, dict) and spec.get("sensitive")) or refers_to_secret(value) or masked or \
            secrets.is_sensitive(json.dumps(resolved, default=str))
        out[name] = secrets.MASK if sensitive and (masked or not contains_unknown(resolved)) else resolved
    return out


def _refers_to_masked(value: Any, resolver: Resolver) -> bool:
    """Whether a value refers to a resource attribute recorded masked (sensitive, unknown to this run): an
    output of it stays (sensitive), as the run that knew it recorded it."""
    from deployer.spec.refs import walk_refs

    for _, ref in walk_refs(value):
        if isinstance(ref, Ref) and ref.kind == "resource" and ref.attr:
            try:
                if resolver.resource_value(ref.target, ref.attr) == secrets.MASK:
                    return True
            except DeployerError:
                continue
    return False


__all__ = ["Resolver", "UNKNOWN", "outputs", "refers_to_secret"]
