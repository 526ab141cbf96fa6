"""Section 6: what a DynamoDB session request costs the client process with each transport, beside
starsessions with Redis and a bare app; per-call CPU of each transport; requests/s under load.

Every server (DynamoDB, Redis) runs in a process of its own, so ``time.process_time()`` counts only
the client: the app, the middleware, the store and its HTTP stack. Variants are interleaved round
by round in this one process and reported as medians, so ratios come from the same run.
"""

from __future__ import annotations

import gc
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Literal

import anyio
from starlette.applications import Starlette

from dynsession import DynamoDBStore
from dynsession.testing import FakeClock

from . import apps, dynamo, servers, transport_calls
from .driver import Browser, request
from .timing import CountingTransport, Timed, interleave

BARE = "bare app (no session middleware)"
BOTO3 = "dynsession, transport='boto3'"
NATIVE = transport_calls.NATIVE
RAW = transport_calls.RAW
AIODYNAMO = transport_calls.AIODYNAMO
REDIS = "starsessions + RedisStore"
TRANSPORTS: dict[str, Literal["boto3", "native"]] = {BOTO3: "boto3", NATIVE: "native"}
KINDS = {"read": "/read", "write": "/write"}  # read-only: one GetItem; modifying: GetItem + PutItem
OPERATIONS = ("GetItem", "PutItem")
_BROWSERS = 50


@dataclass(frozen=True, slots=True)
class Load:
    name: str
    clients: int
    requests_per_second: float
    cpu_us: float  # CPU µs per request under that load
    max_concurrency: int


@dataclass(frozen=True, slots=True)
class TransportsResult:
    endpoint: str
    requests_per_round: int
    rounds: int
    requests: tuple[Timed, ...]
    calls: tuple[Timed, ...]
    load: tuple[Load, ...]
    load_seconds: float
    unavailable: Mapping[str, str]

    def request(self, name: str, kind: str) -> Timed | None:
        return next((row for row in self.requests if (row.name, row.kind) == (name, kind)), None)

    def ratio(self, name: str, other: str, kind: str) -> float | None:
        """CPU per request of ``name`` over ``other``'s for ``kind``, or None if either did not run."""
        mine, theirs = self.request(name, kind), self.request(other, kind)
        if mine is None or theirs is None:
            return None
        return mine.cpu_us / theirs.cpu_us


def run_transports(
    endpoint_url: str | None,
    *,
    requests_per_round: int,
    rounds: int,
    load_clients: int = 64,
    load_seconds: float = 2.0,
    name: str | None = None,
) -> TransportsResult:
    """Measure against ``endpoint_url`` (default: ``python -m moto.server`` in its own process)."""
    with ExitStack() as stack:
        url = endpoint_url or stack.enter_context(servers.moto_server())
        stack.enter_context(dynamo.endpoint(url))
        client = dynamo.make_client(url)
        table = stack.enter_context(dynamo.session_table(client))
        unavailable = {}
        redis_url = None
        why = servers.redis_unavailable()
        if why is None:
            redis_url = stack.enter_context(servers.redis_server())
        else:
            unavailable[REDIS] = why
        why = transport_calls.aiodynamo_unavailable()
        if why is not None:
            unavailable[AIODYNAMO] = why
        sizes = (requests_per_round, rounds, load_clients, load_seconds)
        requests, calls, load = anyio.run(_measure, url, table, redis_url, *sizes)
    label = name or endpoint_url or "moto's server (`python -m moto.server`, its own process, 127.0.0.1)"
    return TransportsResult(
        label, requests_per_round, rounds, requests, calls, load, load_seconds, unavailable
    )


@contextmanager
def _stores(url: str, table: str, clock: FakeClock) -> Iterator[dict[str, DynamoDBStore]]:
    stores = {}
    prefix = f"x{uuid.uuid4().hex[:6]}:"
    for label, transport in TRANSPORTS.items():
        store = DynamoDBStore(
            table,
            endpoint_url=url,
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            key_prefix=prefix,
            clock=clock,
            transport=transport,
            validate_on_startup=False,  # the benchmark made the table (dynalite has no TTL to check)
        )
        store.transport = CountingTransport(store.transport)
        stores[label] = store
    yield stores


async def _measure(
    url: str, table: str, redis_url: str | None, per_round: int, rounds: int, clients: int, seconds: float
) -> tuple[tuple[Timed, ...], tuple[Timed, ...], tuple[Load, ...]]:
    clock = FakeClock(int(time.time()))  # never moves: no read is ever due a TTL refresh
    with _stores(url, table, clock) as stores:
        builders: dict[str, Callable[[], Starlette]] = {BARE: apps.baseline_app}
        for label, store in stores.items():
            builders[label] = lambda store=store: apps.dynsession_app(store, clock=clock)  # type: ignore[misc]
        redis = None
        if redis_url is not None:
            from redis.asyncio import Redis

            redis = Redis.from_url(redis_url)
            builders[REDIS] = lambda: apps.starsessions_redis_app(redis)
        prepared = {
            label: (build(), [Browser() for _ in range(_BROWSERS)]) for label, build in builders.items()
        }
        for app, browsers in prepared.values():
            for browser in browsers:
                await _ok(app, "/seed", browser)
        for store in stores.values():
            _counter(store).calls.clear()
        requests = await _time_requests(prepared, stores, per_round, rounds)
        calls = await transport_calls.time_calls(stores, table, per_round, rounds)
        load = [
            await _load(label, prepared[label][0], store, clients, seconds) for label, store in stores.items()
        ]
        for store in stores.values():
            await store.aclose()
        if redis is not None:
            await redis.aclose()
    return requests, calls, tuple(load)


async def _ok(app: Starlette, path: str, browser: Browser) -> None:
    reply = await request(app, path, browser)
    if reply.status != 200:
        raise RuntimeError(f"{path} answered {reply.status}")


async def _time_requests(
    prepared: Mapping[str, tuple[Starlette, list[Browser]]],
    stores: Mapping[str, DynamoDBStore],
    per_round: int,
    rounds: int,
) -> tuple[Timed, ...]:
    def step(label: str, kind: str) -> Callable[[], Awaitable[None]]:
        app, browsers = prepared[label]
        path = KINDS[kind]
        counter = _counter(stores[label]) if label in stores else None
        position = 0

        async def one() -> None:
            nonlocal position
            position += 1
            if counter is not None:
                counter.tag = kind
            await _ok(app, path, browsers[position % len(browsers)])

        return one

    work = {(label, kind): step(label, kind) for label in prepared for kind in KINDS}
    samples = await interleave(work, per_round, rounds)
    total = per_round * (rounds + 1)
    rows = []
    for (label, kind), (cpu, wall) in samples.items():
        calls: dict[str, float] = {}
        if label in stores:
            made = _counter(stores[label]).calls
            calls = {op: made[(kind, op)] / total for op in OPERATIONS if made[(kind, op)]}
        rows.append(Timed(label, kind, tuple(cpu), tuple(wall), calls))
    return tuple(rows)


def _counter(store: DynamoDBStore) -> CountingTransport:
    counter = store.transport
    assert isinstance(counter, CountingTransport)
    return counter


async def _load(label: str, app: Starlette, store: DynamoDBStore, clients: int, seconds: float) -> Load:
    """``clients`` concurrent browsers making read-only requests for ``seconds``."""
    browsers = [Browser() for _ in range(clients)]
    for browser in browsers:
        await _ok(app, "/seed", browser)
    done = 0
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    stop = wall + seconds

    async def client(browser: Browser) -> None:
        nonlocal done
        while True:  # at least one request each
            await _ok(app, "/read", browser)
            done += 1
            if time.perf_counter() >= stop:
                return

    async with anyio.create_task_group() as tg:
        for browser in browsers:
            tg.start_soon(client, browser)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Load(label, clients, done / wall, cpu / max(done, 1) * 1e6, store.max_concurrency)
