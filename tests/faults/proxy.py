"""A loopback HTTP proxy in front of the emulator, for faults and timings that live on the wire.

Pointing AWS_ENDPOINT_URL at the proxy makes every process (deployer subprocesses included) reach
the moto server through it, without any hook inside botocore. That is what two kinds of test need:

- lost answers: the request reaches the server and does its work, then the answer is thrown away
  and the client gets a 503 in its protocol's error shape, so botocore retries as it would against
  AWS. (`tests/faults/injector.py` does this from inside one process; the proxy also covers
  subprocesses and the real connection handling.)
- benchmarks: a fixed latency per request, like a real AWS round trip, and a count of requests
  per operation.

Which answers are lost is decided per request from a hash of (seed, method, path, query, body,
how many times this same request was seen before), never from a random generator consumed in
arrival order: with many client threads the arrival order changes from run to run, the requests do
not, so the same seed loses the same answers. Requests to `/moto-api/` (emulator control) are
never delayed, dropped or counted.

Operation names: the `X-Amz-Target` suffix for JSON protocols ("CreateQueue"), the `Action`
parameter for query and EC2 protocols ("CreateRole", "RunInstances"). REST protocols (S3, Lambda,
API Gateway, ...) carry no operation name on the wire, so their label is
"<SERVICE> <METHOD> <path>[?<query parameter names, sorted, without values>]", e.g.
"S3 PUT /bucket?tagging" or "LAMBDA GET /2015-03-31/functions/fn" — concrete paths, so sum over a
prefix to count a kind of call.

Only loopback addresses are ever listened on or connected to: this is test infrastructure, and a
typo must not send signed requests anywhere else.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import ipaddress
import json
import re
import signal
import socket
import socketserver
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from deployer.aws import is_mutating

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
                        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"})
REST_MUTATING_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})
REST_XML_SERVICES = frozenset({"s3", "route53", "cloudfront"})  # signing names; s3control signs as s3
CONTROL_PREFIX = "/moto-api/"
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")


@dataclass(frozen=True)
class RequestInfo:
    """One request as the proxy saw it. `headers` has lower-case names (repeated headers joined by
    ", "); `seen` is how many times this same request (method, path, query, body) came before, so a
    `drop_only` predicate can lose only first attempts and let botocore's retry through."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    operation: str
    service: str
    protocol: str  # json | query | ec2 | rest-xml | rest-json
    mutating: bool
    seen: int = 0

    @property
    def control(self) -> bool:
        """A call to the emulator's own API (reset, ...), not an AWS operation."""
        return self.path.startswith(CONTROL_PREFIX)


@dataclass
class ProxyStats:
    """Counts since start or the last reset(); emulator control calls are not counted."""

    total: int = 0
    dropped: int = 0
    upstream_errors: int = 0  # answered 502/504 because the server could not be reached in time
    operations: Counter = field(default_factory=Counter)  # operation name or REST label -> requests
    services: Counter = field(default_factory=Counter)  # signing name -> requests
    dropped_requests: list[RequestInfo] = field(default_factory=list)

    @property
    def dropped_operations(self) -> list[str]:
        return [r.operation for r in self.dropped_requests]


def request_info(method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes,
                 seen: int = 0) -> RequestInfo:
    """Classify a request: its service (the credential scope of its signature), protocol and operation."""
    path, _, query = target.partition("?")
    lower: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        lower[key] = f"{lower[key]}, {value}" if key in lower else value
    service = _service(lower.get("authorization", ""), query)
    amz_target = lower.get("x-amz-target")
    action = _action(query, lower.get("content-type", ""), body)
    if amz_target:
        protocol, operation = "json", amz_target.rsplit(".", 1)[-1]
    elif action:
        protocol, operation = ("ec2" if service == "ec2" else "query"), action
    else:
        protocol = "rest-xml" if service in REST_XML_SERVICES else "rest-json"
        operation = _rest_label(service, method, path, query)
    mutating = is_mutating(operation) if protocol in ("json", "query", "ec2") else method in REST_MUTATING_METHODS
    return RequestInfo(method, path, query, lower, body, operation, service, protocol, mutating, seen)


def _service(authorization: str, query: str) -> str:
    match = _SCOPE.search(authorization)
    if match:
        return match.group(1)
    credential = parse_qs(query).get("X-Amz-Credential", [""])[0].split("/")  # a presigned URL
    return credential[3] if len(credential) == 5 else ""


def _action(query: str, content_type: str, body: bytes) -> str:
    found = parse_qs(query).get("Action")
    if not found and content_type.startswith("application/x-www-form-urlencoded"):
        found = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return found[0] if found else ""


def _rest_label(service: str, method: str, path: str, query: str) -> str:
    names = sorted({name for name, _ in parse_qsl(query, keep_blank_values=True)})
    label = f"{(service or 'unsigned').upper()} {method} {unquote(path)}"
    return label + ("?" + "&".join(names) if names else "")


def error_answer(info: RequestInfo, status: int, code: str, message: str) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of an error in the request's protocol, in the shape botocore parses as AWS's own
    (so a 503 ServiceUnavailable is retried by the standard and adaptive retry modes)."""
    request_id = f"proxy-{status}-{hashlib.sha1(info.body + info.path.encode()).hexdigest()[:16]}"
    headers = [("x-amzn-RequestId", request_id)]
    if info.protocol in ("json", "rest-json"):
        content_type = info.headers.get("content-type", "")
        if info.protocol == "rest-json" or not content_type.startswith("application/x-amz-json"):
            content_type = "application/json" if info.protocol == "rest-json" else "application/x-amz-json-1.0"
        body = json.dumps({"__type": code, "message": message}).encode()
        return headers + [("Content-Type", content_type), ("x-amzn-ErrorType", code)], body
    if info.protocol == "ec2":
        text = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>")
    elif info.protocol == "rest-xml":
        text = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
    else:
        text = (f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return headers + [("Content-Type", "text/xml")], text.encode()


def loopback_upstream(url: str) -> tuple[str, int]:
    """(host, port) to connect to for an upstream URL; anything but plain HTTP to loopback is refused."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.path not in ("", "/") or parts.query or not parts.hostname:
        raise ValueError(f"upstream must be http://<loopback address>:<port>, got {url!r}")
    host = parts.hostname
    if host == "localhost":
        host = "127.0.0.1"  # localhost may resolve to ::1 first while the server listens on IPv4
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"upstream {url!r} is not a loopback address; the proxy only talks to 127.0.0.1/::1")
    return host, parts.port or 80


def _roll(seed: int, key: bytes, seen: int) -> float:
    digest = hashlib.blake2b(key + f"|{seed}|{seen}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class _UpstreamConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Server(socketserver.ThreadingTCPServer):
    # TCPServer rather than http.server.HTTPServer: the latter looks up the host's FQDN on bind,
    # which can stall for seconds on a machine without working DNS
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, proxy: Proxy, port: int):
        self.proxy = proxy
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client that went away is no error of ours
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """One thread per client connection, with its own kept-alive upstream connection."""

    protocol_version = "HTTP/1.1"  # keep-alive: botocore pools its connections
    timeout = 60  # an idle client connection is closed after this long
    server: _Server

    def setup(self) -> None:
        self.connection = self.request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)
        proxy = self.server.proxy
        self.upstream = _UpstreamConnection(proxy.upstream_host, proxy.upstream_port, timeout=proxy.timeout)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.upstream.close()
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's signature
        """Silent: a line per request would bury the test output."""

    def do_any(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._write(400, "Bad Request", [("Content-Type", "text/plain")], b"malformed request body")
            return
        if body is None:  # the client went away mid-body
            self.close_connection = True
            return
        headers = list(self.headers.items())
        status, reason, out_headers, out_body = self.server.proxy.handle(self.command, self.path, headers, body,
                                                                         self._forward)
        self._write(status, reason, out_headers, out_body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_any

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline(65537).split(b";", 1)[0].strip(), 16)
                if size == 0:
                    break
                chunk = self.rfile.read(size)
                if len(chunk) < size:
                    return None
                parts.append(chunk)
                self.rfile.readline()
            while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):  # trailers
                continue
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return body if len(body) == length else None

    def _forward(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
        """Send the request upstream and read the whole answer. A kept-alive connection the server
        closed while idle fails before any answer; that one case is retried on a fresh connection."""
        reused = self.upstream.sock is not None
        try:
            return self._exchange(method, target, headers, body)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
        return self._exchange(method, target, headers, body)

    def _exchange(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
        drop = _connection_tokens(headers) | HOP_BY_HOP | {"content-length", "expect"}
        had_body = any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers)
        try:
            self.upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in drop:
                    self.upstream.putheader(name, value)
            if had_body or body:
                self.upstream.putheader("Content-Length", str(len(body)))
            self.upstream.endheaders(body)  # one send: headers and body together
            response = self.upstream.getresponse()
            data = response.read()
        except BaseException:
            self.upstream.close()
            raise
        if response.will_close:
            self.upstream.close()
        return response.status, response.reason, response.getheaders(), data

    def _write(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """The whole answer in one write: headers and body in two writes stall ~40 ms (Nagle plus
        delayed ACK) even on loopback. Content-Length is recomputed, except where it describes a body
        that is not sent: an answer to HEAD keeps the server's, and 1xx/204/304 carry none of ours."""
        drop = _connection_tokens(headers) | HOP_BY_HOP
        has_length = any(name.lower() == "content-length" for name, _ in headers)
        bodiless = status < 200 or status in (204, 304)
        keep_length = bodiless or (self.command == "HEAD" and has_length)
        if not keep_length:
            drop = drop | {"content-length"}
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{name}: {value}" for name, value in headers if name.lower() not in drop]
        if not keep_length:
            lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        payload = b"" if bodiless or self.command == "HEAD" else body
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)


def _connection_tokens(headers: list[tuple[str, str]]) -> set[str]:
    """Headers a `Connection:` header names are hop-by-hop too (RFC 9110 7.6.1)."""
    return {token.strip().lower() for name, value in headers if name.lower() == "connection"
            for token in value.split(",") if token.strip()}


class Proxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1 in front of `upstream` (a loopback URL).

    drop_fraction: share of answers lost (the server did the work; the client gets a 503).
    latency: seconds slept per request before forwarding; requests on different connections sleep at once.
    seed: makes the choice of lost answers reproducible (see the module docstring).
    drop_only: only requests it accepts may be dropped, e.g. `lambda r: r.mutating and r.seen == 0`.
    on_request / on_answer: called with each request's RequestInfo before it is forwarded / after the
    server answered it and before the client gets the answer (kill the client at that instant).
    timeout: seconds to wait on the upstream before answering 504.
    port: 0 takes a free port.
    """

    def __init__(self, upstream: str, drop_fraction: float = 0.0, latency: float = 0.0, seed: int = 0,
                 drop_only: Callable[[RequestInfo], bool] | None = None, *, timeout: float = 30.0,
                 port: int = 0, on_request: Callable[[RequestInfo], None] | None = None,
                 on_answer: Callable[[RequestInfo], None] | None = None):
        if not 0.0 <= drop_fraction <= 1.0:
            raise ValueError(f"drop_fraction must be within [0, 1], got {drop_fraction}")
        self.upstream = upstream
        self.upstream_host, self.upstream_port = loopback_upstream(upstream)
        self.drop_fraction = drop_fraction
        self.latency = latency
        self.seed = seed
        self.drop_only = drop_only
        self.on_request = on_request
        self.on_answer = on_answer
        self.timeout = timeout
        self._port = port
        self._lock = threading.Lock()
        self._stats = ProxyStats()
        self._seen: Counter[bytes] = Counter()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Proxy:
        if self._server is None:
            self._server = _Server(self, self._port)
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                            name=f"proxy-{self._server.server_address[1]}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open client connection; idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with server.connections_lock:
            open_connections = list(server.connections)
        for sock in open_connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def stats(self) -> ProxyStats:
        """A copy of the counters, safe to keep while requests go on."""
        with self._lock:
            s = self._stats
            return ProxyStats(s.total, s.dropped, s.upstream_errors, Counter(s.operations), Counter(s.services),
                              list(s.dropped_requests))

    def reset(self) -> None:
        """Zero the counters and forget which requests were seen, so that replaying the same requests
        (after resetting the emulator) loses the same answers again."""
        with self._lock:
            self._stats = ProxyStats()
            self._seen.clear()

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, forward):
        """Decide, delay, forward and possibly drop one request; returns (status, reason, headers, body)."""
        info = request_info(method, target, headers, body)
        key = hashlib.blake2b(b"\0".join([method.encode(), info.path.encode(), info.query.encode(), body]),
                              digest_size=16).digest()
        if not info.control:
            with self._lock:
                seen = self._seen[key]
                self._seen[key] += 1
                self._stats.total += 1
                self._stats.operations[info.operation] += 1
                self._stats.services[info.service] += 1
            info = dataclasses.replace(info, seen=seen)
        drop = (not info.control and self.drop_fraction > 0 and _roll(self.seed, key, info.seen) < self.drop_fraction
                and (self.drop_only is None or self.drop_only(info)))
        if self.latency and not info.control:
            time.sleep(self.latency)
        if self.on_request and not info.control:
            self.on_request(info)
        try:
            answer = forward(method, target, headers, body)
        except TimeoutError:
            return self._upstream_error(info, 504, "Gateway Timeout", "GatewayTimeout", "did not answer in time")
        except (OSError, http.client.HTTPException):
            return self._upstream_error(info, 502, "Bad Gateway", "BadGateway", "is unreachable")
        if self.on_answer and not info.control:
            self.on_answer(info)
        if not drop:
            return answer
        with self._lock:
            self._stats.dropped += 1
            self._stats.dropped_requests.append(info)
        out_headers, out_body = error_answer(info, 503, "ServiceUnavailable", "answer dropped by the test proxy")
        return 503, "Service Unavailable", out_headers, out_body

    def _upstream_error(self, info: RequestInfo, status: int, reason: str, code: str, what: str):
        with self._lock:
            self._stats.upstream_errors += 1
        out_headers, out_body = error_answer(info, status, code, f"upstream {self.upstream} {what}")
        return status, reason, out_headers, out_body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.proxy", description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="the emulator's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--drop", type=float, default=0.0, help="fraction of answers to lose (0..1)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Proxy(args.upstream, args.drop, args.latency, args.seed, port=args.port) as proxy:
        print(proxy.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            stats = proxy.stats
            print(f"{stats.total} requests, {stats.dropped} dropped, {stats.upstream_errors} upstream errors",
                  file=sys.stderr)
            for operation, count in stats.operations.most_common():
                print(f"{count:6d} {operation}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
