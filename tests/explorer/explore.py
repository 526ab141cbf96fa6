"""Running a scenario over many schedules: exhaustively, by seeded sampling, or one replayed
schedule; collecting every failing schedule with its invariant violations.

Environment (all optional):
``DYNSESSION_EXPLORER_REPLAY="<scenario>=<schedule>"``
    run only that schedule of that scenario (the schedule as a failure prints it: actor names).
``DYNSESSION_EXPLORER_SEED=<int>``
    the seed of the sampled scenarios (a random one otherwise, printed with every failure).
``DYNSESSION_EXPLORER_SAMPLES=<int>``
    how many schedules a sampled scenario draws (default: each scenario's own figure).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dynsession._users import ending
from dynsession.testing import FakeClock

from .invariants import check
from .scenario import Scenario, run_schedule
from .scheduler import Chooser, Exhaustive, Replay, Sampled

_SHOWN = 3


@dataclass
class Failure:
    schedule: str
    described: str
    problems: list[str]


@dataclass
class Report:
    """What exploring one scenario on one store found."""

    scenario: str
    store: str
    mode: str
    schedules: int = 0
    distinct: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    first_failure: int | None = None
    failures: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        found = "" if not self.failures else f", {len(self.failures)} failing (first: #{self.first_failure})"
        return (
            f"explorer {self.store} {self.scenario}: {self.schedules} schedules "
            f"({self.distinct} distinct, {self.mode}) in {self.seconds:.2f}s ({self.cpu:.2f}s CPU){found}"
        )

    def message(self) -> str:
        lines = [self.summary()]
        for failure in self.failures[:_SHOWN]:
            lines.append(f"  schedule: {failure.described}")
            lines += [f"    {problem}" for problem in failure.problems]
            lines.append(
                f"    replay: DYNSESSION_EXPLORER_REPLAY='{self.scenario}={failure.schedule}' pytest "
                f"tests/explorer -k '{self.scenario}'"
            )
        return "\n".join(lines)


async def _no_wait(attempt: int) -> None:
    await asyncio.sleep(0)


def replay_request(scenario: str) -> list[str] | None:
    """The schedule DYNSESSION_EXPLORER_REPLAY asks for this scenario, if any."""
    wanted = os.environ.get("DYNSESSION_EXPLORER_REPLAY", "")
    name, _, schedule = wanted.partition("=")
    return schedule.split() if name.strip() == scenario else None


def seed() -> int:
    """DYNSESSION_EXPLORER_SEED, or a fresh random seed."""
    given = os.environ.get("DYNSESSION_EXPLORER_SEED")
    return int(given) if given else random.randrange(2**32)


async def explore(
    scenario: Scenario,
    store_name: str,
    fresh_store: Callable[[], Any],
    clock: FakeClock,
    *,
    samples: int | None = None,
) -> Report:
    """Every schedule of ``scenario`` (or ``samples`` seeded random ones) on stores from
    ``fresh_store`` (whose clock is ``clock``); the report lists each failing schedule."""
    replay = replay_request(scenario.name)
    chooser: Chooser
    if replay is not None:
        chooser, mode, count = Replay(replay), "replayed", 1
    elif samples is None:
        chooser, mode, count = Exhaustive(), "exhaustive", 0
    else:
        count = int(os.environ.get("DYNSESSION_EXPLORER_SAMPLES", samples))
        chosen_seed = seed()
        chooser, mode = Sampled(chosen_seed), f"sampled, seed {chosen_seed}"
    report = Report(scenario.name, store_name, mode)
    seen: set[str] = set()
    started, cpu = time.perf_counter(), time.process_time()

    async def once() -> None:
        outcome = await run_schedule(scenario, fresh_store(), clock, chooser)
        report.schedules += 1
        schedule = outcome.run.schedule()
        seen.add(schedule)
        problems = await check(outcome)
        await outcome.clean_up()
        if problems:
            if report.first_failure is None:
                report.first_failure = report.schedules
            report.failures.append(Failure(schedule, outcome.run.describe(), problems))

    # A retry's randomised backoff is a timer, so the order of the retry against the other calls
    # would depend on timing; with no wait, the scheduler decides that order like every other.
    backoff, ending.backoff = ending.backoff, _no_wait
    try:
        if isinstance(chooser, Exhaustive):
            for _ in chooser.runs():
                await once()
        else:
            for _ in range(count):
                await once()
    finally:
        ending.backoff = backoff
    report.distinct = len(seen)
    report.seconds = time.perf_counter() - started
    report.cpu = time.process_time() - cpu
    return report
