"""The test proxy: exact forwarding, reproducible lost answers that botocore retries, latency, counts."""

from __future__ import annotations

import http.client
import io
import json
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries import standard

from tests.conftest import ROOT
from tests.faults.proxy import Proxy, request_info

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
ONE_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 2})
ROLE_ARN = "arn:aws:iam::123456789012:role/proxy-lambda"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(autouse=True)
def _no_backoff_sleep(monkeypatch):
    """botocore's backoff sleeps are real; the retries themselves are what is under test."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def client(service: str, endpoint: str, config: Config = NO_RETRIES):
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint, config=config,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def lambda_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def create_function(c):
    return c.create_function(FunctionName="proxied", Runtime="python3.12", Role=ROLE_ARN, Handler="index.handler",
                             Code={"ZipFile": lambda_zip()})


def test_forwards_every_protocol_and_counts_operations(proxy, aws_endpoint):
    url = proxy.url
    s3 = client("s3", url)
    s3.create_bucket(Bucket="fwd")
    start = time.perf_counter()
    s3.put_object(Bucket="fwd", Key="big", Body=io.BytesIO(b"x" * 300_000))  # sent with Expect: 100-continue
    assert time.perf_counter() - start < 0.5  # botocore waits 1 s for a "100 Continue" that never comes
    assert s3.get_object(Bucket="fwd", Key="big")["Body"].read() == b"x" * 300_000
    assert s3.delete_object(Bucket="fwd", Key="big")["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.put_object(Bucket="fwd", Key="dir/k.txt", Body=b"hello")
    assert s3.get_object(Bucket="fwd", Key="dir/k.txt")["Body"].read() == b"hello"
    assert s3.head_object(Bucket="fwd", Key="dir/k.txt")["ContentLength"] == 5  # HEAD keeps the upstream length
    s3.put_bucket_tagging(Bucket="fwd", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    sqs = client("sqs", url)
    queue_url = sqs.create_queue(QueueName="fwd")["QueueUrl"]
    assert sqs.get_queue_url(QueueName="fwd")["QueueUrl"] == queue_url
    ddb = client("dynamodb", url)
    ddb.create_table(TableName="fwd", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName="fwd", Item={"id": {"S": "a"}})
    assert ddb.get_item(TableName="fwd", Key={"id": {"S": "a"}})["Item"] == {"id": {"S": "a"}}
    ec2 = client("ec2", url)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["CidrBlock"] == "10.9.0.0/16"
    iam = client("iam", url)
    iam.create_role(RoleName="proxy-lambda", AssumeRolePolicyDocument=TRUST)
    assert iam.get_role(RoleName="proxy-lambda")["Role"]["Arn"] == ROLE_ARN
    lam = client("lambda", url)
    create_function(lam)
    assert lam.get_function(FunctionName="proxied")["Configuration"]["Handler"] == "index.handler"

    stats = proxy.stats
    assert stats.operations == Counter({
        "S3 PUT /fwd": 1, "S3 PUT /fwd/big": 1, "S3 GET /fwd/big": 1, "S3 DELETE /fwd/big": 1, "S3 PUT /fwd/dir/k.txt": 1, "S3 GET /fwd/dir/k.txt": 1, "S3 HEAD /fwd/dir/k.txt": 1,
        "S3 PUT /fwd?tagging": 1, "CreateQueue": 1, "GetQueueUrl": 1, "CreateTable": 1, "PutItem": 1,
        "GetItem": 1, "CreateVpc": 1, "DescribeVpcs": 1, "CreateRole": 1, "GetRole": 1,
        "LAMBDA POST /2015-03-31/functions": 1, "LAMBDA GET /2015-03-31/functions/proxied": 1})
    assert stats.services == Counter({"s3": 8, "sqs": 2, "dynamodb": 3, "ec2": 2, "iam": 2, "lambda": 2})
    assert stats.total == 19 and stats.dropped == 0 and stats.dropped_requests == []
    proxy.reset()
    assert proxy.stats.total == 0 and proxy.stats.operations == Counter()
    assert client("sqs", aws_endpoint).list_queues()["QueueUrls"]  # the work reached the emulator


# (service, mutating call through the proxy, its operation label, proof on the emulator that it was done)
LOST = {
    "sqs": (lambda c: c.create_queue(QueueName="lost"), "CreateQueue",
            lambda d: d.get_queue_url(QueueName="lost")["QueueUrl"]),
    "dynamodb": (lambda c: c.create_table(TableName="lost", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                          BillingMode="PAY_PER_REQUEST"), "CreateTable",
                 lambda d: d.describe_table(TableName="lost")["Table"]),
    "logs": (lambda c: c.create_log_group(logGroupName="lost"), "CreateLogGroup",
             lambda d: d.describe_log_groups(logGroupNamePrefix="lost")["logGroups"]),
    "s3": (lambda c: c.create_bucket(Bucket="lost"), "S3 PUT /lost", lambda d: d.head_bucket(Bucket="lost")),
    "ec2": (lambda c: c.create_vpc(CidrBlock="10.7.0.0/16"), "CreateVpc",
            lambda d: d.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.7.0.0/16"]}])["Vpcs"]),
    "iam": (lambda c: c.create_role(RoleName="lost", AssumeRolePolicyDocument=TRUST), "CreateRole",
            lambda d: d.get_role(RoleName="lost")["Role"]),
    "lambda": (create_function, "LAMBDA POST /2015-03-31/functions",
               lambda d: d.get_function(FunctionName="proxied")["Configuration"]),
    "apigateway": (lambda c: c.create_rest_api(name="lost"), "APIGATEWAY POST /restapis",
                   lambda d: [a for a in d.get_rest_apis()["items"] if a["name"] == "lost"]),
}


@pytest.mark.parametrize("service", sorted(LOST))
def test_a_dropped_answer_is_a_503_after_the_work_was_done(lossy_endpoint, aws_endpoint, service):
    client("iam", aws_endpoint).create_role(RoleName="proxy-lambda", AssumeRolePolicyDocument=TRUST)
    call, operation, done = LOST[service]
    proxy = lossy_endpoint(drop_fraction=1.0)
    with pytest.raises(ClientError) as err:
        call(client(service, proxy.url))
    assert err.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert done(client(service, aws_endpoint))
    assert proxy.stats.dropped_operations == [operation]


def test_a_dropped_answer_to_head_has_no_body_and_keeps_the_connection_usable(lossy_endpoint):
    proxy = lossy_endpoint(drop_fraction=1.0, drop_only=lambda r: r.method == "HEAD")
    s3 = client("s3", proxy.url)
    s3.create_bucket(Bucket="head")
    s3.put_object(Bucket="head", Key="k", Body=b"data")
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="head", Key="k")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert s3.get_object(Bucket="head", Key="k")["Body"].read() == b"data"
    assert proxy.stats.dropped_operations == ["S3 HEAD /head/k"]


# one read per protocol family: a retry of it is harmless, so only the retry is under test
READS = {"sqs": lambda c: c.list_queues(), "dynamodb": lambda c: c.list_tables(),
         "logs": lambda c: c.describe_log_groups(), "s3": lambda c: c.list_buckets(),
         "ec2": lambda c: c.describe_vpcs(), "iam": lambda c: c.list_roles(),
         "lambda": lambda c: c.list_functions(), "apigateway": lambda c: c.get_rest_apis()}


@pytest.mark.parametrize("service", sorted(READS))
def test_standard_retries_retry_a_dropped_answer(lossy_endpoint, service):
    proxy = lossy_endpoint(drop_fraction=1.0, drop_only=lambda r: r.seen == 0)
    answer = READS[service](client(service, proxy.url, ONE_RETRY))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    stats = proxy.stats
    assert (stats.total, stats.dropped, stats.dropped_requests[0].seen) == (2, 1, 0)


def test_retries_give_up_when_every_answer_is_lost(lossy_endpoint):
    proxy = lossy_endpoint(drop_fraction=1.0)
    sqs = client("sqs", proxy.url, Config(retries={"mode": "standard", "total_max_attempts": 3}))
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName="always-lost")
    assert err.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert err.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert [r.seen for r in proxy.stats.dropped_requests] == [0, 1, 2]


def only_mutations(info) -> bool:
    return info.mutating


def queue_name(params: dict) -> str:
    return params.get("QueueName") or params["QueueUrl"].rsplit("/", 1)[-1]


def lossy_run(proxy: Proxy) -> set[str]:
    """48 SQS calls from 8 threads; returns the calls whose answer was lost, as the client saw them."""
    urllib.request.urlopen(urllib.request.Request(proxy.url + "/moto-api/reset", method="POST")).read()
    sqs = client("sqs", proxy.url, Config(retries={"total_max_attempts": 1}, max_pool_connections=8))
    failed: set[str] = set()

    def work(thread: int) -> None:
        for i in range(3):
            name = f"q-{thread}-{i}"
            queue_url = f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}"  # the same whatever the port
            calls = (("CreateQueue", sqs.create_queue, {"QueueName": name}),
                     ("GetQueueUrl", sqs.get_queue_url, {"QueueName": name}),
                     ("TagQueue", sqs.tag_queue, {"QueueUrl": queue_url, "Tags": {"t": "v"}}))
            for op, call, params in calls:
                try:
                    call(**params)
                except ClientError as e:
                    assert e.response["Error"]["Code"] == "ServiceUnavailable"
                    failed.add(f"{op}:{name}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    stats = proxy.stats
    assert stats.total == 72
    seen_by_proxy = {f"{r.operation}:{queue_name(json.loads(r.body))}" for r in stats.dropped_requests}
    assert seen_by_proxy == failed
    assert all(r.mutating for r in stats.dropped_requests)
    return failed


def test_the_same_seed_drops_the_same_answers_whatever_the_thread_order(aws_endpoint):
    runs = []
    for seed in (7, 7, 8):
        with Proxy(aws_endpoint, drop_fraction=0.5, seed=seed, drop_only=only_mutations) as proxy:
            runs.append(lossy_run(proxy))
            if seed == 8:
                proxy.reset()
                runs.append(lossy_run(proxy))
    assert runs[0] and runs[0] == runs[1]
    assert not any(f.startswith("GetQueueUrl") for f in runs[0])  # drop_only kept the reads
    assert runs[2] != runs[0] and runs[3] == runs[2]


def test_latency_is_per_request_and_requests_overlap(lossy_endpoint):
    proxy = lossy_endpoint(latency=0.2)
    sqs = client("sqs", proxy.url, Config(retries={"total_max_attempts": 1}, max_pool_connections=10))

    def timed(_: int) -> float:
        start = time.perf_counter()
        sqs.list_queues()
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(10) as pool:
        times = list(pool.map(timed, range(10)))
    elapsed = time.perf_counter() - start
    assert min(times) >= 0.2
    assert elapsed < 1.0, f"10 requests at 0.2 s took {elapsed:.2f} s: they did not overlap"
    assert proxy.stats.operations == Counter({"ListQueues": 10})


def test_emulator_control_calls_are_never_dropped_delayed_or_counted(lossy_endpoint):
    proxy = lossy_endpoint(drop_fraction=1.0, latency=1.0)
    start = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(proxy.url + "/moto-api/reset", method="POST")) as resp:
        assert resp.status == 200
    assert time.perf_counter() - start < 0.5
    assert proxy.stats.total == 0


@pytest.mark.parametrize("upstream", ["http://example.com:5000", "http://10.0.0.1:5000", "https://127.0.0.1:5000",
                                      "http://127.0.0.1:5000/prefix", "ftp://127.0.0.1:21", "127.0.0.1:5000"])
def test_refuses_any_upstream_but_plain_http_to_loopback(upstream):
    with pytest.raises(ValueError):
        Proxy(upstream)


def test_accepts_loopback_names_and_refuses_impossible_fractions():
    assert Proxy("http://localhost:5000").upstream_host == "127.0.0.1"
    assert Proxy("http://[::1]:5000").upstream_host == "::1"
    with pytest.raises(ValueError):
        Proxy("http://127.0.0.1:5000", drop_fraction=1.5)


def test_listens_on_loopback_on_a_free_or_a_chosen_port():
    with Proxy("http://127.0.0.1:5000") as proxy:
        chosen = int(proxy.url.rsplit(":", 1)[1])
        assert proxy.url.startswith("http://127.0.0.1:")
    with Proxy("http://127.0.0.1:5000", port=chosen) as again:  # the same port again, e.g. for a second run
        assert again.url == f"http://127.0.0.1:{chosen}"


AUTH = "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=ab"
FORM = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")


@pytest.mark.parametrize("method, target, headers, body, expected", [
    ("POST", "/", [("X-Amz-Target", "DynamoDB_20120810.PutItem"), ("Authorization", AUTH.format("dynamodb"))], b"{}",
     ("PutItem", "dynamodb", "json", True)),
    ("POST", "/", [FORM, ("Authorization", AUTH.format("iam"))], b"Action=ListRoles&Version=2010-05-08",
     ("ListRoles", "iam", "query", False)),
    ("POST", "/", [FORM, ("Authorization", AUTH.format("ec2"))], b"Action=RunInstances&MinCount=1",
     ("RunInstances", "ec2", "ec2", True)),
    ("GET", "/?Action=DescribeVpcs&Version=2016-11-15", [("Authorization", AUTH.format("ec2"))], b"",
     ("DescribeVpcs", "ec2", "ec2", False)),
    ("PUT", "/bucket?tagging", [("Authorization", AUTH.format("s3"))], b"<Tagging/>",
     ("S3 PUT /bucket?tagging", "s3", "rest-xml", True)),
    ("GET", "/bucket?prefix=a&list-type=2", [("Authorization", AUTH.format("s3"))], b"",
     ("S3 GET /bucket?list-type&prefix", "s3", "rest-xml", False)),
    ("DELETE", "/2015-03-31/functions/my%20fn", [("Authorization", AUTH.format("lambda"))], b"",
     ("LAMBDA DELETE /2015-03-31/functions/my fn", "lambda", "rest-json", True)),
    ("GET", "/b/k?X-Amz-Credential=AK%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x", [], b"",
     ("S3 GET /b/k?X-Amz-Credential&X-Amz-Signature", "s3", "rest-xml", False)),
    ("GET", "/anything", [], b"", ("UNSIGNED GET /anything", "", "rest-json", False)),
])
def test_request_info_names_the_operation(method, target, headers, body, expected):
    info = request_info(method, target, headers, body)
    assert (info.operation, info.service, info.protocol, info.mutating) == expected


def test_request_info_headers_are_lower_case_with_repeats_joined():
    info = request_info("GET", "/p?q=1", [("X-A", "1"), ("x-a", "2"), ("Host", "h")], b"")
    assert info.headers == {"x-a": "1, 2", "host": "h"}
    assert (info.path, info.query, info.control) == ("/p", "q=1", False)
    assert request_info("POST", "/moto-api/reset", [], b"").control


class Echo(socketserver.ThreadingTCPServer):
    """A tiny HTTP/1.1 upstream that records what reached it and answers with awkward headers."""

    daemon_threads = True

    def __init__(self):
        self.seen: list[tuple[str, str, list[tuple[str, str]], bytes, int]] = []
        super().__init__(("127.0.0.1", 0), EchoHandler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # noqa: A002
        """Quiet."""

    def do_any(self) -> None:
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, self.path, list(self.headers.items()), body, self.client_address[1]))
        if self.path == "/slow":
            time.sleep(0.5)
        out = b"echo:" + body
        head = ["HTTP/1.1 201 Made", "Set-Cookie: a=1", "Set-Cookie: b=2", "X-Custom: v", "Keep-Alive: timeout=5"]
        if self.path == "/chunked":
            head.append("Transfer-Encoding: chunked")
            out = b"%x\r\n%s\r\n0\r\n\r\n" % (len(out), out)
        else:
            head.append(f"Content-Length: {len(out)}")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + (b"" if self.command == "HEAD" else out))
        if self.path == "/once":  # closes without saying so: the proxy's kept-alive connection goes stale
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_HEAD = do_any


@pytest.fixture
def echo():
    server = Echo()
    yield server
    server.shutdown()
    server.server_close()


def test_forwards_status_headers_and_body_exactly_without_hop_by_hop_headers(echo):
    with Proxy(echo.url) as proxy:
        host = proxy.url.removeprefix("http://")
        conn = http.client.HTTPConnection(host, timeout=5)
        conn.request("POST", "/path?x=1&y", body=b"payload", headers={
            "Connection": "keep-alive, X-Hop", "X-Hop": "1", "Keep-Alive": "5", "TE": "trailers", "X-Keep": "yes"})
        resp = conn.getresponse()
        assert (resp.status, resp.reason, resp.read()) == (201, "Made", b"echo:payload")
        assert resp.msg.get_all("Set-Cookie") == ["a=1", "b=2"]
        assert resp.getheader("X-Custom") == "v" and resp.getheader("Keep-Alive") is None
        assert resp.getheader("Content-Length") == "12" and not resp.will_close
        conn.request("PUT", "/chunked", body=iter([b"ab", b"cd"]), encode_chunked=True)
        resp = conn.getresponse()
        assert resp.read() == b"echo:abcd" and resp.getheader("Content-Length") == "9"
        assert resp.getheader("Transfer-Encoding") is None
        conn.close()
    (method, path, headers, body, _), (_, _, chunked_headers, chunked_body, _) = echo.seen
    names = {name.lower(): value for name, value in headers}
    assert (method, path, body) == ("POST", "/path?x=1&y", b"payload")
    assert names["x-keep"] == "yes" and names["content-length"] == "7"
    assert names["host"] == host  # the client's Host is what was signed
    assert not {"connection", "x-hop", "keep-alive", "te"} & set(names)
    chunked_names = {name.lower(): value for name, value in chunked_headers}
    assert chunked_body == b"abcd" and chunked_names["content-length"] == "4"
    assert "transfer-encoding" not in chunked_names


def test_answers_to_head_carry_no_body_dropped_or_not(echo):
    """Raw and pipelined: a client library would hide stray body bytes by discarding its read buffer."""
    with Proxy(echo.url, drop_fraction=1.0, drop_only=lambda r: r.path == "/lost") as proxy:
        with socket.create_connection(("127.0.0.1", int(proxy.url.rsplit(":", 1)[1])), timeout=5) as sock:
            sock.sendall(b"HEAD /kept HTTP/1.1\r\nHost: x\r\n\r\nHEAD /lost HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while not data.endswith(b"echo:"):
                chunk = sock.recv(65536)
                assert chunk, data
                data += chunk
    kept, lost, after, after_body = data.split(b"\r\n\r\n")
    assert kept.startswith(b"HTTP/1.1 201 Made") and b"\r\nContent-Length: 5" in kept  # the server's length
    assert lost.startswith(b"HTTP/1.1 503 ") and b"\r\nContent-Length: " in lost
    assert after.startswith(b"HTTP/1.1 201 Made") and after_body == b"echo:"  # nothing stray in between


def test_a_malformed_or_truncated_request_body_is_not_forwarded(echo):
    with Proxy(echo.url) as proxy:
        address = ("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]))
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            answer = sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in answer
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(4096) == b""  # closed without an answer
    assert echo.seen == []


def test_keeps_both_connections_alive_and_answers_without_a_nagle_stall(echo):
    """Each answer leaves in one write with TCP_NODELAY: a split write would cost ~40 ms per answer."""
    with Proxy(echo.url) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5)
        times = []
        for _ in range(20):
            start = time.perf_counter()
            conn.request("POST", "/", body=b"x" * 3000)
            assert conn.getresponse().read() == b"echo:" + b"x" * 3000
            times.append(time.perf_counter() - start)
        first_socket = conn.sock
        conn.request("GET", "/")
        conn.getresponse().read()
        assert conn.sock is first_socket  # the client's connection was kept
        conn.close()
    assert len({port for *_, port in echo.seen}) == 1  # so was the upstream one
    assert sorted(times)[10] < 0.02, f"median answer took {sorted(times)[10] * 1000:.1f} ms"


def test_a_stale_upstream_connection_is_replaced(echo):
    with Proxy(echo.url) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5)
        for _ in range(3):
            conn.request("GET", "/once")
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (201, b"echo:")
        conn.close()
        assert proxy.stats.upstream_errors == 0
    assert len({port for *_, port in echo.seen}) == 3


def test_an_unreachable_upstream_is_a_502_and_a_slow_one_a_504(echo):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with Proxy(f"http://127.0.0.1:{closed_port}") as proxy:
        with pytest.raises(ClientError) as err:
            client("sqs", proxy.url).list_queues()
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        assert err.value.response["Error"]["Code"] == "BadGateway"
        assert proxy.stats.upstream_errors == 1
    with Proxy(echo.url, timeout=0.1) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5)
        conn.request("GET", "/slow")
        assert conn.getresponse().status == 504
        conn.close()


def test_stop_cuts_open_connections_and_is_idempotent(echo):
    proxy = Proxy(echo.url).start()
    port = int(proxy.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/")
    conn.getresponse().read()
    start = time.perf_counter()
    proxy.stop()
    assert time.perf_counter() - start < 1.0
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        conn.request("GET", "/")
        conn.getresponse()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    proxy.stop()
    with pytest.raises(RuntimeError):
        print(proxy.url)


def test_cli_prints_its_url_and_reports_counts_when_interrupted(aws_endpoint):
    proc = subprocess.Popen([sys.executable, "-m", "tests.faults.proxy", "--upstream", aws_endpoint, "--seed", "3"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert select.select([proc.stdout], [], [], 20)[0], "the proxy printed no URL"
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert client("sqs", url).list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "1 requests, 0 dropped" in err and "ListQueues" in err


def test_deployer_goes_through_the_proxy_and_survives_lost_first_answers(lossy_endpoint, aws_endpoint, tmp_path):
    from tests.integration.harness import Project

    proxy = lossy_endpoint(drop_fraction=1.0, drop_only=lambda r: r.mutating and r.seen == 0)
    project = Project(tmp_path)
    project.write({"Queue": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "via-proxy"}}})
    project.apply()
    stats = proxy.stats
    # CreateQueue is not safe to repeat blindly: botocore does not retry it, deployer reads and adopts the queue
    assert stats.dropped_operations == ["CreateQueue"] and stats.operations["CreateQueue"] == 1
    assert client("sqs", aws_endpoint).list_queues()["QueueUrls"] == [
        client("sqs", aws_endpoint).get_queue_url(QueueName="via-proxy")["QueueUrl"]]
