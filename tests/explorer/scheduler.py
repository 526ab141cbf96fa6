"""One seeded scheduler decides the order of every store call of a set of concurrent actors.

Each actor (an HTTP request, an admin job, the clock) runs as its own task until it reaches a
gated store call (see :mod:`tests.explorer.gated`), where it stops and waits. When every actor is
waiting or finished, the scheduler lets exactly one of them through; the call runs to completion
and the actor runs on to its next call or its end. The order chosen is the schedule: the list of
actor names, one per released call, which replays the run exactly.

A :class:`Chooser` picks the actor at each point: :class:`Exhaustive` enumerates every schedule
depth first (stateless, like CHESS: each run replays a prefix and then takes the first choice),
:class:`Sampled` draws each choice from a seeded random generator, :class:`Replay` follows a given
schedule.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

# How long an actor may take between being released and reaching its next store call or its end.
# Only real I/O (one DynamoDB call on loopback) happens in between: a stuck actor is a deadlock.
_STEP_TIMEOUT = 30.0

_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("explorer_actor", default=None)


class ScheduleError(AssertionError):
    """The run could not follow its schedule: a replayed actor was not waiting, or an actor hung."""


@dataclass
class Step:
    """One released call: which actor made it, the store method, and a short label of its key."""

    actor: str
    call: str
    target: str = ""

    def __str__(self) -> str:
        return f"{self.actor}:{self.call}({self.target})" if self.target else f"{self.actor}:{self.call}"


@dataclass
class Actor:
    """One concurrent participant. ``finished_at`` is the number of steps released when it ended."""

    name: str
    body: Callable[[], Awaitable[None]]
    pending: Step | None = None
    release: asyncio.Future[None] | None = None
    done: bool = False
    finished_at: int = -1
    error: BaseException | None = None


class Chooser:
    """Picks the index of the actor to release among those waiting (in the scenario's actor order)."""

    def choose(self, waiting: list[str]) -> int:
        raise NotImplementedError


class Exhaustive(Chooser):
    """Depth-first enumeration: :meth:`runs` yields once per schedule until all have been taken."""

    def __init__(self) -> None:
        self._prefix: list[int] = []
        self._taken: list[tuple[int, int]] = []

    def choose(self, waiting: list[str]) -> int:
        depth = len(self._taken)
        index = self._prefix[depth] if depth < len(self._prefix) else 0
        if index >= len(waiting):
            raise ScheduleError("the runs of one scenario did not branch the same way (nondeterminism)")
        self._taken.append((index, len(waiting)))
        return index

    def runs(self) -> Iterator[None]:
        while True:
            self._taken = []
            yield
            while self._taken and self._taken[-1][0] + 1 == self._taken[-1][1]:
                self._taken.pop()
            if not self._taken:
                return
            last, _ = self._taken.pop()
            self._prefix = [index for index, _ in self._taken] + [last + 1]


class Sampled(Chooser):
    """Every choice drawn from one seeded generator: the same seed gives the same schedules."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._random = random.Random(seed)

    def choose(self, waiting: list[str]) -> int:
        return self._random.randrange(len(waiting))


class Replay(Chooser):
    """Follows a schedule given as actor names; any actor once the names run out."""

    def __init__(self, names: list[str]) -> None:
        self._names = list(names)
        self._at = 0

    def choose(self, waiting: list[str]) -> int:
        if self._at >= len(self._names):
            return 0
        name = self._names[self._at]
        self._at += 1
        if name not in waiting:
            raise ScheduleError(f"step {self._at}: {name} is not waiting (waiting: {', '.join(waiting)})")
        return waiting.index(name)


@dataclass
class Run:
    """One execution of a scenario under a chooser. Store wrappers call :meth:`gate` around every call."""

    chooser: Chooser
    actors: list[Actor] = field(default_factory=list)
    trace: list[Step] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        self.actors.append(Actor(name, body))

    def label(self, key: str) -> str:
        """A short stable name for a store key in this run: k1, k2, ... in order of first use."""
        return self.labels.setdefault(key, f"k{len(self.labels) + 1}")

    async def gate(self, call: str, target: str = "") -> None:
        """Stop the calling actor here until the scheduler releases it (no-op outside an actor)."""
        actor = _current.get()
        if actor is None:
            return
        actor.release = asyncio.get_running_loop().create_future()
        actor.pending = Step(actor.name, call, target)
        self._changed.set()
        await actor.release

    async def execute(self) -> None:
        """Run every actor to its end, releasing one store call at a time. Raises ScheduleError."""
        tasks = [asyncio.create_task(self._run(actor)) for actor in self.actors]
        try:
            await self._settle()
            while True:
                waiting = [actor for actor in self.actors if actor.pending is not None]
                if not waiting:
                    return
                chosen = waiting[self.chooser.choose([actor.name for actor in waiting])]
                assert chosen.pending is not None and chosen.release is not None
                self.trace.append(chosen.pending)
                chosen.pending = None
                chosen.release.set_result(None)
                await self._settle()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, actor: Actor) -> None:
        _current.set(actor)
        try:
            await actor.body()
        except Exception as exc:  # reported by the invariants as a request that raised
            actor.error = exc
        finally:
            actor.done = True
            actor.finished_at = len(self.trace)
            self._changed.set()

    async def _settle(self) -> None:
        """Wait until every actor is stopped at a gate or finished."""
        while not all(actor.done or actor.pending is not None for actor in self.actors):
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), _STEP_TIMEOUT)
            except asyncio.TimeoutError:
                running = [a.name for a in self.actors if not a.done and a.pending is None]
                raise ScheduleError(f"actors stuck outside the store: {running}") from None

    def schedule(self) -> str:
        """The schedule as actor names, the form DYNSESSION_EXPLORER_REPLAY takes."""
        return " ".join(step.actor for step in self.trace)

    def describe(self) -> str:
        """The schedule with each step's call and key label, for reading a failure."""
        return " ".join(map(str, self.trace))
