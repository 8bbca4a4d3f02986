"""Fixtures for faults on the wire: the test proxy (tests/faults/proxy.py) in front of the emulator.

Other test packages can use them with `from tests.faults.conftest import lossy_endpoint, proxy  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.faults.proxy import Proxy, RequestInfo


@pytest.fixture
def lossy_endpoint(aws_endpoint, monkeypatch) -> Iterator[Callable[..., Proxy]]:
    """A factory: `lossy_endpoint(drop_fraction=0.0, seed=0, latency=0.0, drop_only=None)` starts a proxy
    in front of the freshly reset emulator, points AWS_ENDPOINT_URL at it (so deployer subprocesses go
    through it too) and returns the Proxy. Every proxy started is stopped after the test."""
    started: list[Proxy] = []

    def start(drop_fraction: float = 0.0, seed: int = 0, latency: float = 0.0,
              drop_only: Callable[[RequestInfo], bool] | None = None) -> Proxy:
        proxy = Proxy(aws_endpoint, drop_fraction=drop_fraction, latency=latency, seed=seed,
                      drop_only=drop_only).start()
        started.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def proxy(lossy_endpoint) -> Proxy:
    """A forwarding-only proxy (nothing dropped, no latency) that counts requests per operation."""
    return lossy_endpoint()
