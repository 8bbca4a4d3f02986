"""AWS access: one boto3 client per (service, region) shared across threads, standard retries,
an API call log (for --debug, tests and benchmarks), and the account id from one STS call."""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

MUTATING_PREFIXES = ("Create", "Put", "Delete", "Update", "Modify", "Attach", "Detach", "Add", "Remove", "Tag",
                     "Untag", "Set", "Authorize", "Revoke", "Run", "Terminate", "Start", "Stop", "Associate",
                     "Disassociate", "Enable", "Disable", "Publish", "Subscribe", "Unsubscribe", "Schedule",
                     "Cancel", "Replace", "Allocate", "Release", "Import", "Upload", "Restore", "Reboot",
                     "Generate", "Rotate", "Change", "Register", "Deregister", "Invoke", "Send", "Purge",
                     "Reset", "Apply", "Rename", "Increase", "Decrease", "Upsert")
SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def is_mutating(operation: str) -> bool:
    return operation.startswith(MUTATING_PREFIXES)


class CallLog:
    """Thread-safe record of every API call made, by service and operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            self.calls.append((service, operation))

    def counts(self) -> Counter:
        with self._lock:
            return Counter(f"{s}.{o}" for s, o in self.calls)

    def mutating(self) -> list[str]:
        with self._lock:
            return [f"{s}.{o}" for s, o in self.calls if is_mutating(o)]


# (event, handler) pairs registered on every client created from now on: the fault-injection
# harness (tests/faults) uses this seam to fail, delay or throttle chosen calls.
GLOBAL_HOOKS: list[tuple[str, Any]] = []

_SESSIONS: dict[str | None, boto3.session.Session] = {}
_SESSIONS_LOCK = threading.Lock()


def _session(profile: str | None) -> boto3.session.Session:
    """One boto3 session per profile for the process, so service models are parsed once."""
    with _SESSIONS_LOCK:
        if profile not in _SESSIONS:
            _SESSIONS[profile] = boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
        return _SESSIONS[profile]


class Aws:
    """Clients for one command run. boto3 sessions are not thread-safe, clients are: create under a lock."""

    def __init__(self, profile: str | None = None, endpoint_url: str | None = None, sandbox: bool = False,
                 max_attempts: int | None = None):
        self.profile = profile
        self.endpoint_url = endpoint_url
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self._account_id: str | None = None
        self.log = CallLog()
        self._session = _session(profile)
        attempts = max_attempts or int(os.environ.get("DEPLOYER_MAX_ATTEMPTS", "8"))
        self.config = Config(retries={"mode": "standard", "total_max_attempts": attempts},
                             connect_timeout=10, read_timeout=60, max_pool_connections=32)
        self.hooks: list[tuple[str, Any]] = []  # (event, handler) registered on every new client (fault injection)

    def client(self, service: str, region: str):
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                kwargs: dict[str, Any] = {"region_name": region, "config": self.config}
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                if self.sandbox and self._session.get_credentials() is None:
                    kwargs.update(SANDBOX_CREDENTIALS)
                client = self._session.client(service, **kwargs)
                client.meta.events.register("before-call.*.*", self._count)
                for event, handler in [*GLOBAL_HOOKS, *self.hooks]:
                    client.meta.events.register(event, handler)
                self._clients[key] = client
        return client

    def _count(self, model=None, **_: Any) -> None:
        if model is not None:
            self.log.record(model.service_model.service_name, model.name)

    def account_id(self, region: str) -> str:
        if self._account_id is None:
            self._account_id = self.client("sts", region).get_caller_identity()["Account"]
        return self._account_id


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def url_suffix_of(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def describe_exception(exc: BaseException) -> str:
    """One line for any exception that reaches the CLI, botocore's especially."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        op = getattr(exc, "operation_name", "")
        return f"{err.get('Code', 'Error')}: {err.get('Message', str(exc))}" + (f" (in {op})" if op else "")
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return ("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "or use --sandbox")
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return f"cannot reach AWS endpoint: {exc}"
    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        return str(exc)
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
