"""A scenario: browsers with sessions set up beforehand, the concurrent requests (and admin job,
and clock tick) whose store calls the scheduler interleaves, and one run of it under a chooser."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dynsession import revoke_user_sessions
from dynsession.testing import FakeClock

from .browser import Answer, build_app, call, handle_of, key_of
from .gated import GatedStore, LaggingReplica
from .scheduler import Chooser, Run

START = 1_800_000_000
RENEW_AFTER = 600
RENEW_GRACE = 30
REFRESH_DUE = 61  # past the default refresh_after (60 s for the default 30-minute idle timeout)
RENEWAL_DUE = RENEW_AFTER + 1

_users = itertools.count()


@dataclass(frozen=True)
class Browser:
    """A browser with a session from setup: ``keys`` stored as ``<name>.<key>``, optionally signed
    in as the scenario's user. ``<name>.seed`` marks the data as this browser's (its lineage)."""

    name: str
    keys: tuple[str, ...] = ("seed",)
    bound: bool = False


@dataclass(frozen=True)
class Request:
    """One concurrent request: ``actor`` names it in schedules; ``op`` is the route (write, pop,
    read, logout, login, revoke, revoke_others); ``key`` the session key it writes or pops;
    ``target`` the browser whose session a ``revoke`` names by its handle."""

    actor: str
    browser: str
    op: str
    key: str = ""
    target: str = ""


@dataclass(frozen=True)
class Scenario:
    """``advance``: seconds the clock moves between setup and the race (refresh or renewal due);
    ``tick``: an actor ``T`` whose one step moves the clock that far (0: none); ``revoke_all``:
    an admin actor ``X`` calling revoke_user_sessions for the user; ``options``: the middleware's;
    ``wire_samples``: over the DynamoDB wire, where a schedule costs more, draw this many seeded
    random schedules instead of taking them all; ``samples``: the same over MemoryStore, for the
    few scenarios whose every schedule would take minutes (None: every schedule)."""

    name: str
    browsers: tuple[Browser, ...]
    requests: tuple[Request, ...]
    advance: int = REFRESH_DUE
    tick: int = 0
    revoke_all: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    wire_samples: int | None = None
    samples: int | None = None

    def browser(self, name: str) -> Browser:
        return next(b for b in self.browsers if b.name == name)

    @property
    def eventual(self) -> bool:
        return bool(self.options.get("eventually_consistent"))


@dataclass
class Outcome:
    """One executed schedule: the run, each actor's answer, the setup cookies, the admin's count."""

    scenario: Scenario
    run: Run
    user: str
    cookies: dict[str, str]
    answers: dict[str, Answer]
    store: Any
    checker: Any
    gated: GatedStore
    revoked: int | None = None

    async def clean_up(self) -> None:
        """Delete every item the run wrote (over a table shared by the runs of a scenario)."""
        store = self.store.inner if isinstance(self.store, LaggingReplica) else self.store
        if self.gated.keys:
            await store.delete_sessions(sorted(self.gated.keys))

    def finished_at(self, actor: str) -> int:
        return next(a.finished_at for a in self.run.actors if a.name == actor)


async def run_schedule(scenario: Scenario, inner: Any, clock: FakeClock, chooser: Chooser) -> Outcome:
    """Set the scenario up (ungated), then run its actors under ``chooser``. ``inner`` is a fresh
    MemoryStore, or a DynamoDBStore whose items from earlier runs are left alone (the user ID and
    the session IDs are new on every run)."""
    clock.now = START
    base = LaggingReplica(inner) if scenario.eventual else inner
    gated = GatedStore(base)
    options = {"clock": clock, "renew_grace": RENEW_GRACE, **scenario.options}
    # One wrapper for setup, race and checks; it gates only while the race runs.
    app = checker = build_app(gated, **options)
    user = f"user{next(_users)}"
    cookies: dict[str, str] = {}
    for browser in scenario.browsers:
        cookie: str | None = None
        for key in browser.keys:
            answer = await call(app, "write", cookie, key=f"{browser.name}.{key}", value="1")
            cookie = answer.cookie or cookie
        if browser.bound:
            cookie = (await call(app, "login", cookie, user=user)).cookie
        assert cookie, f"setup of {browser.name} set no cookie"
        cookies[browser.name] = cookie
    clock.advance(scenario.advance)

    run = Run(chooser)
    for name, cookie in cookies.items():
        run.labels[key_of(checker, cookie)] = name  # the session set up for browser b is "b"
    outcome = Outcome(scenario, run, user, cookies, {}, base, checker, gated)
    for request in scenario.requests:
        run.add(request.actor, _request_body(request, outcome, build_app(gated, **options)))
    if scenario.revoke_all:

        async def revoke_all() -> None:
            outcome.revoked = await revoke_user_sessions(gated, user, clock=clock)

        run.add("X", revoke_all)
    if scenario.tick:

        async def tick() -> None:
            async with run.step("tick", f"+{scenario.tick}s"):
                clock.advance(scenario.tick)

        run.add("T", tick)
    gated.run = run
    try:
        await run.execute()
    finally:
        gated.run = None
    return outcome


def _request_body(request: Request, outcome: Outcome, app: Any) -> Callable[[], Any]:
    params: dict[str, str] = {}
    if request.key:
        params = {"key": f"{request.browser}.{request.key}", "value": request.actor}
    if request.op == "login":
        params = {"user": outcome.user}
    if request.op == "revoke":
        params = {"handle": handle_of(outcome.checker, outcome.cookies[request.target])}

    async def body() -> None:
        cookie = outcome.cookies[request.browser]
        outcome.answers[request.actor] = await call(app, request.op, cookie, **params)

    return body
