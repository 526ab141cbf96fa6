"""Sections 1 and 2: DynamoDB calls and capacity units per request, against the fewest possible."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.types import ASGIApp

from dynsession.testing import FakeClock

from ..harness import apps, dynamo
from ..harness.driver import Browser, ok, session_cookies
from .lag import ReplicaLag
from .mix import ASSETS, EVENTUAL, SKIP_STATIC, MixResult, middleware_options, run_mix
from .replay import IDLE_TIMEOUT, REFRESH_AFTER, RENEW_AFTER

OPERATIONS = dynamo.OPERATIONS
LAZY: Mapping[str, Any] = {"autoload": False}
PAGE_UP_FRONT = f"page view + {ASSETS} assets, loading up front (the default)"
PAGE_SKIPPING_ASSETS = f"page view + {ASSETS} assets, autoload skips /static"
__all__ = [
    "IDLE_TIMEOUT",
    "OPERATIONS",
    "REFRESH_AFTER",
    "RENEW_AFTER",
    "SCENARIOS",
    "CallsResult",
    "MixResult",
    "run_calls",
]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    setup: tuple[str, ...]  # requests made first (not counted), with the same browser
    advance: int  # seconds the clock moves between the setup and the measured request
    path: str
    minimum: Mapping[str, int]  # the fewest calls the measured requests can need
    options: Mapping[str, Any] = field(default_factory=dict)  # middleware options beyond the defaults
    assets: int = 0  # requests under /static after the measured one, with the same browser
    framework: str = "starlette"  # or "fastapi": the dependency pattern (autoload=False)
    lag: int = 0  # seconds of simulated replication lag
    # Shown for comparison, not expected to meet the minimum: the calls it is expected to make.
    reference: Mapping[str, int] | None = None

    @property
    def expected(self) -> Mapping[str, int]:
        return self.minimum if self.reference is None else self.reference


SCENARIOS = (
    Scenario("no cookie, untouched", (), 0, "/untouched", {}),
    Scenario("no cookie, written", (), 0, "/write", {"PutItem": 1}),
    Scenario("read-only, within refresh_after", ("/seed",), REFRESH_AFTER // 2, "/read", {"GetItem": 1}),
    Scenario(
        "read-only, refresh due", ("/seed",), REFRESH_AFTER + 1, "/read", {"GetItem": 1, "UpdateItem": 1}
    ),
    Scenario("modified", ("/seed",), 5, "/write", {"GetItem": 1, "PutItem": 1}),
    # The new item, then the old one replaced by its moved-by-login marker (a conditional PutItem).
    Scenario("regenerate (login)", ("/seed",), 5, "/login", {"GetItem": 1, "PutItem": 2}),
    # The new item (which also refreshes the deadline), then the old ID's marker forwarding to it.
    Scenario("read-only, renewal due", ("/seed",), RENEW_AFTER, "/read", {"GetItem": 1, "PutItem": 2}),
    Scenario("logout", ("/seed",), 5, "/logout", {"GetItem": 1, "DeleteItem": 1}),
    Scenario(
        PAGE_UP_FRONT,
        ("/seed",),
        5,
        "/read",
        {"GetItem": 1},
        assets=ASSETS,
        reference={"GetItem": 1 + ASSETS},
    ),
    Scenario(
        PAGE_SKIPPING_ASSETS,
        ("/seed",),
        5,
        "/read",
        {"GetItem": 1},
        options=SKIP_STATIC,
        assets=ASSETS,
    ),
    Scenario("autoload=False, route not loading", ("/lazy-seed",), 5, "/untouched", {}, LAZY),
    Scenario("autoload=False, load_session", ("/lazy-seed",), 5, "/lazy-read", {"GetItem": 1}, LAZY),
    Scenario("FastAPI, route declaring Session", ("/seed",), 5, "/read", {"GetItem": 1}, framework="fastapi"),
    Scenario("FastAPI, route without it", ("/seed",), 5, "/untouched", {}, framework="fastapi"),
    Scenario("read-only, eventually consistent", ("/seed",), 5, "/read", {"GetItem": 1}, EVENTUAL),
    Scenario(
        "read-only, eventually consistent, replica behind",
        ("/seed",),
        0,
        "/read",
        {"GetItem": 2},
        EVENTUAL,
        lag=1,
    ),
    Scenario(
        "modified, eventually consistent", ("/seed",), 5, "/write", {"GetItem": 1, "PutItem": 1}, EVENTUAL
    ),
)


@dataclass(frozen=True, slots=True)
class ScenarioRow:
    scenario: Scenario
    repeats: int
    calls: Mapping[str, int]  # totals over the repeats
    reported: tuple[float, float]  # RCU, WCU per scenario, as the server reported them
    by_rules: tuple[float, float]  # RCU, WCU per scenario, by DynamoDB's size rules
    set_cookies: int = 0  # session Set-Cookie headers, totalled over the repeats

    def per_request(self, operation: str) -> float:
        return self.calls.get(operation, 0) / self.repeats

    def calls_are(self, expected: Mapping[str, int]) -> bool:
        return all(self.calls.get(op, 0) == expected.get(op, 0) * self.repeats for op in OPERATIONS)

    @property
    def at_minimum(self) -> bool:
        return self.calls_are(self.scenario.minimum)

    @property
    def as_expected(self) -> bool:
        return self.calls_are(self.scenario.expected)


@dataclass(frozen=True, slots=True)
class CallsResult:
    endpoint: str
    scenarios: tuple[ScenarioRow, ...]
    mix: MixResult

    def scenario(self, name: str) -> ScenarioRow:
        return next(row for row in self.scenarios if row.scenario.name == name)


def run_calls(
    endpoint_url: str | None,
    *,
    repeats: int,
    mix_requests: int,
    pool: int = 100,
    rate: int = 10,
    name: str | None = None,
    renew_after: int = RENEW_AFTER,
) -> CallsResult:
    """Run sections 1 and 2 against ``endpoint_url`` (default: moto's server on loopback)."""
    with dynamo.endpoint(endpoint_url) as url:
        client = dynamo.make_client(url)
        with dynamo.session_table(client) as table:
            clock = FakeClock()
            counted = dynamo.counted_store(client, table, clock)
            rows = anyio.run(_scenarios, counted, clock, repeats)
            mix = anyio.run(run_mix, counted, clock, mix_requests, pool, rate, renew_after)
    label = "moto's server (in-process, 127.0.0.1)" if endpoint_url is None else (name or endpoint_url)
    return CallsResult(label, tuple(rows), mix)


def _app(counted: dynamo.CountedStore, clock: FakeClock, scenario: Scenario) -> ASGIApp:
    store = counted.store if not scenario.lag else ReplicaLag(counted.store, clock, scenario.lag)
    options = middleware_options(clock, scenario.options)
    if scenario.framework == "fastapi":
        return apps.dynsession_fastapi_app(store, **options)
    return apps.dynsession_app(store, **options)


async def _scenarios(counted: dynamo.CountedStore, clock: FakeClock, repeats: int) -> list[ScenarioRow]:
    rows = []
    for scenario in SCENARIOS:
        app = _app(counted, clock, scenario)
        calls: Counter[str] = Counter()
        reported = [0.0, 0.0]
        rules = [0.0, 0.0]
        set_cookies = 0
        for _ in range(repeats):
            browser = Browser()
            for path in scenario.setup:
                await ok(app, path, browser)
            clock.advance(scenario.advance)
            counted.reset()
            replies = [await ok(app, scenario.path, browser)]
            for index in range(scenario.assets):
                replies.append(await ok(app, f"/static/asset-{index}.css", browser))
            set_cookies += sum(len(session_cookies(reply)) for reply in replies)
            calls.update(counted.wire.calls)
            read, write = counted.reported_units()
            reported[0] += read
            reported[1] += write
            rules[0] += counted.wire.rule_read_units
            rules[1] += counted.wire.rule_write_units
        per = 1 / repeats
        rows.append(
            ScenarioRow(
                scenario,
                repeats,
                dict(calls),
                (reported[0] * per, reported[1] * per),
                (rules[0] * per, rules[1] * per),
                set_cookies,
            )
        )
    return rows
