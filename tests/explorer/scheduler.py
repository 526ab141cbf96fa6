"""One seeded scheduler decides the order of every store call of a set of concurrent actors.

Each actor (an HTTP request, an admin job, the clock) runs as its own task until it reaches a
gated store call (see :mod:`tests.explorer.gated`), where it stops and waits. When nothing can
run any more, the scheduler lets exactly one waiting call through; the call runs to completion
and its actor runs on to its next call or its end. The order chosen is the schedule: the list of
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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

# How long one released store call (one DynamoDB request on loopback) may take.
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
    done: bool = False
    finished_at: int = -1
    error: BaseException | None = None


@dataclass
class _Waiting:
    """A call stopped at the gate: by whom (an actor, or one of the tasks an actor started:
    revoking several sessions may end each in a task of its own), and its release."""

    who: str
    rank: tuple[int, str]
    step: Step
    release: asyncio.Future[None]


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
    """One execution of a scenario under a chooser. Store wrappers wrap every call in :meth:`step`.

    The run is settled when no task is runnable and no released call is in flight: every
    participant then waits at a gate, waits on another participant (a lock, a task group), or has
    finished. Only the asyncio event loop is supported (settling reads its queue of ready
    callbacks), and waits that are only timers (a retry's backoff) must be patched out, as
    :func:`tests.explorer.explore.explore` does, or a run would depend on timing.
    """

    chooser: Chooser
    actors: list[Actor] = field(default_factory=list)
    trace: list[Step] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    _waiting: list[_Waiting] = field(default_factory=list)
    _subtasks: dict[asyncio.Task[Any], tuple[str, tuple[int, str]]] = field(default_factory=dict)
    _in_flight: int = 0
    _landed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        self.actors.append(Actor(name, body))

    def label(self, key: str) -> str:
        """A short stable name for a store key in this run: the name given to it beforehand (a
        browser's session from setup), else k1, k2, ... in order of first use."""
        if key not in self.labels:
            self.labels[key] = f"k{sum(label.startswith('k') for label in self.labels.values()) + 1}"
        return self.labels[key]

    @asynccontextmanager
    async def step(self, call: str, target: str = "") -> AsyncIterator[None]:
        """Stop the calling task until the scheduler releases it, then run the block (the store
        call) as one step. Outside the run's actors (setup, checks) the block just runs."""
        actor = _current.get()
        if actor is None:
            yield
            return
        who, rank = self._identify(actor, target)
        release = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(who, rank, Step(who, call, target), release))
        await release
        try:
            yield
        finally:
            self._in_flight -= 1
            self._landed.set()

    def _identify(self, actor: Actor, target: str) -> tuple[str, tuple[int, str]]:
        """The actor's name, or for a task it started, ``<actor>.<the key of its first call>``:
        named by what it does, not by when it started, which can follow the order of random
        session keys (a user's sessions as the store lists them)."""
        index = self.actors.index(actor)
        task = asyncio.current_task()
        assert task is not None
        if task.get_name() == f"explorer-{actor.name}":
            return actor.name, (index, "")
        if task not in self._subtasks:
            taken = {name for name, _ in self._subtasks.values()}
            name = f"{actor.name}.{target or 'task'}"
            while name in taken:
                name += "'"
            self._subtasks[task] = (name, (index, name))
        return self._subtasks[task]

    async def execute(self) -> None:
        """Run every actor to its end, releasing one store call at a time. Raises ScheduleError."""
        tasks = [asyncio.create_task(self._run(a), name=f"explorer-{a.name}") for a in self.actors]
        try:
            await self._settle()
            while self._waiting:
                self._waiting.sort(key=lambda waiting: waiting.rank)
                chosen = self._waiting.pop(self.chooser.choose([w.who for w in self._waiting]))
                self.trace.append(chosen.step)
                self._in_flight += 1
                chosen.release.set_result(None)
                await self._settle()
            stuck = [actor.name for actor in self.actors if not actor.done]
            if stuck:
                raise ScheduleError(f"actors stuck outside the store: {stuck}")
        finally:
            # A run that failed leaves calls waiting: cancel them where they wait, so the tasks
            # an actor started end as well as the actors do.
            for waiting in self._waiting:
                waiting.release.cancel()
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

    async def _settle(self) -> None:
        """Return once no released call is in flight and no task is runnable."""
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready")  # noqa: B009 - the event loop's queue of runnable callbacks
        quiet = 0
        while quiet < 2:
            if self._in_flight:
                quiet = 0
                self._landed.clear()
                try:
                    await asyncio.wait_for(self._landed.wait(), _STEP_TIMEOUT)
                except asyncio.TimeoutError:
                    raise ScheduleError(f"a store call took over {_STEP_TIMEOUT}s") from None
                continue
            quiet = quiet + 1 if not ready else 0
            await asyncio.sleep(0)

    def schedule(self) -> str:
        """The schedule as participant names, the form DYNSESSION_EXPLORER_REPLAY takes."""
        return " ".join(step.actor for step in self.trace)

    def describe(self) -> str:
        """The schedule with each step's call and key label, for reading a failure."""
        return " ".join(map(str, self.trace))
