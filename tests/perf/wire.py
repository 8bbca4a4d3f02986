"""The benchmarks' loopback latency proxy: tests/faults/proxy.py's Proxy (N seconds slept per
request, requests counted per operation) in a process of its own, so that its threads never share
an interpreter lock with what is measured, with two control paths of its own:

    GET  /__bench__/stats   {"total": N, "operations": {operation: N}}  (since start or the last reset)
    POST /__bench__/reset   zero the counts

Run as `python -m tests.perf.wire --upstream http://127.0.0.1:PORT --latency 0.05`; it prints its URL.
`Wire` starts and drives one from a benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.faults.proxy import Proxy

CONTROL = "/__bench__/"
ROOT = Path(__file__).resolve().parents[2]


class CountingProxy(Proxy):
    """The faults proxy, answering its own control paths (never delayed or counted)."""

    def handle(self, method: str, target: str, headers, body: bytes, forward):
        if target.startswith(CONTROL):
            if target == CONTROL + "reset" and method == "POST":
                self.reset()
                payload = b"{}"
            else:
                stats = self.stats
                payload = json.dumps({"total": stats.total, "operations": dict(stats.operations)}).encode()
            return 200, "OK", [("Content-Type", "application/json")], payload
        return super().handle(method, target, headers, body, forward)


class Wire:
    """A CountingProxy child process in front of `upstream`, adding `latency` seconds per request."""

    def __init__(self, upstream: str, latency: float = 0.0):
        self.upstream = upstream
        self.latency = latency
        self.url = ""
        self._proc: subprocess.Popen | None = None

    def start(self) -> Wire:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.perf.wire", "--upstream", self.upstream, "--latency", str(self.latency)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.url = self._proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError("the latency proxy did not start")
        return self

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url + CONTROL + "stats", timeout=10) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + CONTROL + "reset", method="POST"), timeout=10).read()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> Wire:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.wire", description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with CountingProxy(args.upstream, latency=args.latency) as proxy:
        print(proxy.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except (KeyboardInterrupt, SystemExit):
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
