"""AWS access: one boto3 client per (service, region) shared across threads, botocore's retry
conditions and backoff with one rule added (below), an API call log (for --debug, tests and
benchmarks), and the account id from one STS call.

The rule: a call that changes something and is not safe to repeat (it creates, adds, attaches...)
is never repeated by botocore when its outcome is unknown — a 5xx answer or a connection lost
after the request went out may mean the server did the work and only the answer was lost, and a
blind repeat would create a second resource. Such a call fails instead, and the engine reads
before it tries again (deployer/apply.py). Throttling answers and connections refused before the
request was sent are retried as usual: the server did nothing.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config
from botocore.retries import standard

from deployer.regions import partition_of, url_suffix_of  # noqa: F401 - re-exported: callers import them from here

MUTATING_PREFIXES = ("Create", "Put", "Delete", "Update", "Modify", "Attach", "Detach", "Add", "Remove", "Tag",
                     "Untag", "Set", "Authorize", "Revoke", "Run", "Terminate", "Start", "Stop", "Associate",
                     "Disassociate", "Enable", "Disable", "Publish", "Subscribe", "Unsubscribe", "Schedule",
                     "Cancel", "Replace", "Allocate", "Release", "Import", "Upload", "Restore", "Reboot",
                     "Generate", "Rotate", "Change", "Register", "Deregister", "Invoke", "Send", "Purge",
                     "Reset", "Apply", "Rename", "Increase", "Decrease", "Upsert")
# Mutations whose repeat converges on the same end state (or answers "not found", which a delete
# takes as done): botocore may repeat them after an unknown outcome.
REPEATABLE_PREFIXES = ("Put", "Delete", "Update", "Modify", "Tag", "Untag", "Set", "Enable", "Disable", "Replace",
                       "Terminate", "Start", "Stop", "Reset", "Upsert", "Change")
SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DEFAULT_ATTEMPTS = 8
# errors that prove the request never reached a server (safe to repeat any call)
_NOT_SENT = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)


def is_mutating(operation: str) -> bool:
    return operation.startswith(MUTATING_PREFIXES)


def is_repeatable(operation: str) -> bool:
    """Whether repeating this call after an unknown outcome is harmless."""
    return not is_mutating(operation) or operation.startswith(REPEATABLE_PREFIXES)


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


class RetryPolicy:
    """botocore's standard retry conditions and exponential backoff, per client, without the retry
    quota (which stops retrying a client after a few dozen failures, exactly when an unreliable
    network needs retries most), and without repeating a non-repeatable call of unknown outcome."""

    def __init__(self, service_event_name: str, max_attempts: int):
        self._adapter = standard.RetryEventAdapter()
        self._conditions = standard.StandardRetryConditions(max_attempts=max_attempts)
        self._throttled = standard.OrRetryChecker([standard.ThrottledRetryableChecker(),
                                                   standard.ThrottlingStatusCodeChecker()])
        self._backoff = standard.ExponentialBackoff(
            service_name=service_event_name,
            throttling_detector=standard.ThrottlingErrorDetector(self._adapter))
        self.scale = float(os.environ.get("DEPLOYER_RETRY_DELAY_SCALE", "1"))

    def needs_retry(self, **kwargs: Any) -> float | None:
        """botocore's needs-retry event: the delay before the next attempt, or None for no retry."""
        context = self._adapter.create_retry_context(**kwargs)
        if not self._conditions.is_retryable(context):
            return None
        operation = kwargs["operation"].name
        if not is_repeatable(operation) and not self._throttled.is_retryable(context) \
                and not isinstance(context.caught_exception, _NOT_SENT):
            return None  # the outcome is unknown: the engine reads before it tries again
        return self._backoff.delay_amount(context) * self.scale


def install_retry_policy(client: Any, max_attempts: int) -> None:
    """Replace the client's standard retry handler with RetryPolicy."""
    name = client.meta.service_model.service_id.hyphenize()
    client.meta.events.unregister(f"needs-retry.{name}", unique_id=f"retry-config-{name}")
    client.meta.events.register(f"needs-retry.{name}", RetryPolicy(name, max_attempts).needs_retry,
                                unique_id=f"deployer-retry-{name}")


def outcome_unknown(exc: BaseException | None) -> bool:
    """Whether a failed call may still have been done by the server (a 5xx answer, or a connection
    lost after the request was sent), anywhere in the exception's chain of causes."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, botocore.exceptions.ClientError):
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            if status >= 500 and exc.response.get("Error", {}).get("Code") not in ("SlowDown",):
                return True
        elif isinstance(exc, botocore.exceptions.HTTPClientError | botocore.exceptions.ConnectionError) \
                and not isinstance(exc, _NOT_SENT):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


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
        self.max_attempts = max_attempts or int(os.environ.get("DEPLOYER_MAX_ATTEMPTS", str(DEFAULT_ATTEMPTS)))
        self.config = Config(retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                             connect_timeout=10, read_timeout=60, max_pool_connections=64)
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
                install_retry_policy(client, self.max_attempts)
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


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def describe_exception(exc: BaseException) -> str:
    """One line for any exception that reaches the CLI, botocore's especially."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        op = getattr(exc, "operation_name", "")
        message = " ".join(str(err.get("Message", "") or str(exc)).split())
        if message.lstrip().startswith("<"):  # an HTML or XML page instead of an AWS error (an emulator gap)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = f"the endpoint answered HTTP {status} with a page instead of an AWS error " \
                      "(the operation is probably not implemented there)"
        return f"{err.get('Code', 'Error')}: {message}" + (f" (in {op})" if op else "")
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
