"""The scheduler itself: exhaustive enumeration takes every interleaving once, a seed repeats its
schedules, a replay follows the schedule given, and a stuck actor is reported."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from math import comb
from typing import Any

import anyio
import pytest

from .scheduler import Chooser, Exhaustive, Replay, Run, Sampled, ScheduleError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def stepper(run: Run, name: str, steps: int, log: list[str]) -> Callable[[], Coroutine[Any, Any, None]]:
    async def body() -> None:
        for step in range(steps):
            async with run.step("call", f"{name}{step}"):
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


def fan_out(run: Run, log: list[str]) -> Callable[[], Awaitable[None]]:
    """An actor that starts two tasks, making two calls and one."""

    async def body() -> None:
        async with anyio.create_task_group() as group:
            for name, steps in (("y", 1), ("x", 2)):
                group.start_soon(stepper(run, name, steps, log))

    return body


async def test_the_tasks_an_actor_starts_are_scheduled_each_on_its_own() -> None:
    chooser, schedules = Exhaustive(), set()
    for _ in chooser.runs():
        run, log = Run(chooser), list[str]()
        run.add("X", fan_out(run, log))
        run.add("B", stepper(run, "B", 1, log))
        await run.execute()
        schedules.add(run.schedule())
    # X.1 makes two calls, X.2 and B one each: 4! / 2! orders.
    assert len(schedules) == 12 and "X.x0 X.y0 B X.x0" in schedules


async def test_an_actor_stuck_outside_the_store_is_reported() -> None:
    run = Run(Exhaustive())

    async def stuck() -> None:
        for _ in range(2):
            async with run.step("call"):
                pass

    async def waits_elsewhere() -> None:
        await asyncio.Event().wait()  # something no store call will ever set

    run.add("A", stuck)
    run.add("B", waits_elsewhere)
    with pytest.raises(ScheduleError, match=r"stuck outside the store: \['B'\]"):
        await run.execute()
