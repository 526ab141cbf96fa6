"""The native transport's own concerns: event loops (one connection pool per loop, closed with it or at
lifespan shutdown; trio), settings resolved from botocore, and credentials from botocore's chain."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import anyio
import botocore.config
import pytest
from starlette.testclient import TestClient

from dynsession import ConfigurationError, DynamoDBStore, SessionRecord
from dynsession.stores.base import MovedRecord
from dynsession.stores.transport import Boto3Client
from dynsession.stores.transport.native import NativeTransport
from dynsession.stores.transport.settings import resolve

from ...faults import FaultProxy
from ...support import FakeClock, session_app


def native(store: DynamoDBStore) -> NativeTransport:
    transport = store.transport
    assert isinstance(transport, NativeTransport)
    return transport


def record(clock: FakeClock) -> SessionRecord:
    return SessionRecord(data=b'{"a":1}', version=1, created=clock(), expires=clock() + 600)


@pytest.fixture
def native_store(dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock) -> DynamoDBStore:
    return DynamoDBStore(
        table_name, endpoint_url=dynamodb_endpoint, key_prefix=key_prefix, clock=clock, transport="native"
    )


# -- event loops -----------------------------------------------------------------------------------


def test_every_new_event_loop_gets_a_session_that_closes_with_the_loop(
    native_store: DynamoDBStore, clock: FakeClock
) -> None:
    async def save_then_load(key: str) -> SessionRecord | MovedRecord | None:
        await native_store.save(key, record(clock), expected_version=None)
        assert native(native_store).open_sessions == 1
        return await native_store.load(key)

    # A new loop per call, as tests and Lambda adapters make them: each works, and when its loop
    # shuts down its connections are closed (an unclosed one would warn, and warnings fail tests).
    for n in range(3):
        assert anyio.run(save_then_load, f"k{n}") == record(clock)
        assert native(native_store).open_sessions == 0
    assert asyncio.run(native_store.load("k0")) == record(clock)
    assert native(native_store).open_sessions == 0


def test_aclose_closes_this_loops_session_and_a_later_call_opens_one_again(
    native_store: DynamoDBStore, clock: FakeClock
) -> None:
    async def scenario() -> None:
        await native_store.save("k", record(clock), expected_version=None)
        assert native(native_store).open_sessions == 1
        await native_store.aclose()
        assert native(native_store).open_sessions == 0
        assert await native_store.load("k") == record(clock)
        assert native(native_store).open_sessions == 1
        await native_store.aclose()
        await native_store.aclose()  # twice is harmless

    anyio.run(scenario)


def test_lifespan_shutdown_closes_the_session(native_store: DynamoDBStore, clock: FakeClock) -> None:
    with TestClient(session_app(native_store, clock=clock), base_url="https://testserver") as client:
        client.post("/update", json={"a": 1})
        assert client.get("/view").json() == {"a": 1}
        assert native(native_store).open_sessions == 1
    assert native(native_store).open_sessions == 0


def test_under_trio_the_native_transport_fails_with_what_to_do(native_store: DynamoDBStore) -> None:
    with pytest.raises(ConfigurationError, match="needs asyncio's event loop.*transport='boto3'"):
        anyio.run(native_store.load, "k", backend="trio")


def test_under_trio_the_default_falls_back_to_boto3(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    store = DynamoDBStore(table_name, endpoint_url=dynamodb_endpoint, key_prefix=key_prefix, clock=clock)
    assert isinstance(store.transport, NativeTransport)  # "auto"

    async def save_then_load() -> SessionRecord | MovedRecord | None:
        await store.save("k", record(clock), expected_version=None)
        return await store.load("k")

    assert anyio.run(save_then_load, backend="trio") == record(clock)
    assert anyio.run(store.load, "k") == record(clock)  # and asyncio afterwards
    assert native(store).open_sessions == 0
    anyio.run(store.aclose, backend="trio")


# -- settings from botocore ------------------------------------------------------------------------


@pytest.fixture
def no_configured_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.usefixtures("no_configured_endpoint")
@pytest.mark.parametrize(
    ("region", "config", "url"),
    [
        ("eu-west-1", None, "https://dynamodb.eu-west-1.amazonaws.com/"),
        ("cn-north-1", None, "https://dynamodb.cn-north-1.amazonaws.com.cn/"),
        (
            "us-east-1",
            botocore.config.Config(use_fips_endpoint=True),
            "https://dynamodb-fips.us-east-1.amazonaws.com/",
        ),
    ],
)
def test_the_default_endpoint_is_botocores(
    region: str, config: botocore.config.Config | None, url: str
) -> None:
    settings = resolve(Boto3Client(region_name=region, config=config))
    assert settings.url == url
    assert settings.region == region
    assert settings.signer.host == url.split("/")[2]
    assert settings.proxy is None and settings.ssl is not None


@pytest.mark.usefixtures("no_configured_endpoint")
def test_retries_timeouts_and_proxies_follow_the_store_options(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = resolve(Boto3Client(region_name="eu-west-1"))
    assert defaults.policy.max_attempts == 4  # dynsession's default: three retries
    assert (defaults.connect_timeout, defaults.read_timeout) == (2.0, 5.0)

    config = botocore.config.Config(
        connect_timeout=1.5, read_timeout=7, retries={"mode": "standard", "total_max_attempts": 6}
    )
    custom = resolve(Boto3Client(region_name="eu-west-1", config=config, endpoint_url="http://127.0.0.1:1"))
    assert custom.policy.max_attempts == 6
    assert (custom.connect_timeout, custom.read_timeout) == (1.5, 7)
    assert custom.url == "http://127.0.0.1:1/" and custom.ssl is None

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert resolve(Boto3Client(region_name="eu-west-1")).proxy == "http://proxy.internal:3128"
    monkeypatch.setenv("NO_PROXY", ".amazonaws.com")
    assert resolve(Boto3Client(region_name="eu-west-1")).proxy is None
    configured = botocore.config.Config(proxies={"https": "http://configured:8080"})
    assert resolve(Boto3Client(region_name="eu-west-1", config=configured)).proxy == "http://configured:8080"


# -- credentials from botocore's chain -------------------------------------------------------------

ISSUER = """
import datetime, json, pathlib, sys
counter = pathlib.Path(sys.argv[1])
number = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(number))
expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=12)
print(json.dumps({
    "Version": 1,
    "AccessKeyId": f"KEY{number}",
    "SecretAccessKey": "secret",
    "SessionToken": f"token{number}",
    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
}))
"""


def test_credential_process_credentials_are_fetched_and_refreshed_off_the_event_loop(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A credential_process issuing credentials that expire in 12 minutes: inside botocore's advisory
    # refresh window, so every fetch is followed by a refresh. Both run a process (blocking I/O),
    # which blockbuster would fail on the event loop.
    script, counter = tmp_path / "issuer.py", tmp_path / "issued"
    script.write_text(ISSUER)
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {sys.executable} {script} {counter}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    store = DynamoDBStore(
        table_name, endpoint_url=faults.url, key_prefix=key_prefix, clock=clock, transport="native"
    )

    async def save_then_load() -> Any:
        await store.save("k", record(clock), expected_version=None)
        return await store.load("k")

    assert anyio.run(save_then_load) == record(clock)
    # The first key was refreshed at once, before any request was signed with it.
    assert counter.read_text() == "2"
    assert faults.access_keys == ["KEY2", "KEY2"]
