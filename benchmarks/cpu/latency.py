"""Sections 4 and 5: the event loop stays free while the store is slow, and throughput follows
the store's concurrency limit. The store is MemoryStore behind a wrapper that blocks a worker
thread for a fixed time before each call, as a remote store does."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import anyio.to_thread
from starlette.applications import Starlette

from dynsession import MemoryStore, MovedRecord, SessionRecord

from ..harness import apps
from ..harness.driver import Browser, request


class LatencyStore:
    """A SessionStore whose every call first blocks a worker thread for ``latency`` seconds, at most
    ``limiter_size`` at once (as DynamoDBStore's boto3 calls do). With ``on_event_loop`` it blocks
    the event loop itself instead: the mistake the probe exists to catch."""

    def __init__(
        self,
        latency: float,
        limiter_size: int,
        *,
        inner: MemoryStore | None = None,
        on_event_loop: bool = False,
    ) -> None:
        self.inner = MemoryStore() if inner is None else inner
        self.latency = latency
        self.limiter = anyio.CapacityLimiter(limiter_size)
        self.on_event_loop = on_event_loop

    async def _wait(self) -> None:
        if self.on_event_loop:
            time.sleep(self.latency)
            # Still yield once, as any real request does somewhere, so other tasks get a turn.
            await anyio.sleep(0)
            return
        await anyio.to_thread.run_sync(time.sleep, self.latency, limiter=self.limiter)

    async def load(self, key: str) -> SessionRecord | MovedRecord | None:
        await self._wait()
        return await self.inner.load(key)

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        await self._wait()
        await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        await self._wait()
        return await self.inner.touch(key, expires)

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        await self._wait()
        if expected_version is None:
            await self.inner.delete(key)
        else:
            await self.inner.delete(key, expected_version=expected_version)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True, slots=True)
class BlockingResult:
    latency_ms: float
    sessions: int
    probes_idle: tuple[float, ...]  # ms, probe alone
    probes_loaded: tuple[float, ...]  # ms, probe beside the session traffic
    session_requests: int
    probes_control: tuple[float, ...]  # ms, beside the same traffic on a store blocking the loop

    def p(self, loaded: bool, fraction: float) -> float:
        return percentile(self.probes_loaded if loaded else self.probes_idle, fraction)

    @property
    def p99_increase_ms(self) -> float:
        return self.p(True, 0.99) - self.p(False, 0.99)


def run_blocking(
    *, phase_seconds: float, phases: int, sessions: int = 32, latency: float = 0.05
) -> BlockingResult:
    """Probe a session-free endpoint every 10 ms, alternating phases with and without
    ``sessions`` concurrent session requests against a store ``latency`` seconds slow; then one
    control phase whose store blocks the event loop, to show the probe would notice."""
    return anyio.run(_blocking, phase_seconds, phases, sessions, latency)


async def _seed(app: Starlette, browsers: Sequence[Browser]) -> None:
    async with anyio.create_task_group() as tg:
        for browser in browsers:
            tg.start_soon(request, app, "/seed", browser)


async def _blocking(phase_seconds: float, phases: int, sessions: int, latency: float) -> BlockingResult:
    store = LatencyStore(latency, limiter_size=sessions)
    app = apps.dynsession_app(store)
    browsers = [Browser() for _ in range(sessions)]
    await _seed(app, browsers)
    # The control app shares the sessions but its store sleeps on the event loop.
    control_app = apps.dynsession_app(LatencyStore(latency, sessions, inner=store.inner, on_event_loop=True))
    idle: list[float] = []
    loaded: list[float] = []
    control: list[float] = []
    served = 0

    async def user(app: Starlette, browser: Browser, stop: anyio.Event) -> None:
        nonlocal served
        count = 0
        while not stop.is_set():
            await request(app, "/write" if count % 10 == 0 else "/read", browser)
            count += 1
            served += app is not control_app

    for phase in range(2 * phases + 1):
        busy = phase % 2 == 1
        is_control = phase == 2 * phases
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            if busy or is_control:
                for browser in browsers:
                    tg.start_soon(user, control_app if is_control else app, browser, stop)
            await _probe(app, phase_seconds, control if is_control else loaded if busy else idle)
            stop.set()
    return BlockingResult(latency * 1000, sessions, tuple(idle), tuple(loaded), served, tuple(control))


async def _probe(app: Starlette, seconds: float, into: list[float]) -> None:
    """Every 10 ms, time from the tick the probe was due to its response: lateness included."""
    start = time.perf_counter()
    tick = 0
    while (due := start + tick * 0.01) < start + seconds:
        await anyio.sleep(max(0.0, due - time.perf_counter()))
        await request(app, "/probe")
        into.append((time.perf_counter() - due) * 1000)
        # A probe that fell behind skips the ticks it missed instead of firing a burst.
        tick = max(tick + 1, int((time.perf_counter() - start) / 0.01))


@dataclass(frozen=True, slots=True)
class ThroughputPoint:
    limiter_size: int
    clients: int
    requests_per_second: float

    def bound(self, latency: float) -> float:
        """Requests/s if the store's limiter were the only limit: min(clients, size) / latency."""
        return min(self.clients, self.limiter_size) / latency


@dataclass(frozen=True, slots=True)
class ThroughputResult:
    latency_ms: float
    points: tuple[ThroughputPoint, ...]

    def at(self, limiter_size: int, clients: int) -> ThroughputPoint:
        return next(p for p in self.points if (p.limiter_size, p.clients) == (limiter_size, clients))

    @property
    def limiter_sizes(self) -> list[int]:
        return sorted({p.limiter_size for p in self.points})

    @property
    def client_counts(self) -> list[int]:
        return sorted({p.clients for p in self.points})


def run_throughput(
    *,
    seconds: float,
    limiter_sizes: Sequence[int] = (4, 16, 64),
    client_counts: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
    latency: float = 0.005,
) -> ThroughputResult:
    """Read-only session requests (one store call each) from N concurrent clients, for every
    limiter size, interleaved: each client count runs every limiter size before the next count."""
    return anyio.run(_throughput, seconds, limiter_sizes, client_counts, latency)


async def _throughput(
    seconds: float, limiter_sizes: Sequence[int], client_counts: Sequence[int], latency: float
) -> ThroughputResult:
    most = max(client_counts)
    stacks = []
    for size in limiter_sizes:
        app = apps.dynsession_app(LatencyStore(latency, size))
        browsers = [Browser() for _ in range(most)]
        await _seed(app, browsers)
        stacks.append((size, app, browsers))
    points = []
    for clients in client_counts:
        for size, app, browsers in stacks:
            points.append(ThroughputPoint(size, clients, await _drive(app, browsers[:clients], seconds)))
    return ThroughputResult(latency * 1000, tuple(points))


async def _drive(app: Starlette, browsers: Sequence[Browser], seconds: float) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(browser: Browser) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await request(app, "/read", browser)
            done += 1

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for browser in browsers:
            tg.start_soon(client, browser)
    return done / (time.perf_counter() - started)
