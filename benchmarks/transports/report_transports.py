"""Section 6 of RESULTS.md: the transports, and the three targets they are measured against."""

from __future__ import annotations

from ..harness import markdown
from ..harness.markdown import machine_line, table, yes
from .transport_calls import FLOOR, REDIS_OPERATIONS, REDIS_PY, TLS
from .transports import BARE, BOTO3, NATIVE, REDIS, TransportsResult

TARGET_READ_VS_REDIS = 0.6
TARGET_WRITE_VS_REDIS = 1.0
TARGET_GET_VS_FLOOR = 1.3
TARGET_TLS_READ_VS_REDIS = 0.8

BEGIN = "<!-- section 6: begin -->"
END = "<!-- section 6: end -->"
_KIND = {"read": "read-only", "write": "modifying"}


def _target(label: str, ratio: float | None, limit: float) -> tuple[str, str, bool | None]:
    return (label, "not run" if ratio is None else f"{ratio:.2f}×", None if ratio is None else ratio <= limit)


def targets(result: TransportsResult) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met); ``met`` is None when a row needed for it did not run. Request ratios
    are of CPU per request over the bare app's, from the same run."""
    native = NATIVE.split("=", 1)[1]
    found = [
        _target(
            f"{_KIND[kind].capitalize()} request, transport={native}: CPU over a bare app ≤ {limit:g}× "
            "starsessions + Redis",
            result.over_bare(NATIVE, REDIS, kind),
            limit,
        )
        for kind, limit in (("read", TARGET_READ_VS_REDIS), ("write", TARGET_WRITE_VS_REDIS))
    ]
    found.append(
        _target(
            f"GetItem, transport={native}: CPU per call ≤ {TARGET_GET_VS_FLOOR:g}× the floor client",
            result.call_ratio(NATIVE, FLOOR, "GetItem"),
            TARGET_GET_VS_FLOOR,
        )
    )
    found.append(
        _target(
            f"Read-only request over TLS, transport={native}: CPU over a bare app ≤ "
            f"{TARGET_TLS_READ_VS_REDIS:g}× starsessions + Redis over TLS",
            result.over_bare(NATIVE + TLS, REDIS + TLS, "read"),
            TARGET_TLS_READ_VS_REDIS,
        )
    )
    return found


def section(result: TransportsResult, machine: str) -> str:
    """The section's Markdown, between the markers that ``--section transports`` replaces."""
    return "\n\n".join([BEGIN, _body(result, machine), END])


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _request_rows(result: TransportsResult) -> list[list[str]]:
    rows = []
    for row in result.requests:
        bare = result.request(BARE, row.kind)
        assert bare is not None
        calls = " + ".join(f"{n:g} {op}" for op, n in row.calls_per_request.items()) or "—"
        over_tls = row.name.endswith(TLS)
        boto3 = BOTO3 + TLS if over_tls else BOTO3
        redis = REDIS + TLS if over_tls else REDIS
        dynamodb = row.name not in (BARE, REDIS, REDIS + TLS)
        rows.append(
            [
                row.name,
                _KIND[row.kind],
                f"{row.cpu_us:,.0f}",
                f"{min(row.cpu):,.0f}–{max(row.cpu):,.0f}",
                f"{row.wall_us:,.0f}",
                calls,
                "—" if row.name == BARE else f"{row.cpu_us - bare.cpu_us:,.0f}",
                _ratio(result.over_bare(row.name, boto3, row.kind)) if dynamodb else "—",
                "—" if row.name == BARE else _ratio(result.over_bare(row.name, redis, row.kind)),
            ]
        )
    return rows


def _call_rows(result: TransportsResult) -> list[list[str]]:
    rows = []
    for row in result.calls:
        redis = row.name.startswith(REDIS_PY)
        floor = FLOOR + TLS if row.name.endswith(TLS) else FLOOR
        counted = result.instructions.get((row.name, row.kind))
        floor_counted = result.instructions.get((floor, row.kind))
        rows.append(
            [
                row.name,
                REDIS_OPERATIONS[row.kind] if redis else row.kind,
                f"{row.cpu_us:,.0f}",
                f"{row.wall_us:,.0f}",
                "—" if counted is None else f"{counted / 1000:,.0f} k",
                _ratio(result.call_ratio(row.name, floor, row.kind)),
                "—" if counted is None or floor_counted is None else _ratio(counted / floor_counted),
            ]
        )
    return rows


def _body(result: TransportsResult, machine: str) -> str:
    load_rows = [
        [
            load.name,
            str(load.clients),
            str(load.max_concurrency),
            f"{load.requests_per_second:,.0f}",
            f"{load.cpu_us:,.0f}",
        ]
        for load in result.load
    ]
    text = [
        "## 6. DynamoDB transports",
        machine_line(machine),
        f"Against {result.endpoint}; Redis is Debian's `redis-server` on 127.0.0.1. Both run in processes "
        "of their own, so CPU time (`time.process_time()`) is the client's alone: Starlette, the session "
        "middleware, the store and its HTTP stack, driven in-process by direct ASGI calls. Read-only "
        "requests read a session of about 1 KB, modifying ones change one key of it; dynsession's "
        f"clock stands still, so no read is due a TTL refresh. {result.rounds} interleaved rounds of "
        f"{result.requests_per_round:,} requests (or calls) per row; medians. Over TLS, the emulator sits "
        "behind Debian's stunnel and Redis serves its own TLS port (`--tls-port`), both in processes of "
        "their own, with a certificate from a throwaway CA the clients are given as their bundle. The "
        "machine is shared: CPU times move with its load, ratios within one run much less; the "
        "instruction counts (callgrind) do not depend on it.",
        "\"over bare\" is the request's CPU minus the bare app's; the ratios divide those, each TLS row "
        "by its TLS counterpart.",
        table(
            [
                "variant",
                "request",
                "CPU µs/request",
                "range",
                "wall µs",
                "DynamoDB calls/request",
                "µs over bare",
                "÷ boto3 transport",
                "÷ starsessions + Redis",
            ],
            _request_rows(result),
        ),
        "### Targets",
        table(
            ["target", "measured", "met"],
            [[t, m, "—" if ok is None else yes(ok)] for t, m, ok in targets(result)],
        ),
        "### Per call",
        "Each transport's `call()` alone, same rounds; a 1 KB item; PutItem is conditional on the item's "
        "version and asks for `ReturnValuesOnConditionCheckFailure`. "
        "The floor (`benchmarks/transports/floor.py`) "
        "is the least a client can do per call: one keep-alive connection on an `asyncio.Protocol`, "
        "dynsession's signer and JSON codec, the answer's head parsed for status and Content-Length "
        "only, no retries, timeouts or checksum. redis-py's GET and SET of a 1 KB value stand beside "
        "GetItem and PutItem. "
        + (
            f"Instructions per call were not counted: {result.instructions_note}."
            if result.instructions_note
            else "Instructions per call are callgrind's count, each row in a process of its own after a "
            "warm-up (`benchmarks/harness/callgrind.py`); over TLS for GetItem and GET only."
        ),
        table(
            [
                "client",
                "call",
                "CPU µs/call",
                "wall µs",
                "instructions/call",
                "÷ floor (CPU)",
                "÷ floor (instructions)",
            ],
            _call_rows(result),
        ),
        "### Under load",
        f"{result.load[0].clients if result.load else 0} concurrent clients making read-only requests for "
        f"{result.load_seconds:g} s per transport, one process, the store's default `max_concurrency`.",
        table(["transport", "clients", "max_concurrency", "requests/s", "CPU µs/request"], load_rows),
    ]
    for name, why in result.unavailable.items():
        text.append(f"{name} was not run: {why}.")
    return "\n\n".join(text)


def splice(document: str, new_section: str) -> str:
    """``document`` with its section 6 replaced by ``new_section`` (appended if it has none)."""
    return markdown.splice(document, new_section, BEGIN, END)
