"""Fault injection on botocore's event system: fail the Nth mutating call (or every call of an
operation) with a chosen AWS error code, add latency, or throttle a fraction of calls.

Failing uses `before-call` (short-circuits, never retried: a hard failure). Throttling uses
`before-send` with a real error response body, so botocore parses and retries it like AWS's own.
"""

from __future__ import annotations

import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from deployer import aws as aws_mod
from deployer.aws import is_mutating


@dataclass
class Injector:
    fail_nth_mutation: int | None = None  # 1-based index among mutating calls
    fail_operation: str | None = None  # e.g. "CreateFunction": fail every call of it
    error_code: str = "InternalFailure"
    latency: float = 0.0
    throttle_fraction: float = 0.0
    seed: int = 0
    mutations: list[str] = field(default_factory=list)
    throttled: int = 0
    failed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def before_call(self, model=None, **_):
        if model is None:
            return None
        op = model.name
        if self.latency:
            time.sleep(self.latency)
        fail = False
        with self._lock:
            if is_mutating(op):
                self.mutations.append(f"{model.service_model.service_name}.{op}")
                if self.fail_nth_mutation is not None and len(self.mutations) == self.fail_nth_mutation:
                    fail = True
            if self.fail_operation == op:
                fail = True
            if fail:
                self.failed.append(op)
        if fail:
            raise ClientError({"Error": {"Code": self.error_code, "Message": f"injected failure in {op}"}}, op)
        return None

    def before_send(self, request=None, **_):
        if not self.throttle_fraction or request is None:
            return None
        with self._lock:
            hit = self._rng.random() < self.throttle_fraction
            if hit:
                self.throttled += 1
        if not hit:
            return None
        return _throttle_response(request)


def _throttle_response(request) -> AWSResponse:
    """A 400 ThrottlingException in the protocol the request speaks (JSON, query/XML or REST-XML)."""
    headers = request.headers
    target = headers.get("X-Amz-Target")
    content_type = (headers.get("Content-Type") or b"")
    if isinstance(content_type, bytes):
        content_type = content_type.decode()
    if target or "json" in content_type:
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded (injected)"}'
        hdrs = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": "ThrottlingException"}
    else:
        body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                b"<Message>Rate exceeded (injected)</Message></Error><RequestId>1</RequestId></ErrorResponse>")
        hdrs = {"Content-Type": "text/xml"}
    return AWSResponse(request.url, 400, hdrs, _Raw(body))


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_a, **_k):
        return self._body


@contextmanager
def injected(injector: Injector):
    """Register the injector on every boto3 client deployer creates inside the block."""
    hooks = [("before-call.*.*", injector.before_call), ("before-send.*.*", injector.before_send)]
    aws_mod.GLOBAL_HOOKS.extend(hooks)
    try:
        yield injector
    finally:
        for h in hooks:
            aws_mod.GLOBAL_HOOKS.remove(h)
