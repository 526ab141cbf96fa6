"""Section 7's HybridCache part: its own markers inside section 7, so either can be re-run alone."""

from __future__ import annotations

from ..harness import dynamo, markdown
from ..harness.markdown import table
from .hybrid_calls import HybridResult

BEGIN = "<!-- section 7 hybrid: begin -->"
END = "<!-- section 7 hybrid: end -->"
SECTION_END = "<!-- section 7: end -->"


def get_items_saved(result: HybridResult) -> float:
    """GetItems per 1,000 gets of DynamoDBCache alone over those with local_ttl=5."""
    rows = {row.label: row for row in result.mix}
    alone, local = rows["DynamoDBCache alone"], rows["HybridCache, local_ttl=5"]
    return alone.calls_per_1000["GetItem"] / max(local.calls_per_1000["GetItem"], 1e-9)


def part(r: HybridResult, machine: str) -> str:
    """The HybridCache part of section 7, between its markers."""
    mix_rows = [
        [
            row.label,
            f"{row.gets:,}",
            *(f"{row.calls_per_1000[op]:.1f}" for op in dynamo.OPERATIONS),
            f"{row.local_hits * 1000 / row.gets:.0f}",
            f"{row.cpu_us_per_get:.0f}",
        ]
        for row in r.mix
    ]
    mix_header = ["variant", "gets", *(f"{op} per 1,000 gets" for op in dynamo.OPERATIONS)]
    mix_header += ["local hits per 1,000", "CPU µs per operation (median of 3)"]
    stampede_rows = [
        [
            row.label,
            str(row.factory_runs),
            *(str(row.calls.get(op, 0)) for op in dynamo.OPERATIONS),
            str(row.lock_waits),
        ]
        for row in r.stampede
    ]
    stampede_header = ["100 concurrent misses", "factory runs", *dynamo.OPERATIONS, "lock waits"]
    if r.hit_cpu is not None:
        hit = (
            f"A local hit (`HybridCache.get` of a fresh copy) costs {r.hit_cpu.local_hit_us:.1f} µs of CPU; "
            f"redis-py's asyncio GET of the same 1,000-byte value from redis-server (out of process) "
            f"{r.hit_cpu.redis_get_us:.1f} µs, in the same run, interleaved ({r.hit_cpu.rounds} rounds, "
            f"medians): the local hit is {r.hit_cpu.ratio:.0f}× cheaper."
        )
    else:
        hit = f"The local hit beside redis-py was not measured: {r.why_no_redis}."
    if r.hit_instructions is not None:
        local, remote = r.hit_instructions["local"], r.hit_instructions["redis"]
        hit += (
            " Counted by callgrind (user-space instructions, whatever the load): "
            f"{local:,.0f} per local hit, {remote:,.0f} per redis-py GET, {remote / local:.1f}× "
            "(the kernel's share of a network round trip, which callgrind does not see, is why "
            "the CPU-time ratio is larger)."
        )
    o = r.outage
    return "\n\n".join(
        [
            BEGIN,
            "### HybridCache: a local tier in front",
            markdown.machine_line(machine),
            f"Against {r.endpoint}. A Zipf mix (s = {r.zipf:g}) over {r.keys:,} keys, warm in DynamoDB, from "
            f"{r.tasks} concurrent tasks: 98 % `get_or_set`, 2 % `set`, {r.rate:,} operations per simulated "
            "second, "
            "three interleaved rounds per variant. Calls are counted on the way to the transport; CPU is "
            "`process_time` of the client (dynalite runs in its own process).",
            table(mix_header, mix_rows),
            f"With `local_ttl=5` the mix makes {get_items_saved(r):.1f}× fewer GetItems than "
            "DynamoDBCache alone.",
            hit,
            "Cold start: 100 concurrent `get_or_set` of one missing key, 25 in each of 4 HybridCache "
            "instances with their own DynamoDBCache and connection; the factory takes 50 ms.",
            table(stampede_header, stampede_rows),
            "Without a lease every process that misses before the value is stored runs the factory "
            "(its own single flight shares the run within the process); with `lock_timeout` one process "
            "runs it for the cluster: the lease is a conditional PutItem, the "
            "re-check under it a GetItem, the release a DeleteItem; each waiter's failed lease attempt is "
            "a PutItem and each of its polls a GetItem of the value and one of the lease.",
            f"DynamoDB down: {o.keys} keys expired 60 s earlier, then {o.gets:,} `get_or_set` calls while "
            f"every DynamoDB call fails. With `fail_safe=3600`: {o.stale_served:,} stale serves, "
            f"{o.errors} errors, "
            f"{o.calls_tried} calls tried (one per key per `local_ttl`: a failure is not retried on every "
            f"get). Without fail-safe: {o.errors_without_fail_safe:,} errors.",
            END,
        ]
    )


def splice(document: str, new_part: str) -> str:
    """``document`` with its HybridCache part replaced, or inserted at the end of section 7."""
    if BEGIN in document and END in document:
        return markdown.splice(document, new_part, BEGIN, END)
    if SECTION_END in document:
        return document.replace(SECTION_END, new_part + "\n\n" + SECTION_END, 1)
    return document.rstrip("\n") + "\n\n" + new_part + "\n"


def carried_over(old_document: str, new_section: str) -> str:
    """``new_section`` (a whole section 7) with the HybridCache part ``old_document`` had."""
    start, stop = old_document.find(BEGIN), old_document.find(END)
    if start == -1 or stop == -1:
        return new_section
    return splice(new_section, old_document[start : stop + len(END)])
