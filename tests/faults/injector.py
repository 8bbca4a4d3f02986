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
    lose_answer_fraction: float = 0.0  # of mutating calls: sent and done by the server, answer replaced by a 500
    server_error_fraction: float = 0.0  # answered by an HTTP 500 without reaching the server
    seed: int = 0
    mutations: list[str] = field(default_factory=list)
    throttled: int = 0
    lost: int = 0
    server_errors: int = 0
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

    def before_send(self, request=None, event_name: str = "", **_):
        if request is None:
            return None
        parts = event_name.split(".")
        service, op = (parts[1], parts[-1]) if len(parts) >= 3 else ("", "")
        with self._lock:
            roll = self._rng.random()
            throttle = roll < self.throttle_fraction
            error = not throttle and roll < self.throttle_fraction + self.server_error_fraction
            lose = not throttle and not error and is_mutating(op) and self._rng.random() < self.lose_answer_fraction
            self.throttled += throttle
            self.server_errors += error
            self.lost += lose
        if throttle:
            return _throttle(request, service)
        if error:
            return _error_response(request, service, 500, "InternalError")
        if lose:
            _send(request)  # the server does the work, the answer never arrives
            return _error_response(request, service, 500, "InternalError")
        return None


_PROTOCOLS: dict[str, str] = {}


def _protocol(service: str) -> str:
    """The protocol of a service named as botocore's events name it (its hyphenized service id, which is
    not always the client name: resource-groups-tagging-api is resourcegroupstaggingapi)."""
    if service not in _PROTOCOLS:
        import botocore.session

        session = botocore.session.get_session()
        available = session.get_available_services()
        name = next((n for n in (service, service.replace("-", "")) if n in available), None)
        if name is None:
            name = next(n for n in available if session.get_service_model(n).service_id.hyphenize() == service)
        model = session.get_service_model(name)
        _PROTOCOLS[service] = getattr(model, "resolved_protocol", None) or model.protocol
    return _PROTOCOLS[service]


def _error_response(request, service: str, status: int, code: str) -> AWSResponse:
    """An error answer in the protocol the service speaks, so botocore parses it as AWS's own."""
    protocol = _protocol(service)
    message = b"injected by the fault harness"
    if protocol in ("json", "rest-json"):
        body = b'{"__type": "' + code.encode() + b'", "message": "' + message + b'"}'
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    elif protocol == "ec2":
        body = (b"<Response><Errors><Error><Code>" + code.encode() + b"</Code><Message>" + message
                + b"</Message></Error></Errors><RequestID>1</RequestID></Response>")
        headers = {"Content-Type": "text/xml"}
    elif protocol == "rest-xml":
        body = b"<Error><Code>" + code.encode() + b"</Code><Message>" + message + b"</Message></Error>"
        headers = {"Content-Type": "application/xml"}
    else:  # query
        body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>" + code.encode() + b"</Code><Message>" + message
                + b"</Message></Error><RequestId>1</RequestId></ErrorResponse>")
        headers = {"Content-Type": "text/xml"}
    return AWSResponse(request.url, status, headers, _Raw(body))


def _throttle(request, service: str) -> AWSResponse:
    protocol = _protocol(service)
    if protocol == "ec2":
        return _error_response(request, service, 503, "RequestLimitExceeded")
    if protocol == "rest-xml":
        return _error_response(request, service, 503, "SlowDown")
    if protocol == "query":
        return _error_response(request, service, 400, "Throttling")
    return _error_response(request, service, 400, "ThrottlingException")


_POOL = None


def _send(request) -> None:
    """Send a prepared botocore request for real, discarding the answer."""
    global _POOL
    import urllib3

    if _POOL is None:
        _POOL = urllib3.PoolManager()
    body = request.body
    if hasattr(body, "read"):
        pos = body.tell()
        data = body.read()
        body.seek(pos)
        body = data
    _POOL.request(request.method, request.url, body=body, headers=dict(request.headers), retries=False)


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
