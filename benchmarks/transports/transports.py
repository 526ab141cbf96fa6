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
import typing
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import anyio
from starlette.applications import Starlette

from dynsession import DynamoDBStore
from dynsession.stores import transport as transport_module
from dynsession.testing import FakeClock

from ..harness import apps, dynamo, servers
from ..harness.driver import Browser, request
from . import tls, transport_calls
from .timing import CountingTransport, Timed, interleave
from .transport_calls import REDIS_PY, TLS, Endpoints, transport_label

BARE = "bare app (no session middleware)"
REDIS = "starsessions + RedisStore"
KINDS = {"read": "/read", "write": "/write"}  # read-only: one GetItem; modifying: GetItem + PutItem
OPERATIONS = ("GetItem", "PutItem")
_BROWSERS = 50


def transport_names() -> tuple[str, ...]:
    """The transports this install offers by name (``"auto"`` aside): boto3, and aiohttp or native."""
    choice = typing.get_args(transport_module.TransportChoice)
    literal = next(arg for arg in choice if typing.get_origin(arg) is typing.Literal)
    return tuple(name for name in typing.get_args(literal) if name != "auto")


TRANSPORTS = {transport_label(name): name for name in transport_names()}
BOTO3 = transport_label("boto3")
# The asynchronous transport under test: native once it exists, aiohttp before.
NATIVE = next(label for label, name in TRANSPORTS.items() if name != "boto3")


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
    # Instructions per call by callgrind, by (row, operation), where they were counted.
    instructions: Mapping[tuple[str, str], float] = field(default_factory=dict)
    instructions_note: str | None = None

    def request(self, name: str, kind: str) -> Timed | None:
        return next((row for row in self.requests if (row.name, row.kind) == (name, kind)), None)

    def call(self, name: str, operation: str) -> Timed | None:
        return next((row for row in self.calls if (row.name, row.kind) == (name, operation)), None)

    def ratio(self, name: str, other: str, kind: str) -> float | None:
        """CPU per request of ``name`` over ``other``'s for ``kind``, or None if either did not run."""
        mine, theirs = self.request(name, kind), self.request(other, kind)
        if mine is None or theirs is None:
            return None
        return mine.cpu_us / theirs.cpu_us

    def over_bare(self, name: str, other: str, kind: str) -> float | None:
        """CPU per request over the bare app's, ``name``'s divided by ``other``'s; None if one did not run."""
        mine, theirs, bare = self.request(name, kind), self.request(other, kind), self.request(BARE, kind)
        if mine is None or theirs is None or bare is None:
            return None
        return (mine.cpu_us - bare.cpu_us) / (theirs.cpu_us - bare.cpu_us)

    def call_ratio(self, name: str, other: str, operation: str) -> float | None:
        mine, theirs = self.call(name, operation), self.call(other, operation)
        return None if mine is None or theirs is None else mine.cpu_us / theirs.cpu_us


def run_transports(
    endpoint_url: str | None,
    *,
    requests_per_round: int,
    rounds: int,
    load_clients: int = 64,
    load_seconds: float = 2.0,
    name: str | None = None,
    counted_calls: int = 0,
    with_tls: bool = True,
) -> TransportsResult:
    """Measure against ``endpoint_url`` (default: ``python -m moto.server`` in its own process), and
    over TLS through stunnel and redis-server's TLS port where both are installed. With
    ``counted_calls``, also count each call row's instructions under callgrind."""
    with ExitStack() as stack:
        url = endpoint_url or stack.enter_context(servers.moto_server())
        stack.enter_context(dynamo.endpoint(url))
        client = dynamo.make_client(url)
        table = stack.enter_context(dynamo.session_table(client))
        unavailable: dict[str, str] = {}
        redis_url = None
        why = servers.redis_unavailable()
        if why is None:
            redis_url = stack.enter_context(servers.redis_server())
        else:
            unavailable[REDIS] = unavailable[REDIS_PY] = why
        endpoints = Endpoints(url, table, redis_url)
        if with_tls:
            endpoints = tls.with_tls(stack, endpoints, unavailable, redis_row=REDIS + TLS)
        sizes = (requests_per_round, rounds, load_clients, load_seconds)
        requests, calls, load = anyio.run(_measure, endpoints, *sizes)
        instructions, note = transport_calls.count_calls(endpoints, TRANSPORTS, counted_calls)
    label = name or endpoint_url or "moto's server (`python -m moto.server`, its own process, 127.0.0.1)"
    return TransportsResult(
        label,
        requests_per_round,
        rounds,
        requests,
        calls,
        load,
        load_seconds,
        unavailable,
        instructions,
        note,
    )


@contextmanager
def _stores(endpoints: Endpoints, clock: FakeClock) -> Iterator[dict[str, DynamoDBStore]]:
    stores = {}
    prefix = f"x{uuid.uuid4().hex[:6]}:"
    urls = {"": endpoints.dynamodb}
    if endpoints.tls_dynamodb is not None:
        urls[TLS] = endpoints.tls_dynamodb
    for suffix, url in urls.items():
        for label, transport in TRANSPORTS.items():
            store = DynamoDBStore(
                endpoints.table,
                endpoint_url=url,
                region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                key_prefix=prefix,
                clock=clock,
                transport=transport,  # type: ignore[arg-type]  # a name this install accepts
                validate_on_startup=False,  # the benchmark made the table (dynalite has no TTL to check)
            )
            store.transport = CountingTransport(store.transport)
            stores[label + suffix] = store
    yield stores


async def _measure(
    endpoints: Endpoints, per_round: int, rounds: int, clients: int, seconds: float
) -> tuple[tuple[Timed, ...], tuple[Timed, ...], tuple[Load, ...]]:
    clock = FakeClock(int(time.time()))  # never moves: no read is ever due a TTL refresh
    with _stores(endpoints, clock) as stores:
        builders: dict[str, Callable[[], Starlette]] = {BARE: apps.baseline_app}
        for label, store in stores.items():
            builders[label] = lambda store=store: apps.dynsession_app(store, clock=clock)  # type: ignore[misc]
        redis_clients = []
        if endpoints.redis is not None:
            from redis.asyncio import Redis

            redis = Redis.from_url(endpoints.redis)
            redis_clients.append(redis)
            builders[REDIS] = lambda: apps.starsessions_redis_app(redis)
            if endpoints.tls_redis is not None:
                secure = Redis.from_url(endpoints.tls_redis, ssl_ca_certs=endpoints.ca_bundle)
                redis_clients.append(secure)
                builders[REDIS + TLS] = lambda: apps.starsessions_redis_app(secure)
        prepared = {
            label: (build(), [Browser() for _ in range(_BROWSERS)]) for label, build in builders.items()
        }
        for app, browsers in prepared.values():
            for browser in browsers:
                await _ok(app, "/seed", browser)
        for store in stores.values():
            _counter(store).calls.clear()
        requests = await _time_requests(prepared, stores, per_round, rounds)
        calls = await transport_calls.time_calls(endpoints, TRANSPORTS, per_round, rounds)
        load = [
            await _load(label, prepared[label][0], stores[label], clients, seconds) for label in TRANSPORTS
        ]
        for store in stores.values():
            await store.aclose()
        for client in redis_clients:
            await client.aclose()
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
