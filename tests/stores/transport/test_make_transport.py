"""The transport= option: what each choice builds, and the choices that cannot work."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio
import boto3
import pytest

from dynsession import ConfigurationError, DynamoDBStore
from dynsession.stores.transport import Boto3Transport, Transport
from dynsession.stores.transport.aiohttp_native import AiohttpTransport

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


def test_auto_is_native_with_aiohttp_and_boto3_for_an_injected_client() -> None:
    assert isinstance(DynamoDBStore("t", region_name="eu-west-1").transport, AiohttpTransport)
    client: DynamoDBClient = boto3.client("dynamodb", region_name="eu-west-1")
    assert isinstance(DynamoDBStore("t", client=client).transport, Boto3Transport)
    assert isinstance(DynamoDBStore("t", client=client, transport="boto3").transport, Boto3Transport)
    assert isinstance(DynamoDBStore("t", transport="boto3").transport, Boto3Transport)
    assert isinstance(DynamoDBStore("t", transport="aiohttp").transport, AiohttpTransport)


def test_without_aiohttp_auto_is_boto3_and_aiohttp_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # an import of it now fails
    assert isinstance(DynamoDBStore("t").transport, Boto3Transport)
    with pytest.raises(
        ConfigurationError, match=r"transport='aiohttp' needs aiohttp: install dynsession\[fast\]"
    ):
        DynamoDBStore("t", transport="aiohttp")


def test_aiohttp_cannot_send_through_a_given_client() -> None:
    client: DynamoDBClient = boto3.client("dynamodb", region_name="eu-west-1")
    with pytest.raises(ConfigurationError, match="transport='aiohttp' cannot send through a client given"):
        DynamoDBStore("t", client=client, transport="aiohttp")


@pytest.mark.parametrize("bad", ["native", "", "BOTO3", 42, object()])
def test_unknown_choices_are_configuration_errors(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="transport must be one of"):
        DynamoDBStore("t", transport=bad)


def test_a_transport_instance_carries_every_item_operation(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    inner = DynamoDBStore(table_name, endpoint_url=dynamodb_endpoint, transport="aiohttp").transport
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
