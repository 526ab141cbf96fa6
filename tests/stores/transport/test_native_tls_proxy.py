"""The native transport's routes to DynamoDB: TLS with the trust botocore would use (a test CA given
through AWS_CA_BUNDLE, refused without it or for another host name), proxies through CONNECT
(HTTPS_PROXY and NO_PROXY, botocore's ``proxies``, TLS to the proxy), IPv6, and uvloop."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import botocore.config
import botocore.exceptions
import pytest

from dynsession import DynamoDBStore, SessionRecord, StoreUnavailable
from dynsession.stores.base import MovedRecord

from ...clients import free_port
from ...faults import FaultProxy
from ...support import FakeClock
from .local_ca import LocalCA
from .peers import Relay


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path)


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))


@pytest.fixture
def peers() -> Iterator[list[Relay]]:
    started: list[Relay] = []
    yield started
    for relay in started:
        relay.close()


def upstream(faults: FaultProxy) -> tuple[str, int]:
    return ("127.0.0.1", int(faults.url.rsplit(":", 1)[1]))


def start(peers: list[Relay], *args: Any, **options: Any) -> Relay:
    relay = Relay(*args, **options)
    peers.append(relay)
    return relay


def round_trip(
    url: str,
    table: str,
    prefix: str,
    clock: FakeClock,
    *,
    backend_options: dict[str, Any] | None = None,
    **options: Any,
) -> SessionRecord | MovedRecord | None:
    """Save then load one session through the native transport on a fresh event loop."""
    store = DynamoDBStore(
        table, endpoint_url=url, key_prefix=prefix, clock=clock, transport="native", **options
    )
    record = SessionRecord(data=b'{"a":1}', version=1, created=clock(), expires=clock() + 600)

    key = uuid.uuid4().hex

    async def scenario() -> SessionRecord | MovedRecord | None:
        try:
            await store.save(key, record, expected_version=None)
            return await store.load(key)
        finally:
            await store.aclose()

    loaded = anyio.run(scenario, backend_options=backend_options)
    assert loaded == record
    return loaded


def fails_with(url: str, table: str, clock: FakeClock, **options: Any) -> BaseException | None:
    config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1})
    if "config" in options:
        config = config.merge(options.pop("config"))
    store = DynamoDBStore(table, endpoint_url=url, clock=clock, transport="native", config=config, **options)
    with pytest.raises(StoreUnavailable) as failed:
        anyio.run(store.load, "k")
    return failed.value.original


@pytest.mark.usefixtures("no_proxy_settings")
def test_tls_with_a_ca_bundle_from_aws_ca_bundle(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    ca: LocalCA,
    peers: list[Relay],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tls = start(peers, upstream(faults), tls=ca.server_context("localhost"))
    url = f"https://localhost:{tls.port}"
    # Not trusted without the bundle: a TLS failure, and the store never sends a request.
    assert isinstance(fails_with(url, table_name, clock), botocore.exceptions.SSLError)
    assert faults.sends["GetItem"] == 0
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca.bundle))
    round_trip(url, table_name, key_prefix, clock)
    assert faults.sends["PutItem"] == 1 and faults.sends["GetItem"] == 1
    # A trusted certificate for another name is refused too (the host name is checked).
    other = start(peers, upstream(faults), tls=ca.server_context("elsewhere.example"))
    original = fails_with(f"https://localhost:{other.port}", table_name, clock)
    assert isinstance(original, botocore.exceptions.SSLError)
    assert "elsewhere.example" in str(original) or "match" in str(original)


@pytest.mark.usefixtures("no_proxy_settings")
def test_connect_through_a_proxy_from_https_proxy_unless_no_proxy(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    ca: LocalCA,
    peers: list[Relay],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tls = start(peers, upstream(faults), tls=ca.server_context("localhost"))
    proxy = start(peers, connect_proxy=True)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca.bundle))
    monkeypatch.setenv("HTTPS_PROXY", f"http://user:p%40ss@127.0.0.1:{proxy.port}")
    round_trip(f"https://localhost:{tls.port}", table_name, key_prefix, clock)
    # One tunnel, to the endpoint, with the proxy's credentials; TLS to the endpoint inside it.
    assert len(proxy.requests) == 1
    head = proxy.requests[0]
    assert head.startswith(f"CONNECT localhost:{tls.port} HTTP/1.1\r\n")
    assert "Proxy-Authorization: Basic dXNlcjpwQHNz\r\n" in head  # user:p@ss
    assert tls.connections == 1

    monkeypatch.setenv("NO_PROXY", "localhost")
    round_trip(f"https://localhost:{tls.port}", table_name, key_prefix, clock)
    assert len(proxy.requests) == 1 and tls.connections == 2


@pytest.mark.usefixtures("no_proxy_settings")
def test_proxies_from_the_config_plain_and_over_tls(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    ca: LocalCA,
    peers: list[Relay],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = start(peers, connect_proxy=True)
    config = botocore.config.Config(proxies={"http": f"http://127.0.0.1:{plain.port}"})
    round_trip(faults.url, table_name, key_prefix, clock, config=config)
    assert [head.split("\r\n")[0] for head in plain.requests] == [
        f"CONNECT 127.0.0.1:{upstream(faults)[1]} HTTP/1.1"
    ]

    # An https:// proxy: TLS to the proxy (trusted through AWS_CA_BUNDLE), the tunnel inside it.
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca.bundle))
    secure = start(peers, connect_proxy=True, tls=ca.server_context("localhost"))
    config = botocore.config.Config(proxies={"http": f"https://localhost:{secure.port}"})
    round_trip(faults.url, table_name, key_prefix, clock, config=config)
    assert len(secure.requests) == 1
    # And TLS to the endpoint inside the TLS to the proxy.
    tls = start(peers, upstream(faults), tls=ca.server_context("localhost"))
    config = botocore.config.Config(proxies={"https": f"https://localhost:{secure.port}"})
    round_trip(f"https://localhost:{tls.port}", table_name, key_prefix, clock, config=config)
    assert len(secure.requests) == 2 and tls.connections == 1

    config = botocore.config.Config(proxies={"http": f"http://127.0.0.1:{free_port()}"})
    original = fails_with(faults.url, table_name, clock, config=config)
    assert isinstance(original, botocore.exceptions.ProxyConnectionError)


def test_an_ipv6_endpoint(
    faults: FaultProxy, table_name: str, key_prefix: str, clock: FakeClock, peers: list[Relay]
) -> None:
    try:
        relay = start(peers, upstream(faults), host="::1")
    except OSError:  # pragma: no cover - a machine without IPv6 loopback
        pytest.skip("no IPv6 loopback here")
    round_trip(f"http://[::1]:{relay.port}", table_name, key_prefix, clock)
    assert relay.connections == 1


@pytest.mark.usefixtures("no_proxy_settings")
def test_under_uvloop_tls_and_proxies_work_unchanged(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    ca: LocalCA,
    peers: list[Relay],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("uvloop")
    uvloop = {"use_uvloop": True}
    round_trip(faults.url, table_name, key_prefix, clock, backend_options=uvloop)
    tls = start(peers, upstream(faults), tls=ca.server_context("localhost"))
    proxy = start(peers, connect_proxy=True)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca.bundle))
    round_trip(f"https://localhost:{tls.port}", table_name, key_prefix, clock, backend_options=uvloop)
    config = botocore.config.Config(proxies={"https": f"http://127.0.0.1:{proxy.port}"})
    round_trip(
        f"https://localhost:{tls.port}", table_name, key_prefix, clock, backend_options=uvloop, config=config
    )
    assert len(proxy.requests) == 1 and tls.connections == 2
    secure = start(peers, connect_proxy=True, tls=ca.server_context("localhost"))
    config = botocore.config.Config(proxies={"https": f"https://localhost:{secure.port}"})
    round_trip(
        f"https://localhost:{tls.port}", table_name, key_prefix, clock, backend_options=uvloop, config=config
    )
    assert len(secure.requests) == 1 and tls.connections == 3
