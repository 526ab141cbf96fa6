"""Section 6 of RESULTS.md: the transports, and the three targets they are measured against."""

from __future__ import annotations

from .markdown import machine_line, table, yes
from .transports import AIODYNAMO, BARE, BOTO3, NATIVE, RAW, REDIS, TransportsResult

TARGET_NATIVE_VS_BOTO3 = 0.35
TARGET_READ_VS_REDIS = 1.5
TARGET_WRITE_VS_REDIS = 3.0

BEGIN = "<!-- section 6: begin -->"
END = "<!-- section 6: end -->"
_KIND = {"read": "read-only", "write": "modifying"}


def targets(result: TransportsResult) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met); ``met`` is None when a row needed for it did not run."""
    found: list[tuple[str, str, bool | None]] = []
    for kind in ("read", "write"):
        ratio = result.ratio(NATIVE, BOTO3, kind)
        assert ratio is not None  # both transports always run
        found.append(
            (
                f"Native transport ≤ {TARGET_NATIVE_VS_BOTO3}× the boto3 transport's CPU, "
                f"{_KIND[kind]} request",
                f"{ratio:.2f}×",
                ratio <= TARGET_NATIVE_VS_BOTO3,
            )
        )
    for kind, target in (("read", TARGET_READ_VS_REDIS), ("write", TARGET_WRITE_VS_REDIS)):
        label = f"{_KIND[kind].capitalize()} request (native) ≤ {target:g}× starsessions + Redis CPU"
        ratio = result.ratio(NATIVE, REDIS, kind)
        if ratio is None:
            found.append((label, "not run", None))
        else:
            found.append((label, f"{ratio:.2f}×", ratio <= target))
    return found


def section(result: TransportsResult, machine: str) -> str:
    """The section's Markdown, between the markers that ``--section transports`` replaces."""
    return "\n\n".join([BEGIN, _body(result, machine), END])


def _body(result: TransportsResult, machine: str) -> str:
    rows = []
    for row in result.requests:
        calls = " + ".join(f"{n:g} {op}" for op, n in row.calls_per_request.items()) or "—"
        vs_boto3 = result.ratio(row.name, BOTO3, row.kind) if row.name in (BOTO3, NATIVE) else None
        vs_redis = result.ratio(row.name, REDIS, row.kind) if row.name != BARE else None
        rows.append(
            [
                row.name,
                _KIND[row.kind],
                f"{row.cpu_us:,.0f}",
                f"{min(row.cpu):,.0f}–{max(row.cpu):,.0f}",
                f"{row.wall_us:,.0f}",
                calls,
                "—" if vs_boto3 is None else f"{vs_boto3:.2f}×",
                "—" if vs_redis is None else f"{vs_redis:.2f}×",
            ]
        )
    if REDIS in result.unavailable:
        for kind in ("read", "write"):
            rows.append([REDIS, _KIND[kind], "not run", "", "", "", "", ""])
    boto3_calls = {row.kind: row.cpu_us for row in result.calls if row.name == BOTO3}
    call_rows = [
        [
            row.name,
            row.kind,
            f"{row.cpu_us:,.0f}",
            f"{row.wall_us:,.0f}",
            f"{row.cpu_us / boto3_calls[row.kind]:.2f}×",
        ]
        for row in result.calls
    ]
    if AIODYNAMO in result.unavailable:
        call_rows += [[AIODYNAMO, operation, "not run", "", ""] for operation in ("GetItem", "PutItem")]
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
        f"{result.requests_per_round:,} requests per row; medians.",
        table(
            [
                "variant",
                "request",
                "CPU µs/request",
                "range",
                "wall µs",
                "DynamoDB calls/request",
                "÷ boto3 transport",
                "÷ starsessions + Redis",
            ],
            rows,
        ),
        "### Targets",
        table(
            ["target", "measured", "met"],
            [[t, m, "—" if ok is None else yes(ok)] for t, m, ok in targets(result)],
        ),
        "### Per DynamoDB call",
        "Each transport's `call()` alone, same rounds and sizes; PutItem is conditional on the item's "
        "version and asks for `ReturnValuesOnConditionCheckFailure`. "
        f'"{RAW}" posts an already signed GetItem through a bare aiohttp session and reads the '
        "answer: what the HTTP client itself costs, the floor under the native transport's signing, "
        "JSON and retry handling. "
        f'"{AIODYNAMO}" sends the same requests through aiodynamo\'s low-level API on the same aiohttp '
        "session, Binary decoded as the transports do: the alternative the native transport was "
        "measured against before it was written.",
        table(["transport", "operation", "CPU µs/call", "wall µs", "÷ boto3"], call_rows),
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
    start, end = document.find(BEGIN), document.find(END)
    if start == -1 or end == -1:
        return document.rstrip("\n") + "\n\n" + new_section + "\n"
    return document[:start] + new_section + document[end + len(END) :]
