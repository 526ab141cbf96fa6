"""A clock the benchmarks move by hand, so idle timeouts and refreshes happen on cue."""

from __future__ import annotations

START = 1_800_000_000


class FakeClock:
    """Integer epoch seconds that only move when told to."""

    def __init__(self, now: int = START) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds
