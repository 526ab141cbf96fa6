"""Section 2: a standard traffic mix, replayed under several configurations, against the minimum
an independent model of the same traffic needs."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp

from dynsession.testing import FakeClock

from . import apps, dynamo
from .driver import Browser, ok, session_cookies
from .lag import ReplicaLag
from .model import TrafficModel

IDLE_TIMEOUT = 1800
REFRESH_AFTER = 60
OPERATIONS = dynamo.OPERATIONS
ASSETS = 15  # stylesheets, scripts and images a page pulls from the same app
LAG = 1  # seconds of simulated replication lag
MIX = (("read-only", 70), ("no session", 20), ("modified", 8), ("login/logout", 2))
EVENTUAL: Mapping[str, Any] = {"eventually_consistent": True}
SKIP_STATIC: Mapping[str, Any] = {"autoload": ["/static"]}
DEFAULT = "dynsession (measured)"
EVENTUAL_ROW = "dynsession, eventually consistent reads (measured)"
LAG_ROW = f"dynsession, eventually consistent reads, {LAG} s replica lag (simulated)"
ASSETS_UP_FRONT = f"page with {ASSETS} assets, loading up front (measured)"
ASSETS_SKIPPED = f"page with {ASSETS} assets, autoload skips /static (measured)"


@dataclass(frozen=True, slots=True)
class MixRow:
    label: str
    calls_per_1000: Mapping[str, float]
    read_units_per_1000: float
    write_units_per_1000: float
    minimum_units_per_1000: float  # the minimum of the same traffic, for the "vs minimum" column
    set_cookies_per_1000: float | None = None  # measured rows only
    page_views: int = 0  # measured rows only

    @property
    def units_per_1000(self) -> float:
        return self.read_units_per_1000 + self.write_units_per_1000

    @property
    def vs_minimum(self) -> float:
        return self.units_per_1000 / self.minimum_units_per_1000


@dataclass(frozen=True, slots=True)
class MixResult:
    requests: int
    pool: int
    rate: int
    shares: Mapping[str, int]
    session_item_bytes: int
    rows: tuple[MixRow, ...]
    server_reported: tuple[float, float]  # RCU, WCU per 1,000 requests, default configuration
    set_cookie_bytes: float  # mean length of a session Set-Cookie header, eventually consistent reads
    stale_reads: int  # reads the simulated lag answered stale (each then read consistently)

    def row(self, label: str) -> MixRow:
        return next(row for row in self.rows if row.label == label)


@dataclass
class _Run:
    model: TrafficModel
    calls: Counter[str] = field(default_factory=Counter)
    rule_units: tuple[float, float] = (0.0, 0.0)
    reported: tuple[float, float] = (0.0, 0.0)
    set_cookies: list[int] = field(default_factory=list)  # header lengths
    page_views: int = 0


async def run_mix(
    counted: dynamo.CountedStore, clock: FakeClock, requests: int, pool: int, rate: int
) -> MixResult:
    """70 % read-only, 20 % no session, 8 % modified, 2 % login or logout, ``pool`` users to start
    with, ``rate`` page views per simulated second; the same traffic under each configuration."""
    lagging = ReplicaLag(counted.store, clock, LAG)
    default = await _replay(
        counted, clock, apps.dynsession_app(counted.store, **middleware_options(clock)), requests, pool, rate
    )
    item_bytes = max(counted.wire.sizes.values())
    eventual_app = apps.dynsession_app(counted.store, **middleware_options(clock, EVENTUAL))
    eventual = await _replay(counted, clock, eventual_app, requests, pool, rate)
    lag_app = apps.dynsession_app(lagging, **middleware_options(clock, EVENTUAL))
    lagged = await _replay(counted, clock, lag_app, requests, pool, rate)
    # Sixteen requests per page view: a tenth of the page views keeps the run short.
    pages = max(1, requests // 10)
    up_front_app = apps.dynsession_app(counted.store, **middleware_options(clock))
    up_front = await _replay(counted, clock, up_front_app, pages, pool, rate, ASSETS)
    skipping_app = apps.dynsession_app(counted.store, **middleware_options(clock, SKIP_STATIC))
    skipping = await _replay(counted, clock, skipping_app, pages, pool, rate, ASSETS)

    rcu, wcu = dynamo.read_units(item_bytes), dynamo.write_units(item_bytes)
    minimum = _computed("minimum", default.model.minimum, default.page_views, rcu, wcu)

    def computed(label: str, counts: Mapping[str, int]) -> MixRow:
        return _computed(label, counts, default.page_views, rcu, wcu, minimum.units_per_1000)

    rows = (
        _measured(DEFAULT, default, rcu, wcu),
        _measured(EVENTUAL_ROW, eventual, rcu, wcu),
        _measured(LAG_ROW, lagged, rcu, wcu),
        _measured(ASSETS_UP_FRONT, up_front, rcu, wcu),
        _measured(ASSETS_SKIPPED, skipping, rcu, wcu),
        minimum,
        computed("write-every-request policy (computed)", default.model.write_every),
        computed("touch-every-read policy (computed)", default.model.touch_every),
        computed("floor without any TTL refresh (computed)", default.model.floor),
    )
    scale = 1000 / requests
    lengths = eventual.set_cookies
    return MixResult(
        requests,
        pool,
        rate,
        dict(MIX),
        item_bytes,
        rows,
        (default.reported[0] * scale, default.reported[1] * scale),
        sum(lengths) / len(lengths) if lengths else 0.0,
        lagging.stale_reads,
    )


def middleware_options(clock: FakeClock, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The benchmarks' middleware settings, plus ``extra``."""
    return {"clock": clock, "idle_timeout": IDLE_TIMEOUT, "refresh_after": REFRESH_AFTER, **(extra or {})}


async def _replay(
    counted: dynamo.CountedStore,
    clock: FakeClock,
    app: ASGIApp,
    page_views: int,
    pool: int,
    rate: int,
    assets: int = 0,
) -> _Run:
    """Play the mix's page views (the same ones every time: a fixed seed) through ``app``; each page
    view is followed by ``assets`` requests under /static with the browser's cookie."""
    rng = random.Random(7)
    run = _Run(TrafficModel(IDLE_TIMEOUT, REFRESH_AFTER))
    browsers: dict[int, Browser] = {}
    for who in range(pool):
        browsers[who] = Browser()
        await ok(app, "/seed", browsers[who])
        run.model.deadline[who] = clock() + IDLE_TIMEOUT
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
            path = f"/{kind}"
        who = -1  # anonymous: no session, no cookie
        if kind == "login":
            who, next_id = next_id, next_id + 1
            browsers[who] = Browser()
        elif kind != "none":
            who = rng.choice(list(browsers))
        browser = browsers[who] if kind != "none" else Browser()
        replies = [await ok(app, path, browser)]
        for index in range(assets):
            replies.append(await ok(app, f"/static/asset-{index}.css", browser))
        run.set_cookies += [len(value) for reply in replies for value in session_cookies(reply)]
        run.model.add(kind, who, clock())
        if kind == "logout":
            del browsers[who]
    run.page_views = page_views
    run.calls = Counter(counted.wire.calls)
    run.rule_units = (counted.wire.rule_read_units, counted.wire.rule_write_units)
    run.reported = counted.reported_units()
    return run


def _measured(label: str, run: _Run, rcu: float, wcu: float) -> MixRow:
    scale = 1000 / run.page_views
    minimum = _computed("minimum", run.model.minimum, run.page_views, rcu, wcu)
    return MixRow(
        label,
        {op: run.calls.get(op, 0) * scale for op in OPERATIONS},
        run.rule_units[0] * scale,
        run.rule_units[1] * scale,
        minimum.units_per_1000,
        len(run.set_cookies) * scale,
        run.page_views,
    )


def _computed(
    label: str,
    counts: Mapping[str, int],
    page_views: int,
    rcu: float,
    wcu: float,
    minimum_units: float | None = None,
) -> MixRow:
    scale = 1000 / page_views
    reads = counts.get("GetItem", 0) * rcu * scale
    writes = sum(counts.get(op, 0) for op in OPERATIONS[1:]) * wcu * scale
    own = reads + writes
    return MixRow(
        label,
        {op: counts.get(op, 0) * scale for op in OPERATIONS},
        reads,
        writes,
        own if minimum_units is None else minimum_units,
    )
