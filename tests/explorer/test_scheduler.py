"""The scheduler itself: exhaustive enumeration takes every interleaving once, a seed repeats its
schedules, a replay follows the schedule given, and a stuck actor is reported."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from math import comb

import pytest

from .scheduler import Chooser, Exhaustive, Replay, Run, Sampled, ScheduleError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def stepper(run: Run, name: str, steps: int, log: list[str]) -> Callable[[], Awaitable[None]]:
    async def body() -> None:
        for step in range(steps):
            await run.gate("call", str(step))
            log.append(f"{name}{step}")

    return body


async def one_run(chooser: Chooser, sizes: dict[str, int]) -> tuple[str, list[str]]:
    run, log = Run(chooser), list[str]()
    for name, steps in sizes.items():
        run.add(name, stepper(run, name, steps, log))
    await run.execute()
    assert all(actor.done and actor.error is None for actor in run.actors)
    return run.schedule(), log


async def test_exhaustive_takes_every_interleaving_once() -> None:
    chooser, schedules = Exhaustive(), []
    for _ in chooser.runs():
        schedule, log = await one_run(chooser, {"A": 2, "B": 3, "C": 1})
        # Each released call completes before the next one is chosen: the log is the schedule.
        assert " ".join(entry[0] for entry in log) == schedule
        schedules.append(schedule)
    assert len(schedules) == len(set(schedules)) == comb(6, 2) * comb(4, 3)


async def test_a_seed_repeats_its_schedules_and_a_replay_follows_one() -> None:
    first = [(await one_run(chooser, {"A": 3, "B": 3}))[0] for chooser in [Sampled(7)] * 5]
    again = [(await one_run(chooser, {"A": 3, "B": 3}))[0] for chooser in [Sampled(7)] * 5]
    assert first == again and len(set(first)) > 1
    schedule, _ = await one_run(Replay(first[0].split()), {"A": 3, "B": 3})
    assert schedule == first[0]
    with pytest.raises(ScheduleError, match="not waiting"):
        await one_run(Replay(["A", "A", "A", "A"]), {"A": 3, "B": 3})


async def test_an_actor_stuck_outside_the_store_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.explorer.scheduler._STEP_TIMEOUT", 0.05)
    run = Run(Exhaustive())

    async def stuck() -> None:
        await run.gate("call")
        await run.gate("call")

    async def waits_elsewhere() -> None:
        await asyncio.Event().wait()  # something no store call will ever set

    run.add("A", stuck)
    run.add("B", waits_elsewhere)
    with pytest.raises(ScheduleError, match=r"stuck outside the store: \['B'\]"):
        await run.execute()
