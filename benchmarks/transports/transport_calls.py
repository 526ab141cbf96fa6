"""Section 6, per call: each transport's ``call()`` alone, the floor client (the least a client can do
per DynamoDB call, see benchmarks.transports.floor) and redis-py's GET and SET of the same size, over plain
TCP and over TLS. The same callers run under callgrind (``python -m benchmarks.counted call``)."""

from __future__ import annotations

import os
import ssl
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from dynsession import DynamoDBStore
from dynsession.stores.transport.signer import Credentials

from ..harness import callgrind
from .floor import FloorClient
from .timing import Timed, interleave

if TYPE_CHECKING:
    from redis.asyncio import Redis

FLOOR = "floor: asyncio Protocol + dynsession's signer and JSON codec (reference)"
REDIS_PY = "redis-py asyncio"
TLS = ", over TLS"
OPERATIONS = ("GetItem", "PutItem")
REDIS_OPERATIONS = {"GetItem": "GET", "PutItem": "SET"}  # the Redis call a DynamoDB call stands beside
_VALUE = bytes(range(256)) * 4  # 1 KB, the session item's size
_WARM_UP = 20

Call = Callable[[str], Awaitable[None]]  # one call of an operation ("GetItem" or "PutItem")


def transport_label(name: str) -> str:
    return f"dynsession, transport='{name}'"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the servers listen; the ``tls_`` ones are ``None`` when the TLS rows do not run."""

    dynamodb: str
    table: str
    redis: str | None = None
    tls_dynamodb: str | None = None
    tls_redis: str | None = None
    ca_bundle: str | None = None  # the CA both TLS peers' certificates come from

    def environment(self) -> dict[str, str]:
        """These endpoints as environment variables, for a child process (see :func:`from_environment`)."""
        return {f"DYNSESSION_BENCH_{name.upper()}": value for name, value in _fields(self).items()}


def _fields(endpoints: Endpoints) -> dict[str, str]:
    names = ("dynamodb", "table", "redis", "tls_dynamodb", "tls_redis", "ca_bundle")
    return {name: value for name in names if (value := getattr(endpoints, name)) is not None}


def from_environment() -> Endpoints:
    get = os.environ.get
    return Endpoints(
        get("DYNSESSION_BENCH_DYNAMODB", ""),
        get("DYNSESSION_BENCH_TABLE", ""),
        get("DYNSESSION_BENCH_REDIS"),
        get("DYNSESSION_BENCH_TLS_DYNAMODB"),
        get("DYNSESSION_BENCH_TLS_REDIS"),
        get("DYNSESSION_BENCH_CA_BUNDLE"),
    )


def _region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def _requests(table: str, label: str) -> dict[str, Callable[[], dict[str, Any]]]:
    """GetItem of one 1 KB item, and a PutItem conditional on the version this caller wrote last."""
    key = {"id": {"S": f"bench-call-{uuid.uuid4().hex[:8]}-{label}"}}
    version = 0

    def get() -> dict[str, Any]:
        return {"TableName": table, "Key": key, "ConsistentRead": True}

    def put() -> dict[str, Any]:
        nonlocal version
        version += 1
        return {
            "TableName": table,
            "Item": {**key, "data": {"B": _VALUE}, "ver": {"N": str(version)}},
            "ConditionExpression": "attribute_not_exists(#v) OR #v = :v",
            "ExpressionAttributeNames": {"#v": "ver"},
            "ExpressionAttributeValues": {":v": {"N": str(version - 1)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    return {"GetItem": get, "PutItem": put}


class Callers:
    """Builds each row's caller and closes what they opened."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self._closers: list[Callable[[], Awaitable[Any]]] = []

    def _context(self) -> ssl.SSLContext | None:
        bundle = self.endpoints.ca_bundle
        return None if bundle is None else ssl.create_default_context(cafile=bundle)

    def dynamodb(self, row: str) -> Call:
        """``row`` is a transport's name or ``"floor"``, with ``"+tls"`` for the TLS endpoint."""
        name, _, tls = row.partition("+")
        url = self.endpoints.tls_dynamodb if tls else self.endpoints.dynamodb
        assert url is not None
        requests = _requests(self.endpoints.table, row)
        send: Callable[[str, Mapping[str, Any]], Awaitable[Any]]
        if name == "floor":
            credentials = Credentials(
                os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
                None,
            )
            floor = FloorClient(url, _region(), credentials, context=self._context())
            self._closers.append(floor.aclose)
            send = floor.call
        else:
            store = DynamoDBStore(
                self.endpoints.table,
                endpoint_url=url,
                region_name=_region(),
                transport=name,  # type: ignore[arg-type]  # a name this install accepts
                validate_on_startup=False,
            )
            self._closers.append(store.aclose)
            send = store.transport.call

        async def call(operation: str) -> None:
            await send(operation, requests[operation]())

        return call

    def redis(self, tls: bool) -> Call:
        from redis.asyncio import Redis

        url = self.endpoints.tls_redis if tls else self.endpoints.redis
        assert url is not None
        options: dict[str, Any] = {"ssl_ca_certs": self.endpoints.ca_bundle} if tls else {}
        client: Redis = Redis.from_url(url, **options)
        self._closers.append(client.aclose)
        key = f"bench-call-{uuid.uuid4().hex[:8]}"

        async def call(operation: str) -> None:
            if operation == "GetItem":
                await client.get(key)
            else:
                await client.set(key, _VALUE)

        return call

    async def aclose(self) -> None:
        for close in self._closers:
            await close()


def rows(endpoints: Endpoints, transports: Mapping[str, str]) -> dict[str, str]:
    """Row label -> caller spec (``Callers.dynamodb``'s ``row``, or ``redis``/``redis+tls``)."""
    found = {label: name for label, name in transports.items()}
    found[FLOOR] = "floor"
    if endpoints.redis is not None:
        found[REDIS_PY] = "redis"
    if endpoints.tls_dynamodb is not None:
        found.update({label + TLS: f"{name}+tls" for label, name in transports.items()})
        found[FLOOR + TLS] = "floor+tls"
    if endpoints.tls_redis is not None:
        found[REDIS_PY + TLS] = "redis+tls"
    return found


def _caller(callers: Callers, spec: str) -> Call:
    if spec.startswith("redis"):
        return callers.redis(spec.endswith("+tls"))
    return callers.dynamodb(spec)


async def time_calls(
    endpoints: Endpoints, transports: Mapping[str, str], per_round: int, rounds: int
) -> tuple[Timed, ...]:
    """Every row's calls, interleaved round by round in this process."""
    callers = Callers(endpoints)
    try:
        work: dict[tuple[str, str], Callable[[], Awaitable[None]]] = {}
        for label, spec in rows(endpoints, transports).items():
            call = _caller(callers, spec)
            await call("PutItem")  # the item exists before the first GetItem
            for operation in OPERATIONS:
                work[(label, operation)] = lambda call=call, operation=operation: call(operation)  # type: ignore[misc]
        samples = await interleave(work, per_round, rounds)
    finally:
        await callers.aclose()
    return tuple(
        Timed(label, operation, tuple(cpu), tuple(wall), {operation: 1.0})
        for (label, operation), (cpu, wall) in samples.items()
    )


def count_calls(
    endpoints: Endpoints, transports: Mapping[str, str], count: int
) -> tuple[dict[tuple[str, str], float], str | None]:
    """Instructions per call of every row and operation under callgrind, or why none were counted."""
    if count <= 0:
        return {}, "not counted in this run"
    why = callgrind.unavailable()
    if why is not None:
        return {}, why
    specs = rows(endpoints, transports)
    # Over TLS only GetItem: valgrind runs are slow, and TLS adds much the same to both operations.
    workloads = {
        (label, operation): ["call", spec, operation]
        for label, spec in specs.items()
        for operation in OPERATIONS
        if operation == "GetItem" or not spec.endswith("+tls")
    }
    named = {f"{label}|{operation}": arguments for (label, operation), arguments in workloads.items()}
    counted = callgrind.per_unit(named, count=count, env=endpoints.environment())
    return {tuple(name.split("|", 1)): value for name, value in counted.items()}, None  # type: ignore[misc]


def run_counted(spec: str, operation: str, count: int) -> None:
    """The child side of :func:`count_calls`: warm up, then two stretches of ``count`` calls."""

    async def main() -> None:
        callers = Callers(from_environment())
        try:
            call = _caller(callers, spec)
            await call("PutItem")
            for _ in range(_WARM_UP):
                await call(operation)
            callgrind.start()
            for _ in range(2):  # two equal stretches: callgrind.py reports the second
                for _ in range(count):
                    await call(operation)
                callgrind.stop()
        finally:
            await callers.aclose()

    anyio.run(main)
