"""The soak's fault proxy: tests/faults.py's proxy with a seeded schedule, in a process of its own.

    python -m tests.soak.faults UPSTREAM SEED STALL_SECONDS

prints its URL on the first line of stdout, then faults the DynamoDB requests passing through it:
a base rate, and storms (a few seconds in which a large share of requests fail). SIGUSR1 turns
the faults off for good; SIGTERM prints the count of each fault injected (one JSON line) and exits.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from types import FrameType

from ..faults import CUTS, Fault, FaultProxy

# The sessions' own calls; an app's startup check (DescribeTable, DescribeTimeToLive) is left
# alone, so that a restarted app always comes up.
FAULTED = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"})
BASE_RATE = 0.04
STORM_RATE = 0.4
# How often each fault is drawn, relative to the others.
KINDS: dict[str, int] = {
    "delay": 18,
    "stall": 10,
    "drop": 10,
    "lost_reply": 14,
    "reset": 10,
    CUTS[0]: 14,
    CUTS[1]: 10,
    CUTS[2]: 14,
}


def storms(rng: random.Random, seconds: float) -> list[tuple[float, float]]:
    """``(start, length)`` of each storm in a run of ``seconds``: one every 8–15 s, 2–4 s long."""
    found: list[tuple[float, float]] = []
    start = rng.uniform(3.0, 8.0)
    while start < seconds:
        length = rng.uniform(2.0, 4.0)
        found.append((start, length))
        start += length + rng.uniform(8.0, 15.0)
    return found


@dataclass
class Schedule:
    """Decides each request's fault from one seeded generator (``FaultProxy.schedule``)."""

    seed: int
    stall: float
    started: float = field(default_factory=time.monotonic)
    on: bool = True
    ended: float | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"proxy-{self.seed}")
        self.storms = storms(random.Random(f"storms-{self.seed}"), 3600.0)
        self._lock = threading.Lock()

    def in_storm(self, now: float) -> bool:
        return any(start <= now < start + length for start, length in self.storms)

    def __call__(self, operation: str) -> Fault | None:
        if not self.on or operation not in FAULTED:
            return None
        rate = STORM_RATE if self.in_storm(time.monotonic() - self.started) else BASE_RATE
        with self._lock:
            self.counts["requests"] += 1
            if self._rng.random() >= rate:
                return None
            kind = self._rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
            delay = self._rng.uniform(0.05, 0.8)
            self.counts[kind] += 1
        if kind == "delay":
            return Fault(action="delay", seconds=delay)
        if kind == "stall":
            return Fault(action="silence", seconds=self.stall)
        return Fault(action=kind)


def main(upstream: str, seed: int, stall: float) -> None:
    proxy = FaultProxy(upstream)
    proxy.recording = False
    schedule = Schedule(seed, stall)
    proxy.schedule = schedule
    done = threading.Event()

    def faults_off(signum: int, frame: FrameType | None) -> None:
        schedule.on = False
        schedule.ended = time.monotonic()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGUSR1, faults_off)
    signal.signal(signal.SIGTERM, stop)
    print(proxy.url, flush=True)
    while not done.wait(0.2):
        pass
    print(json.dumps({**schedule.counts, "storms_started": _storms_by(schedule)}), flush=True)
    proxy.close()


def _storms_by(schedule: Schedule) -> int:
    elapsed = (schedule.ended or time.monotonic()) - schedule.started
    return sum(1 for start, _ in schedule.storms if start < elapsed)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
