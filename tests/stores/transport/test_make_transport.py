"""The transport= option: what each choice builds, and the choices that cannot work."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio
import boto3
import pytest

from dynsession import ConfigurationError, DynamoDBStore
from dynsession.stores.transport import Boto3Transport, Transport
from dynsession.stores.transport.native import NativeTransport

from ...support import FakeClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Recording:
    """A Transport of the user's own: records each call, then passes it on."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.closed = 0

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append(operation)
        return await self.inner.call(operation, request)

    async def aclose(self) -> None:
        self.closed += 1
        await self.inner.aclose()


def test_auto_is_native_and_boto3_for_an_injected_client() -> None:
    assert isinstance(DynamoDBStore("t", region_name="eu-west-1").transport, NativeTransport)
    client: DynamoDBClient = boto3.client("dynamodb", region_name="eu-west-1")
    assert isinstance(DynamoDBStore("t", client=client).transport, Boto3Transport)
    assert isinstance(DynamoDBStore("t", client=client, transport="boto3").transport, Boto3Transport)
    assert isinstance(DynamoDBStore("t", transport="boto3").transport, Boto3Transport)
    assert isinstance(DynamoDBStore("t", transport="native").transport, NativeTransport)


def test_native_needs_no_third_party_http_library() -> None:
    # A fresh interpreter, so no other test's imports count: botocore brings urllib3 for boto3's
    # own use, and nothing else that speaks HTTP is loaded.
    script = (
        "import sys, asyncio, dynsession\n"
        "from dynsession.stores.transport.native import NativeTransport\n"
        "print(sorted(m for m in ('aiohttp', 'httpx', 'h11', 'httpcore', 'anyio._backends._trio')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_native_cannot_send_through_a_given_client() -> None:
    client: DynamoDBClient = boto3.client("dynamodb", region_name="eu-west-1")
    with pytest.raises(ConfigurationError, match="transport='native' cannot send through a client given"):
        DynamoDBStore("t", client=client, transport="native")


@pytest.mark.parametrize("bad", ["aiohttp", "", "BOTO3", 42, object()])
def test_unknown_choices_are_configuration_errors(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="transport must be one of"):
        DynamoDBStore("t", transport=bad)


def test_a_transport_instance_carries_every_item_operation(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    inner = DynamoDBStore(table_name, endpoint_url=dynamodb_endpoint, transport="native").transport
    recording = Recording(inner)
    store = DynamoDBStore(
        table_name, endpoint_url=dynamodb_endpoint, key_prefix=key_prefix, clock=clock, transport=recording
    )
    assert store.transport is recording

    async def use() -> None:
        assert await store.load("k") is None
        assert not await store.touch("k", clock() + 60)
        await store.delete("k")
        await store.aclose()

    anyio.run(use)
    assert recording.calls == ["GetItem", "UpdateItem", "DeleteItem"]
    assert recording.closed == 1
