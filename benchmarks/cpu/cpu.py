"""Section 3: middleware CPU per request, in-process, dynsession against the alternatives."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from starlette.applications import Starlette

from dynsession import MemoryStore

from ..harness import apps, callgrind
from ..harness.driver import Browser, request

BASELINE = "no session middleware"
DYNSESSION = "dynsession (MemoryStore)"
EVENTUAL = "dynsession, eventually consistent reads (MemoryStore)"
STARLETTE = "Starlette SessionMiddleware (cookie)"
STARSESSIONS = "starsessions (InMemoryStore)"
_BROWSERS = 50
# The variants whose instructions are counted, by the name ``python -m benchmarks.counted cpu`` takes.
COUNTED = {
    "baseline": BASELINE,
    "dynsession": DYNSESSION,
    "starlette": STARLETTE,
    "starsessions": STARSESSIONS,
}
WRITE_EVERY = 10  # one request in ten writes a key


@dataclass(frozen=True, slots=True)
class CpuRow:
    name: str
    median_us: float  # CPU µs per request (process CPU time, not wall time), median over rounds
    samples: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class CpuResult:
    rows: tuple[CpuRow, ...]
    requests_per_round: int
    rounds: int
    unavailable: dict[str, str]  # variant -> why it could not be measured
    # Instructions per request by callgrind (see benchmarks.harness.callgrind), where they were counted.
    instructions: dict[str, float] = field(default_factory=dict)
    instructions_note: str | None = None  # why they were not, if they were not

    def median(self, name: str) -> float:
        return next(row.median_us for row in self.rows if row.name == name)

    def overhead(self, name: str) -> float:
        """µs per request over the app with no session middleware."""
        return self.median(name) - self.median(BASELINE)

    def ratio(self, name: str, other: str) -> float:
        return self.overhead(name) / self.overhead(other)

    def has(self, name: str) -> bool:
        return any(row.name == name for row in self.rows)

    def instructions_over(self, name: str) -> float | None:
        """Instructions per request over the app with no session middleware, if counted."""
        if name not in self.instructions or BASELINE not in self.instructions:
            return None
        return self.instructions[name] - self.instructions[BASELINE]

    def instructions_ratio(self, name: str, other: str) -> float | None:
        mine, theirs = self.instructions_over(name), self.instructions_over(other)
        return None if mine is None or not theirs else mine / theirs


def variants() -> tuple[dict[str, Callable[[], Starlette]], dict[str, str]]:
    """The apps to compare, and the ones that cannot run here with the reason."""
    builders: dict[str, Callable[[], Starlette]] = {
        BASELINE: apps.baseline_app,
        DYNSESSION: lambda: apps.dynsession_app(MemoryStore()),
        EVENTUAL: lambda: apps.dynsession_app(MemoryStore(), eventually_consistent=True),
        STARLETTE: apps.starlette_cookie_app,
    }
    unavailable: dict[str, str] = {}
    try:
        anyio.run(_check, apps.starsessions_app())
        builders[STARSESSIONS] = apps.starsessions_app
    except Exception as exc:  # any failure means "not comparable on this install"
        unavailable[STARSESSIONS] = f"{type(exc).__name__}: {exc}"
    return builders, unavailable


async def _check(app: Starlette) -> None:
    browser = Browser()
    for path in ("/write", "/read", "/write"):
        reply = await request(app, path, browser)
        if reply.status != 200 or browser.cookie is None:
            raise RuntimeError(f"{path} answered {reply.status} without a session cookie")


def run_cpu(*, requests_per_round: int, rounds: int, counted_requests: int = 0) -> CpuResult:
    """Interleave the variants round by round in one process; report each one's median. With
    ``counted_requests``, also count each variant's instructions per request under callgrind."""
    builders, unavailable = variants()
    samples = anyio.run(_measure, builders, requests_per_round, rounds)
    rows = tuple(CpuRow(name, statistics.median(values), tuple(values)) for name, values in samples.items())
    instructions, note = count_instructions(counted_requests, unavailable)
    return CpuResult(rows, requests_per_round, rounds, unavailable, instructions, note)


def count_instructions(requests: int, unavailable: dict[str, str]) -> tuple[dict[str, float], str | None]:
    """Instructions per request of each variant that runs here (``requests`` counted per variant),
    or why none were counted."""
    if requests <= 0:
        return {}, "not counted in this run"
    why = callgrind.unavailable()
    if why is not None:
        return {}, why
    workloads = {name: ["cpu", variant] for variant, name in COUNTED.items() if name not in unavailable}
    return callgrind.per_unit(workloads, count=requests), None


async def _measure(
    builders: dict[str, Callable[[], Starlette]], requests_per_round: int, rounds: int
) -> dict[str, list[float]]:
    prepared = {}
    for name, build in builders.items():
        app = build()
        browsers = [Browser() for _ in range(_BROWSERS)]
        for browser in browsers:  # every user already has a session, as on a warm site
            await request(app, "/write", browser)
        prepared[name] = (app, browsers)
    samples: dict[str, list[float]] = {name: [] for name in builders}
    names = list(builders)
    for number in range(rounds + 1):
        order = names[number % len(names) :] + names[: number % len(names)]
        for name in order:
            app, browsers = prepared[name]
            gc.collect()
            started = time.process_time_ns()
            for index in range(requests_per_round):
                path = "/write" if index % WRITE_EVERY == 0 else "/read"
                await request(app, path, browsers[index % _BROWSERS])
            elapsed = time.process_time_ns() - started
            if number:  # round 0 only warms up
                samples[name].append(elapsed / requests_per_round / 1000)
    return samples
