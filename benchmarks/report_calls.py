"""The report's sections 1 and 2: DynamoDB calls and capacity units per request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import calls
from .markdown import machine_line, number, table, yes

if TYPE_CHECKING:
    from .report import Results


def mix_excess(result: calls.MixResult) -> float:
    """How far dynsession's capacity units lie above the minimum, as a fraction of the minimum."""
    minimum = result.row("minimum").units_per_1000
    return result.row("dynsession (measured)").units_per_1000 / minimum - 1


def scenarios(results: Results) -> str:
    c = results.calls
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
        rows.append([row.scenario.name, *counts, minimum, *units, yes(row.at_minimum)])
    header = ["scenario", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "minimum"]
    header += ["RCU reported", "WCU reported", "RCU by rules", "WCU by rules", "= minimum"]
    return "\n\n".join(
        [
            "## 1. DynamoDB calls per request, by scenario",
            machine_line(results.machine),
            f"DynamoDBStore against {c.endpoint}, `idle_timeout={calls.IDLE_TIMEOUT}`, "
            f"`refresh_after={calls.REFRESH_AFTER}`, strongly consistent reads (the default). Calls are "
            f"counted on the wire, per request, averaged over {c.scenarios[0].repeats} repetitions; "
            "the sessions read, refreshed, modified, regenerated or ended carry about 1 KB of data "
            f"(a {c.mix.session_item_bytes}-byte item). The minimum assumes, as every session middleware "
            "does, that the session is loaded before the handler runs; regenerating must delete the old "
            "item so the old ID stops working.",
            table(header, rows),
            _capacity_note(c),
        ]
    )


def _capacity_note(c: calls.CallsResult) -> str:
    note = (
        '"Reported" units are what the server returned for `ReturnConsumedCapacity="TOTAL"` '
        '(`DynamoDBStore(return_consumed_capacity=True)`); "by rules" applies DynamoDB\'s published '
        "rules to the items actually sent (reads: 4 KB steps, 1 unit when strongly consistent; writes: "
        "1 KB steps of the larger item image), which is what AWS bills. "
    )
    if all(row.reported == row.by_rules for row in c.scenarios):
        return note + "This server accounts capacity by those rules: the two agree in every row."
    return note + (
        "This server's units differ from the rules (moto charges a flat 0.5 per read and 1 per write "
        "whatever the item's size or the read's consistency); dynalite and DynamoDB follow the rules. "
        "Run `python -m benchmarks --endpoint-url URL` to measure against them."
    )


def mix(results: Results) -> str:
    m = results.calls.mix
    share = ", ".join(f"{pct} % {name}" for name, pct in m.shares.items())
    minimum = m.row("minimum").units_per_1000
    rows = []
    for row in (*m.rows[:1], m.index.row, *m.rows[1:]):
        counts = [f"{row.calls_per_1000[op]:.1f}" for op in calls.OPERATIONS]
        units = [f"{row.read_units_per_1000:.1f}", f"{row.write_units_per_1000:.1f}"]
        total = row.units_per_1000
        rows.append([row.label, *counts, *units, f"{total:.1f}", f"{total / minimum:.2f}×"])
    header = ["policy", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "RCU", "WCU", "units", "vs minimum"]
    rcu, wcu = m.server_reported
    renewals = m.renewals * 1000 / m.requests
    return "\n\n".join(
        [
            "## 2. Standard traffic mix",
            machine_line(results.machine),
            f"{m.requests:,} requests ({share}); {m.pool} signed-in users to start with, {m.rate} requests "
            "per simulated second, logins create sessions (with `regenerate_session`) and logouts end them. "
            "Per 1,000 requests; units by DynamoDB's rules for the "
            f"{m.session_item_bytes}-byte session item.",
            table(header, rows),
            f"dynsession is {mix_excess(m):+.1%} from the minimum. The minimum is the fewest calls this "
            "traffic needs with a sliding idle timeout kept to `refresh_after` precision: one GetItem per "
            "request with a session, one write per change, login or logout, and one TTL refresh when the "
            "stored deadline lags by more than `refresh_after`; it is computed by an independent model of "
            "the traffic, not by dynsession. The two policies are computed from their documented behaviour "
            "for the same requests: write-every-request rewrites the whole item on every request with a "
            "session (Flask-Session's DynamoDB backend with its default SESSION_REFRESH_EACH_REQUEST); "
            "touch-every-read resets the expiry with an UpdateItem on every read (the AWS .NET session "
            "provider's ResetItemTimeout). The floor row shows what the same traffic would cost with no "
            f"idle-timeout refresh at all. The server reported {rcu:.1f} RCU and {wcu:.1f} WCU per 1,000 "
            "requests for dynsession.",
            f"Session IDs are renewed after {m.renew_after} s (`renew_after`): {renewals:.1f} renewals per "
            "1,000 requests, each writing the new item and the old ID's forwarding alias (two PutItems) "
            "in place of the request's own write or refresh, as every policy above counts them. Against "
            f"the same requests with no renewal (last row) that is {renewal_write_units(m):.2f} write "
            "units more per renewal.",
            _index_note(m),
        ]
    )


def renewal_write_units(m: calls.MixResult) -> float:
    """Write units the minimum spends per renewal beyond the same traffic without renewal."""
    if not m.renewals:
        return 0.0
    extra = (
        m.row("minimum").write_units_per_1000
        - m.row("minimum had no ID been renewed (computed)").write_units_per_1000
    )
    return extra * m.requests / 1000 / m.renewals


def _index_note(m: calls.MixResult) -> str:
    i = m.index
    per = i.per_request
    return (
        f"**The user index.** The second row runs the same requests with every sign-in bound to a user "
        "(`regenerate_session(request, user_id=...)`, so each signed-in session sits in the sparse, "
        "KEYS_ONLY user index), on a table with the index; its WCU include the index's writes, "
        f"counted by DynamoDB's rules: {i.index_write_units_per_1000:.1f} per 1,000 requests, "
        f"{m.index_excess:+.1%} units over the first row (target: under +5 % with 2 % of requests "
        f"logging in or out). Index write units per request: login {per.get('login', 0):.2f}, logout "
        f"{per.get('logout', 0):.2f}, modified {per.get('modified', 0):.2f}, read-only "
        f"{per.get('read-only', 0):.2f}; per deadline refresh {i.per_refresh:.2f}. Saves and refreshes "
        "change no attribute the index holds, so only a session entering or leaving the index writes "
        f"to it. The bound session item is {i.session_item_bytes} bytes (the user ID, device label and "
        "sign-in time add a few dozen), the same number of units per read and write. Servers do not "
        "report index units (dynalite and moto leave them out), so the server-reported figures above "
        "cover the table only."
    )
