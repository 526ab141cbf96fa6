"""Timing helpers for section 6: interleaved rounds of CPU and wall time, and a call counter."""

from __future__ import annotations

import gc
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dynsession.stores.transport import Transport


class CountingTransport:
    """Counts the calls a store makes by ``(tag, operation)``, passing each to the real transport;
    the benchmark sets ``tag`` to the kind of request being made."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.tag = ""
        self.calls: Counter[tuple[str, str]] = Counter()

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        self.calls[(self.tag, operation)] += 1
        return await self.inner.call(operation, request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True, slots=True)
class Timed:
    """Medians over the rounds of CPU and wall µs per request (or call); ``cpu`` keeps every round."""

    name: str
    kind: str
    cpu: tuple[float, ...]
    wall: tuple[float, ...]
    calls_per_request: Mapping[str, float]

    @property
    def cpu_us(self) -> float:
        return statistics.median(self.cpu)

    @property
    def wall_us(self) -> float:
        return statistics.median(self.wall)


async def interleave(
    work: Mapping[tuple[str, str], Callable[[], Awaitable[None]]], count: int, rounds: int
) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """Run each piece of work ``count`` times per round, rotating the order; round 0 warms up."""
    samples: dict[tuple[str, str], tuple[list[float], list[float]]] = {key: ([], []) for key in work}
    keys = list(work)
    for number in range(rounds + 1):
        shift = number % len(keys)
        for key in keys[shift:] + keys[:shift]:
            step = work[key]
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(count):
                await step()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if number:
                samples[key][0].append(cpu / count * 1e6)
                samples[key][1].append(wall / count * 1e6)
    return samples
