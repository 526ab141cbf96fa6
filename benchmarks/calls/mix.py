"""Section 2: a standard traffic mix, replayed under several configurations, against the minimum
an independent model of the same traffic needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from dynsession.testing import FakeClock

from ..harness import apps, dynamo
from .lag import ReplicaLag
from .replay import IDLE_TIMEOUT, KINDS, MIX, REFRESH_AFTER, RENEW_AFTER, Run, replay

OPERATIONS = dynamo.OPERATIONS
ASSETS = 15  # stylesheets, scripts and images a page pulls from the same app
LAG = 1  # seconds of simulated replication lag
EVENTUAL: Mapping[str, Any] = {"eventually_consistent": True}
SKIP_STATIC: Mapping[str, Any] = {"autoload": ["/static"]}
DEFAULT = "dynsession (measured)"
INDEXED = "dynsession, sign-ins in the user index (measured)"
EVENTUAL_ROW = "dynsession, eventually consistent reads (measured)"
LAG_ROW = f"dynsession, eventually consistent reads, {LAG} s replica lag (simulated)"
ASSETS_UP_FRONT = f"page with {ASSETS} assets, loading up front (measured)"
ASSETS_SKIPPED = f"page with {ASSETS} assets, autoload skips /static (measured)"
MINIMUM = "minimum"
WITHOUT_RENEWAL = "minimum had no ID been renewed (computed)"


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
class IndexCost:
    """The same traffic with every sign-in bound to a user, so each signed-in session is in the user
    index: the whole mix's units (base table and index), and the index's write units per request."""

    row: MixRow
    index_write_units_per_1000: float
    per_request: Mapping[str, float]  # index write units per request, by kind
    per_refresh: float  # index write units per deadline refresh (UpdateItem)
    per_renewal: float  # index write units per ID renewal (by read-only and modified page views)
    renewals: int
    session_item_bytes: int
    page_views: int

    @property
    def renewal_units_per_1000(self) -> float:
        """Index write units from ID renewals, per 1,000 page views."""
        return self.per_renewal * self.renewals * 1000 / self.page_views


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
    index: IndexCost
    renew_after: int
    renewals: int  # page views that moved their session to a new ID

    def row(self, label: str) -> MixRow:
        return next(row for row in self.rows if row.label == label)

    @property
    def index_excess(self) -> float:
        """The user index's extra capacity units, as a fraction of the same mix without it, ID
        renewals (each a move in and out of the index) included."""
        return self.index.row.units_per_1000 / self.row(DEFAULT).units_per_1000 - 1

    @property
    def signin_index_excess(self) -> float:
        """The index's write units from logins and logouts alone, as a fraction of the same traffic
        without the index and without ID renewal (off by default): the index's cost on the standard
        mix. The measured default row equals the minimum (its own target), so the computed
        no-renewal minimum stands for that traffic."""
        signins = self.index.index_write_units_per_1000 - self.index.renewal_units_per_1000
        return signins / self.row(WITHOUT_RENEWAL).units_per_1000


async def run_mix(
    counted: dynamo.CountedStore,
    clock: FakeClock,
    requests: int,
    pool: int,
    rate: int,
    renew_after: int = RENEW_AFTER,
) -> MixResult:
    """70 % read-only, 20 % no session, 8 % modified, 2 % login or logout, ``pool`` users to start
    with, ``rate`` page views per simulated second, IDs renewed after ``renew_after`` seconds; the
    same traffic under each configuration, and once more with every sign-in bound to a user."""
    lagging = ReplicaLag(counted.store, clock, LAG)

    def app(extra: Mapping[str, Any] | None = None, store: Any = counted.store) -> Starlette:
        return apps.dynsession_app(store, **middleware_options(clock, extra, renew_after=renew_after))

    async def play(app: Starlette, page_views: int = requests, **how: Any) -> Run:
        return await replay(counted, clock, app, page_views, pool, rate, renew_after, **how)

    default = await play(app())
    eventual = await play(app(EVENTUAL))
    lagged = await play(app(EVENTUAL, lagging))
    # Sixteen requests per page view: a tenth of the page views keeps the run short.
    pages = max(1, requests // 10)
    up_front = await play(app(), pages, assets=ASSETS)
    skipping = await play(app(SKIP_STATIC), pages, assets=ASSETS)
    indexed = await play(app(), seed="/signin", login="/signin")

    rcu, wcu = dynamo.read_units(default.item_bytes), dynamo.write_units(default.item_bytes)
    model = default.model
    minimum = _computed(MINIMUM, model.minimum, default.page_views, rcu, wcu)

    def computed(label: str, counts: Mapping[str, int]) -> MixRow:
        return _computed(label, counts, default.page_views, rcu, wcu, minimum.units_per_1000)

    rows = (
        _measured(DEFAULT, default, rcu, wcu),
        _measured(EVENTUAL_ROW, eventual, rcu, wcu),
        _measured(LAG_ROW, lagged, rcu, wcu),
        _measured(ASSETS_UP_FRONT, up_front, rcu, wcu),
        _measured(ASSETS_SKIPPED, skipping, rcu, wcu),
        minimum,
        computed("write-every-request policy (computed)", model.write_every),
        computed("touch-every-read policy (computed)", model.touch_every),
        computed("floor without any TTL refresh (computed)", model.floor),
        computed(WITHOUT_RENEWAL, model.without_renewal),
    )
    scale = 1000 / requests
    lengths = eventual.set_cookies
    return MixResult(
        requests,
        pool,
        rate,
        dict(MIX),
        default.item_bytes,
        rows,
        (default.reported[0] * scale, default.reported[1] * scale),
        sum(lengths) / len(lengths) if lengths else 0.0,
        lagging.stale_reads,
        _index_cost(indexed, rcu, wcu),
        renew_after,
        model.renewals,
    )


def _index_cost(run: Run, rcu: float, wcu: float) -> IndexCost:
    """The user index's price in ``run`` (the traffic with sign-ins bound to users); its row's
    "vs minimum" compares it with the minimum of the same traffic without the index."""
    scale = 1000 / run.page_views
    refreshes = run.calls.get("UpdateItem", 0)
    per_request = {kind: run.index_by_kind[kind] / n for kind in KINDS if (n := run.requests_by_kind[kind])}
    # Only a renewal makes a read-only or modified page view write to the index.
    renewed = run.index_by_kind["read-only"] + run.index_by_kind["modified"]
    renewals = run.model.renewals
    return IndexCost(
        _measured(INDEXED, run, rcu, wcu, with_index=True),
        run.index_units * scale,
        per_request,
        run.refresh_index_units / refreshes if refreshes else 0.0,
        renewed / renewals if renewals else 0.0,
        renewals,
        run.item_bytes,
        run.page_views,
    )


def middleware_options(
    clock: FakeClock, extra: Mapping[str, Any] | None = None, *, renew_after: int = RENEW_AFTER
) -> dict[str, Any]:
    """The benchmarks' middleware settings, plus ``extra``."""
    return {
        "clock": clock,
        "idle_timeout": IDLE_TIMEOUT,
        "refresh_after": REFRESH_AFTER,
        "renew_after": renew_after,
        **(extra or {}),
    }


def _measured(label: str, run: Run, rcu: float, wcu: float, *, with_index: bool = False) -> MixRow:
    """``run`` as counted on the wire; ``with_index`` adds the user index's write units."""
    scale = 1000 / run.page_views
    minimum = _computed(MINIMUM, run.model.minimum, run.page_views, rcu, wcu)
    writes = run.rule_units[1] + (run.index_units if with_index else 0.0)
    return MixRow(
        label,
        {op: run.calls.get(op, 0) * scale for op in OPERATIONS},
        run.rule_units[0] * scale,
        writes * scale,
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
