"""Section 2's traffic: the same page views played through an app, counted on the wire and, request
by request, by an independent model of what they must cost."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from starlette.types import ASGIApp

from dynsession.testing import FakeClock

from ..harness import dynamo
from ..harness.driver import Browser, ok, session_cookies
from .model import TrafficModel

IDLE_TIMEOUT = 1800
REFRESH_AFTER = 60
# Short beside a real deployment's (15 min, say) so a short simulated run renews often enough to
# measure; the cost per renewal does not depend on it.
RENEW_AFTER = 300
MIX = (("read-only", 70), ("no session", 20), ("modified", 8), ("login/logout", 2))
KINDS = ("read-only", "modified", "login", "logout")


@dataclass
class Run:
    """What one replay did: the model's counts, the wire's, and the user index's writes by kind."""

    model: TrafficModel
    page_views: int
    item_bytes: int = 0  # the largest session item once the users to start with are signed in
    calls: Counter[str] = field(default_factory=Counter)
    rule_units: tuple[float, float] = (0.0, 0.0)
    index_units: float = 0.0  # the user index's write units, by DynamoDB's rules
    refresh_index_units: float = 0.0  # the part of them UpdateItem (deadline refreshes) caused
    reported: tuple[float, float] = (0.0, 0.0)
    set_cookies: list[int] = field(default_factory=list)  # header lengths
    index_by_kind: Counter[str] = field(default_factory=Counter)
    requests_by_kind: Counter[str] = field(default_factory=Counter)


async def replay(
    counted: dynamo.CountedStore,
    clock: FakeClock,
    app: ASGIApp,
    page_views: int,
    pool: int,
    rate: int,
    renew_after: int,
    *,
    assets: int = 0,
    seed: str = "/seed",
    login: str = "/login",
) -> Run:
    """Play the mix's page views (the same ones every time: a fixed seed) through ``app``, whose
    IDs are renewed after ``renew_after`` seconds: ``pool`` users signed in first through ``seed``,
    logins through ``login``, ``rate`` page views per simulated second, each followed by ``assets``
    requests under /static with the browser's cookie."""
    rng = random.Random(7)
    run = Run(TrafficModel(IDLE_TIMEOUT, REFRESH_AFTER, renew_after), page_views)
    model, wire = run.model, counted.wire
    wire.sizes.clear()
    wire.users.clear()
    browsers: dict[int, Browser] = {}
    for who in range(pool):
        browsers[who] = Browser()
        await ok(app, seed, browsers[who])
        model.deadline[who] = model.plain_deadline[who] = clock() + IDLE_TIMEOUT
        model.issued[who] = clock()
    run.item_bytes = max(wire.sizes.values())
    counted.reset()
    start, next_id = clock(), pool
    for number in range(page_views):
        clock.now = start + number // rate
        roll = rng.random() * 100
        if roll < 70:
            kind, path = "read-only", "/read"
        elif roll < 90:
            kind, path = "none", "/untouched"
        elif roll < 98:
            kind, path = "modified", "/write"
        else:
            kind = "login" if rng.random() < 0.5 or len(browsers) < 2 else "logout"
            path = login if kind == "login" else "/logout"
        who = -1  # anonymous: no session, no cookie
        if kind == "login":
            who, next_id = next_id, next_id + 1
            browsers[who] = Browser()
        elif kind != "none":
            who = rng.choice(list(browsers))
        browser = browsers[who] if kind != "none" else Browser()
        before = wire.index_write_units
        replies = [await ok(app, path, browser)]
        for index in range(assets):
            replies.append(await ok(app, f"/static/asset-{index}.css", browser))
        run.index_by_kind[kind] += int(wire.index_write_units - before)
        run.requests_by_kind[kind] += 1
        run.set_cookies += [len(value) for reply in replies for value in session_cookies(reply)]
        model.add(kind, who, clock())
        if kind == "logout":
            del browsers[who]
    run.calls = Counter(wire.calls)
    run.rule_units = (wire.rule_read_units, wire.rule_write_units)
    run.index_units = wire.index_write_units
    run.refresh_index_units = wire.index_units_by_operation.get("UpdateItem", 0)
    run.reported = counted.reported_units()
    return run
