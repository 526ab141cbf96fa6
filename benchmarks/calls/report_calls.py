"""The report's sections 1 and 2: DynamoDB calls and capacity units per request."""

from __future__ import annotations

from ..harness.markdown import machine_line, number, table, yes
from . import calls, mix

TARGET_MIX = 0.05
TARGET_INDEX = 0.05
TARGET_EVENTUAL_READS = 0.55


def mix_excess(result: calls.MixResult) -> float:
    """How far dynsession's capacity units lie above the minimum, as a fraction of the minimum."""
    return result.row(mix.DEFAULT).vs_minimum - 1


def eventual_read_ratio(result: calls.MixResult) -> float:
    """Read units with eventually consistent reads, as a fraction of the default's."""
    return result.row(mix.EVENTUAL_ROW).read_units_per_1000 / result.row(mix.DEFAULT).read_units_per_1000


def targets(c: calls.CallsResult) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for the targets of sections 1 and 2."""
    rows = [row for row in c.scenarios if row.scenario.reference is None]
    at_min = sum(row.at_minimum for row in rows)
    up_front = c.scenario(calls.PAGE_UP_FRONT).per_request("GetItem")
    skipping = c.scenario(calls.PAGE_SKIPPING_ASSETS).per_request("GetItem")
    excess, eventual = mix_excess(c.mix), eventual_read_ratio(c.mix)
    return [
        (
            "Calls per request = the minimum, every scenario",
            f"{at_min} of {len(rows)} rows",
            at_min == len(rows),
        ),
        (
            f"Page view with {mix.ASSETS} assets, autoload skipping /static: 1 GetItem",
            f"{skipping:g} GetItem ({up_front:g} loading up front)",
            skipping == 1,
        ),
        (
            f"Traffic mix within {TARGET_MIX:.0%} of the minimum (capacity units)",
            f"{excess:+.1%}",
            excess <= TARGET_MIX,
        ),
        (
            f"User index: standard mix within {TARGET_INDEX:.0%} of the units without it",
            f"{c.mix.signin_index_excess:+.1%}",
            c.mix.signin_index_excess < TARGET_INDEX,
        ),
        (
            f"Eventually consistent reads: read units ≤ {TARGET_EVENTUAL_READS}× the default's",
            f"{eventual:.2f}×",
            eventual <= TARGET_EVENTUAL_READS,
        ),
    ]


def scenarios(c: calls.CallsResult, machine: str) -> str:
    rows = []
    for row in c.scenarios:
        minimum = " + ".join(f"{n} {op}" for op, n in row.scenario.minimum.items()) or "none"
        counts = [number(row.per_request(op)) for op in calls.OPERATIONS]
        units = [
            number(row.reported[0]),
            number(row.reported[1]),
            number(row.by_rules[0]),
            number(row.by_rules[1]),
        ]
        met = yes(row.at_minimum) if row.scenario.reference is None else "no: for comparison"
        cookies = number(row.set_cookies / row.repeats)
        rows.append([row.scenario.name, *counts, cookies, minimum, *units, met])
    header = ["scenario", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Set-Cookie", "minimum"]
    header += ["RCU reported", "WCU reported", "RCU by rules", "WCU by rules", "= minimum"]
    return "\n\n".join(
        [
            "## 1. DynamoDB calls per request, by scenario",
            machine_line(machine),
            f"DynamoDBStore against {c.endpoint}, `idle_timeout={calls.IDLE_TIMEOUT}`, "
            f"`refresh_after={calls.REFRESH_AFTER}`, `renew_after={calls.RENEW_AFTER}`, strongly consistent "
            "reads unless the row says otherwise. Calls are counted on the wire, per scenario (one "
            f"request, or a page and the {mix.ASSETS} asset requests its browser then makes under "
            f"`/static`), averaged over {c.scenarios[0].repeats} repetitions; the sessions read, refreshed, "
            f"modified, regenerated or ended carry about 1 KB of data (a {c.mix.session_item_bytes}-byte "
            "item). The minimum is the fewest calls the scenario can need: none for assets and routes that "
            "never read the session, one read for a request that does; regenerating writes the new item "
            "and replaces the old one with a marker (a conditional PutItem) so the old ID stops working, "
            "and a request whose ID is `renew_after` seconds old does the same with a marker forwarding to "
            "the new ID, in place of its own refresh or write. Every middleware that loads the session "
            "before the handler runs (dynsession's default) pays one read per request with a cookie: the "
            'page-with-assets row loading up front shows what that costs. `autoload=["/static"]` skips the '
            "assets, `autoload=False` loads only through `load_session` or FastAPI's `session: Session` "
            "dependency (the `FastAPI` rows); eventually consistent rows use `eventually_consistent=True`, "
            "and the replica-behind row serves the read from a simulated replica that has not seen the "
            "last write yet, so the read is repeated strongly consistent. Set-Cookie counts the session "
            "cookie headers sent.",
            table(header, rows),
            _capacity_note(c),
        ]
    )


def _capacity_note(c: calls.CallsResult) -> str:
    note = (
        '"Reported" units are what the server returned for `ReturnConsumedCapacity="TOTAL"` '
        '(`DynamoDBStore(return_consumed_capacity=True)`); "by rules" applies DynamoDB\'s published '
        "rules to the items actually sent (reads: 4 KB steps, 1 unit when strongly consistent, 0.5 when "
        "eventually consistent; writes: 1 KB steps of the larger item image), which is what AWS bills. "
    )
    if all(row.reported == row.by_rules for row in c.scenarios):
        return note + "This server accounts capacity by those rules: the two agree in every row."
    return note + (
        "This server's units differ from the rules (moto charges a flat 0.5 per read and 1 per write "
        "whatever the item's size or the read's consistency); dynalite and DynamoDB follow the rules. "
        "Run `python -m benchmarks --endpoint-url URL` to measure against them."
    )


def mix_section(c: calls.CallsResult, machine: str) -> str:
    m = c.mix
    share = ", ".join(f"{pct} % {name}" for name, pct in m.shares.items())
    rows = []
    for row in (*m.rows[:1], m.index.row, *m.rows[1:]):
        counts = [f"{row.calls_per_1000[op]:.1f}" for op in calls.OPERATIONS]
        units = [f"{row.read_units_per_1000:.1f}", f"{row.write_units_per_1000:.1f}"]
        cookies = "—" if row.set_cookies_per_1000 is None else f"{row.set_cookies_per_1000:.1f}"
        label = row.label
        if row.page_views not in (0, m.requests):
            label = label.replace("(measured)", f"(measured, {row.page_views:,} page views)")
        rows.append([label, *counts, *units, f"{row.units_per_1000:.1f}", f"{row.vs_minimum:.2f}×", cookies])
    header = ["policy", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "RCU", "WCU", "units", "vs minimum"]
    header.append("Set-Cookie")
    default, eventual = m.row(mix.DEFAULT), m.row(mix.EVENTUAL_ROW)
    up_front, skipping = m.row(mix.ASSETS_UP_FRONT), m.row(mix.ASSETS_SKIPPED)
    rcu, wcu = m.server_reported
    renewals = m.renewals * 1000 / m.requests
    extra_cookies = (eventual.set_cookies_per_1000 or 0) - (default.set_cookies_per_1000 or 0)
    return "\n\n".join(
        [
            "## 2. Standard traffic mix",
            machine_line(machine),
            f"{m.requests:,} page views ({share}); {m.pool} signed-in users to start with, {m.rate} page "
            "views per simulated second, logins create sessions (with `regenerate_session`) and logouts end "
            "them. Per 1,000 page views; units by DynamoDB's rules for the "
            f"{m.session_item_bytes}-byte session item. Every row replays the same page views. The "
            f"page-with-assets rows follow each page view with {mix.ASSETS} requests for stylesheets and "
            'images under `/static`, sent with the browser\'s cookie as browsers do; "vs minimum" compares '
            "each measured row with the minimum of its own traffic (the assets need no session, so their "
            "minimum is the pages'), which prices every read strongly consistent.",
            table(header, rows),
            f"dynsession is {mix_excess(m):+.1%} from the minimum. The minimum is the fewest calls this "
            "traffic needs with a sliding idle timeout kept to `refresh_after` precision: one GetItem per "
            "page view with a session, one write per change, login or logout, and one TTL refresh when the "
            "stored deadline lags by more than `refresh_after`; it is computed by an independent model of "
            "the traffic, not by dynsession. The two policies are computed from their documented behaviour "
            "for the same requests: write-every-request rewrites the whole item on every request with a "
            "session (Flask-Session's DynamoDB backend with its default SESSION_REFRESH_EACH_REQUEST); "
            "touch-every-read resets the expiry with an UpdateItem on every read (the AWS .NET session "
            "provider's ResetItemTimeout). The floor row shows what the same traffic would cost with no "
            f"idle-timeout refresh at all. The server reported {rcu:.1f} RCU and {wcu:.1f} WCU per 1,000 "
            "page views for dynsession's default.",
            f"Session IDs are renewed after {m.renew_after} s (`renew_after`) in every row: "
            f"{renewals:.1f} renewals per 1,000 page views, each writing the new item and the old ID's "
            "marker forwarding to it (two PutItems) in place of the page view's own write or refresh, "
            "as every policy above counts them. Against the same page views with no renewal (last row) "
            f"that is {renewal_write_units(m):.2f} write units more per renewal.",
            f"**Eventually consistent reads** (`eventually_consistent=True`) use "
            f"{eventual_read_ratio(m):.2f}× the read units of the default, with the same calls and write "
            f"units. Their price is the cookie: every write re-sends it with the new version, "
            f"{extra_cookies:.1f} more Set-Cookie headers per 1,000 page views here, averaging "
            f"{m.set_cookie_bytes:.0f} bytes each. Neither local server lags, so no read fell back; with "
            f"a simulated {mix.LAG} s replica lag {m.stale_reads} reads found the replica behind the cookie "
            "and were repeated strongly consistent (the GetItem column of that row).",
            f"**Loading on demand**: loading up front, a page and its {mix.ASSETS} assets cost "
            f"{up_front.calls_per_1000['GetItem'] / skipping.calls_per_1000['GetItem']:.1f}× the GetItems "
            f'of the same traffic with `autoload=["/static"]` ({up_front.calls_per_1000["GetItem"]:.1f} '
            f"against {skipping.calls_per_1000['GetItem']:.1f} per 1,000 page views).",
            _index_note(m),
        ]
    )


def renewal_write_units(m: calls.MixResult) -> float:
    """Write units the minimum spends per renewal beyond the same traffic without renewal."""
    if not m.renewals:
        return 0.0
    extra = m.row(mix.MINIMUM).write_units_per_1000 - m.row(mix.WITHOUT_RENEWAL).write_units_per_1000
    return extra * m.requests / 1000 / m.renewals


def _index_note(m: calls.MixResult) -> str:
    i = m.index
    per = i.per_request
    renewed = i.renewal_units_per_1000
    return (
        "**The user index.** The second row replays the same page views with every sign-in bound to a "
        "user (`regenerate_session(request, user_id=...)`, so each signed-in session sits in the "
        "sparse, KEYS_ONLY user index), on a table with the index; its WCU include the index's writes, "
        f"counted by DynamoDB's rules: {i.index_write_units_per_1000:.1f} per 1,000 page views, "
        f"{m.index_excess:+.1%} units over the first row. Index write units per page view: login "
        f"{per.get('login', 0):.2f}, logout {per.get('logout', 0):.2f}, modified "
        f"{per.get('modified', 0):.2f}, read-only {per.get('read-only', 0):.2f}; per deadline refresh "
        f"{i.per_refresh:.2f}; per ID renewal {i.per_renewal:.2f} (the new ID enters the index, the old "
        f"one leaves it), so of the {i.index_write_units_per_1000:.1f}, {renewed:.1f} come from the "
        f"{i.renewals * 1000 / m.requests:.1f} renewals per 1,000 page views that `renew_after="
        f"{m.renew_after}` brings and {i.index_write_units_per_1000 - renewed:.1f} from logins and "
        f"logouts. On the standard mix, where ID renewal is off as it is by default, the index costs "
        f"those login and logout writes alone: {m.signin_index_excess:+.1%} over the same traffic "
        f"without the index (target: under +{TARGET_INDEX:.0%} with 2 % of page views logging in or "
        "out); with renewal on, each renewal adds two index writes. Saves and refreshes change no "
        "attribute the index holds, so only a session entering or leaving the index writes to it. "
        "The bound session item is "
        f"{i.session_item_bytes} bytes (the user ID, device label and sign-in time add a few dozen), "
        "the same number of units per read and write. Servers do not report index units (dynalite and "
        "moto leave them out), so the server-reported figures above cover the table only."
    )
