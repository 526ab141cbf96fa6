"""Section 7 of RESULTS.md: the distributed cache's calls and capacity units."""

from __future__ import annotations

from ..harness import markdown
from ..harness.markdown import machine_line, number, table, yes
from . import cache_calls
from .cache_calls import EVERY_GET, THROTTLED, CacheCallsResult
from .cache_model import FLOOR, MINIMUM

BEGIN = "<!-- section 7: begin -->"
END = "<!-- section 7: end -->"


def at_minimum(result: CacheCallsResult) -> tuple[int, int]:
    """(operations at their minimum, operations)."""
    return sum(row.at_minimum for row in result.operations), len(result.operations)


def targets(result: CacheCallsResult) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for the cache."""
    done, total = at_minimum(result)
    return [
        ("Cache calls per operation = the minimum", f"{done} of {total} operations", done == total),
        (
            "Cache read-heavy mix = the minimum (throttled sliding refresh)",
            f"{result.row(THROTTLED).units_per_1000 / result.row(MINIMUM).units_per_1000 - 1:+.1%}",
            at_mix_minimum(result),
        ),
    ]


def refresh_saving(result: CacheCallsResult) -> float:
    """Capacity units of the .NET policy over the throttled refresh's, on the mix."""
    return result.row(EVERY_GET).units_per_1000 / result.row(THROTTLED).units_per_1000


def at_mix_minimum(result: CacheCallsResult) -> bool:
    """Whether the throttled run made exactly the model's minimum calls and units."""
    measured, minimum = result.row(THROTTLED), result.row(MINIMUM)
    same_calls = dict(measured.calls_per_1000) == dict(minimum.calls_per_1000)
    return same_calls and measured.units_per_1000 == minimum.units_per_1000


def splice(document: str, new_section: str) -> str:
    """``document`` with its section 7 replaced by ``new_section`` (appended if it has none)."""
    return markdown.splice(document, new_section, BEGIN, END)


def section(c: CacheCallsResult, machine: str) -> str:
    """Section 7, between its markers."""
    return "\n\n".join([BEGIN, _body(c, machine), END])


def _body(c: CacheCallsResult, machine: str) -> str:
    rows = []
    for row in c.operations:
        minimum = " + ".join(f"{n} {op}" for op, n in row.operation.minimum.items())
        counts = [number(row.calls.get(op, 0)) for op in cache_calls.OPERATIONS]
        units = [number(value) for value in (*row.reported, *row.by_rules)]
        note = f" ({row.operation.why})" if row.operation.why else ""
        rows.append([row.operation.name, *counts, minimum + note, *units, yes(row.at_minimum)])
    header = ["operation", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "minimum"]
    header += ["RCU reported", "WCU reported", "RCU by rules", "WCU by rules", "= minimum"]
    mix_rows = []
    floor = c.row(FLOOR).units_per_1000
    for mix in c.mix:
        counts = [f"{mix.calls_per_1000[op]:.1f}" for op in cache_calls.OPERATIONS]
        units = [
            f"{mix.read_units_per_1000:.1f}",
            f"{mix.write_units_per_1000:.1f}",
            f"{mix.units_per_1000:.1f}",
        ]
        mix_rows.append([mix.label, *counts, *units, f"{mix.units_per_1000 / floor:.2f}×"])
    mix_header = [
        "policy",
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "RCU",
        "WCU",
        "units",
        "vs no refresh",
    ]
    throttled, every = c.row(THROTTLED), c.row(EVERY_GET)
    return "\n\n".join(
        [
            "## 7. Distributed cache: calls per operation and the sliding refresh",
            machine_line(machine),
            f"DynamoDBCache against {c.endpoint}, strongly consistent reads, 1,000-byte values (a "
            f"{c.item_bytes}-byte item), the default 20-minute sliding window and so the default "
            "`refresh_after` of 60 s. Calls are counted on the way to the transport, failed conditional "
            "writes included.",
            table(header, rows),
            "DynamoDB returns no consumed capacity for a write whose condition failed (`add` on a taken "
            "key) but bills it as a write; the rules column counts it. moto reports a flat 0.5 RCU per "
            "read and 1 WCU per write; dynalite and DynamoDB follow the rules.",
            f"Read-heavy mix: {c.mix_operations:,} operations (90 % `get`, 8 % `set`, 2 % `remove`) over "
            f"{c.keys} keys, {c.rate} per simulated second, run once with the throttled refresh and once "
            "with `refresh_after=0`, which refreshes on every hit as the .NET provider does. Per 1,000 "
            "operations; units by DynamoDB's rules.",
            table(mix_header, mix_rows),
            f"The throttled refresh makes {throttled.calls_per_1000['UpdateItem']:.1f} UpdateItems per 1,000 "
            f"operations against {every.calls_per_1000['UpdateItem']:.1f}: the .NET policy costs "
            f"{refresh_saving(c):.2f}× the capacity units. The minimum is computed by a separate model of "
            "the same operations (a read per get, a write per set or remove, a TTL write when a hit finds "
            f"the stored TTL more than `refresh_after` behind); the measured run is "
            f"{'at' if at_mix_minimum(c) else 'not at'} it.",
        ]
    )
