"""Section 6, per DynamoDB call: each transport's ``call()`` alone, a bare aiohttp POST of the same
signed request, and (where it is installed) aiodynamo's low-level ``send_request`` for reference."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from dynsession import DynamoDBStore
from dynsession.stores.transport import wire_json
from dynsession.stores.transport.native import NativeTransport
from dynsession.stores.transport.signer import Credentials

from .timing import CountingTransport, Timed, interleave

NATIVE = "dynsession, transport='native'"
RAW = "aiohttp POST alone"
AIODYNAMO = "aiodynamo send_request (reference)"

Sender = Callable[[str, Mapping[str, Any]], Awaitable[Any]]


def aiodynamo_unavailable() -> str | None:
    """Why the aiodynamo reference rows cannot run here, or None when they can."""
    try:
        import aiodynamo.client  # noqa: F401
    except ImportError:
        return "aiodynamo is not installed (`pip install aiodynamo` adds it for reference)"
    return None


def _aiodynamo(http: aiohttp.ClientSession, url: str, region: str, credentials: Credentials) -> Sender | None:
    """aiodynamo's low-level ``send_request`` on the same aiohttp session, or None without it."""
    if aiodynamo_unavailable() is not None:
        return None
    from aiodynamo.client import Client
    from aiodynamo.credentials import Key, StaticCredentials
    from aiodynamo.http.aiohttp import AIOHTTP
    from yarl import URL

    key = Key(credentials.access_key, credentials.secret_key, credentials.token)
    client = Client(AIOHTTP(http), StaticCredentials(key), region, URL(url))

    async def send(operation: str, request: Mapping[str, Any]) -> Any:
        # aiodynamo takes and returns the wire format: Binary as base64 both ways.
        answer = await client.send_request(action=operation, payload=json.loads(wire_json.encode(request)))
        return wire_json.with_bytes(answer)  # and Binary decoded, as the transports do

    return send


def _native(store: DynamoDBStore) -> NativeTransport:
    transport = store.transport
    inner = transport.inner if isinstance(transport, CountingTransport) else transport
    assert isinstance(inner, NativeTransport)
    return inner


async def time_calls(
    stores: Mapping[str, DynamoDBStore], table: str, per_round: int, rounds: int
) -> tuple[Timed, ...]:
    key = {"id": {"S": f"bench-call-{uuid.uuid4().hex[:8]}"}}
    item = {**key, "data": {"B": bytes(range(256)) * 4}, "ver": {"N": "0"}}
    versions = {label: 0 for label in stores}
    first = next(iter(stores.values()))
    await first.transport.call("PutItem", {"TableName": table, "Item": item})

    def get(store: DynamoDBStore) -> Callable[[], Awaitable[None]]:
        async def one() -> None:
            await store.transport.call("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})

        return one

    def put(label: str, store: DynamoDBStore) -> Callable[..., Awaitable[None]]:
        async def one(send: Sender | None = None) -> None:
            # Each transport writes its own item, so its expected version is always current.
            version = versions[label]
            versions[label] = version + 1
            await (send or store.transport.call)(
                "PutItem",
                {
                    "TableName": table,
                    "Item": {
                        **item,
                        "id": {"S": f"{key['id']['S']}-{label}"},
                        "ver": {"N": str(version + 1)},
                    },
                    "ConditionExpression": "attribute_not_exists(#v) OR #v = :v",
                    "ExpressionAttributeNames": {"#v": "ver"},
                    "ExpressionAttributeValues": {":v": {"N": str(version)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
            )

        return one

    work: dict[tuple[str, str], Callable[[], Awaitable[None]]] = {}
    for label, store in stores.items():
        work[(label, "GetItem")] = get(store)
        work[(label, "PutItem")] = put(label, store)
    await work[(NATIVE, "GetItem")]()  # resolves the native transport's settings
    settings = _native(stores[NATIVE]).settings
    assert settings is not None
    credentials = await settings.credentials.get()
    get_request = {"TableName": table, "Key": key, "ConsistentRead": True}
    body = wire_json.encode(get_request)
    headers = settings.signer.headers(credentials, "GetItem", body)
    timeout = aiohttp.ClientTimeout(sock_connect=settings.connect_timeout, sock_read=settings.read_timeout)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as http:

        async def raw() -> None:
            for attempt in (1, 2):
                try:
                    async with http.post(settings.url, data=body, headers=headers) as response:
                        await response.read()
                        return
                except aiohttp.ServerDisconnectedError:
                    # The server closed the idle keep-alive connection as it was reused (Node.js
                    # does after 5 s); the transports retry this too.
                    if attempt == 2:
                        raise

        work[(RAW, "GetItem")] = raw
        reference = _aiodynamo(http, settings.url, settings.region, credentials)
        if reference is not None:
            versions[AIODYNAMO] = 0
            put_item = put(AIODYNAMO, stores[NATIVE])

            async def reference_get() -> None:
                await reference("GetItem", get_request)

            async def reference_put() -> None:
                # The same request as the transports' PutItem, sent through aiodynamo instead.
                await put_item(reference)

            work[(AIODYNAMO, "GetItem")] = reference_get
            work[(AIODYNAMO, "PutItem")] = reference_put
        samples = await interleave(work, per_round, rounds)
    return tuple(
        Timed(label, operation, tuple(cpu), tuple(wall), {operation: 1.0})
        for (label, operation), (cpu, wall) in samples.items()
    )
