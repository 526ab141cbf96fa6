"""RESULTS.md: the targets, then one section per benchmark, from the results of a run."""

from __future__ import annotations

from dataclasses import dataclass

from .cache import cache_calls, report_cache
from .calls import calls, report_calls
from .cpu import cpu, latency, security
from .cpu.latency import percentile
from .harness.markdown import machine_line, table, yes
from .transports import report_transports, transports

TARGET_CPU_STARSESSIONS = 1.0
TARGET_CPU_STARLETTE = 0.9
TARGET_P99_MS = 5.0


@dataclass(frozen=True, slots=True)
class Results:
    machine: str
    started: str
    seconds: float
    calls: calls.CallsResult
    cpu: cpu.CpuResult
    blocking: latency.BlockingResult
    throughput: latency.ThroughputResult
    transports: transports.TransportsResult | None = None
    cache: cache_calls.CacheCallsResult | None = None
    security: security.SecurityResult | None = None


def targets(results: Results) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target the benchmarks track."""
    found = report_calls.targets(results.calls) + cpu_targets(results.cpu)
    rise = results.blocking.p99_increase_ms
    found.append((f"Probe p99 increase < {TARGET_P99_MS:g} ms", f"{rise:+.2f} ms", rise < TARGET_P99_MS))
    if results.transports is not None:
        # Section 6 lists its own targets too, so that a run of that section alone updates them.
        found += [(t, m, ok) for t, m, ok in report_transports.targets(results.transports) if ok is not None]
    if results.cache is not None:
        found += report_cache.targets(results.cache)
    return found


def cpu_targets(c: cpu.CpuResult) -> list[tuple[str, str, bool]]:
    """Section 3's targets: dynsession's CPU over the bare app against the other middlewares'."""
    found = []
    if c.has(cpu.STARSESSIONS):
        ratio = c.ratio(cpu.DYNSESSION, cpu.STARSESSIONS)
        found.append(
            (
                f"CPU overhead ≤ {TARGET_CPU_STARSESSIONS}× starsessions",
                f"{ratio:.2f}×",
                ratio <= TARGET_CPU_STARSESSIONS,
            )
        )
    ratio = c.ratio(cpu.DYNSESSION, cpu.STARLETTE)
    found.append(
        (
            f"CPU overhead ≤ {TARGET_CPU_STARLETTE}× Starlette cookie sessions",
            f"{ratio:.2f}×",
            ratio <= TARGET_CPU_STARLETTE,
        )
    )
    return found


def splice_cpu(existing: str, c: cpu.CpuResult, machine: str) -> str:
    """``existing`` with section 3 and its target rows replaced from ``c``. Raises ValueError when
    ``existing`` has no section 3."""
    parts = existing.rstrip("\n").split("\n\n## ")
    index = next((i for i, part in enumerate(parts) if part.startswith("3. ")), None)
    if index is None:
        raise ValueError("RESULTS.md has no section 3")
    parts[index] = cpu_section(c, machine).removeprefix("## ")
    text = "\n\n## ".join(parts) + "\n"
    lines = text.split("\n")
    for target, measured, met in cpu_targets(c):
        # The row of the same comparison, whatever limit it was written with.
        head, _, compared = target.partition(" ≤ ")
        compared = compared.split(" ", 1)[1]
        for number, line in enumerate(lines):
            if line.startswith(f"| {head} ≤ ") and line.split(" | ")[0].endswith(compared):
                lines[number] = f"| {target} | {measured} | {yes(met)} |"
    return "\n".join(lines)


def markdown(results: Results) -> str:
    parts = [
        "# dynsession benchmarks",
        f"Written by `python -m benchmarks` ({results.started}, {results.seconds:.0f} s).  \n"
        f"Machine: {results.machine}.",
        "Every comparison below ran in this one process run, interleaved. Times are medians; they vary "
        "from machine to machine and CI never asserts them. Call counts are exact and the test suite "
        "checks them (`pytest -m bench_smoke`).",
        "## Targets",
        table(["target", "measured", "met"], [[t, m, yes(ok)] for t, m, ok in targets(results)]),
        report_calls.scenarios(results.calls, results.machine),
        report_calls.mix_section(results.calls, results.machine),
        cpu_section(results.cpu, results.machine),
        _blocking(results),
        _throughput(results),
    ]
    if results.transports is not None:
        parts.append(report_transports.section(results.transports, results.machine))
    if results.cache is not None:
        parts.append(report_cache.section(results.cache, results.machine))
    if results.security is not None:
        parts.append(security.markdown(results.security, results.machine))
    return "\n\n".join(parts) + "\n"


def cpu_section(c: cpu.CpuResult, machine: str) -> str:
    base = c.median(cpu.BASELINE)
    rows = []
    for row in c.rows:
        over = row.median_us - base
        spread = f"{min(row.samples):.1f}–{max(row.samples):.1f}"
        ratio = "—" if row.name == cpu.BASELINE else f"{c.ratio(cpu.DYNSESSION, row.name):.2f}×"
        counted = c.instructions.get(row.name)
        over_counted = c.instructions_over(row.name)
        counted_ratio = c.instructions_ratio(cpu.DYNSESSION, row.name)
        rows.append(
            [
                row.name,
                f"{row.median_us:.1f}",
                spread,
                f"{over:.1f}",
                ratio,
                "—" if counted is None else f"{counted / 1000:,.1f} k",
                "—" if over_counted is None else f"{over_counted / 1000:,.1f} k",
                "—" if counted_ratio is None or row.name == cpu.BASELINE else f"{counted_ratio:.2f}×",
            ]
        )
    text = [
        "## 3. Middleware CPU overhead",
        machine_line(machine),
        f"The same Starlette app (read one key; write one key on 1 request in 10) behind each middleware, "
        f"driven in-process by direct ASGI calls, 50 users who already have a session; "
        f"{c.rounds} interleaved rounds of {c.requests_per_round:,} requests per variant. Times are the "
        "process's CPU time (not wall time, which other work on the machine would inflate), "
        "including Starlette's routing and the in-process client, which the baseline row isolates. The "
        "machine is shared, so times move with its load; ratios within one run move much less, and the "
        "instruction counts (valgrind's callgrind, the same mix in a process of its own per variant, "
        "start-up and warm-up not counted) not at all. Callgrind does not emulate the CPU's SHA "
        "instructions, so hashing weighs more in the counts than in CPU time.",
        table(
            [
                "variant",
                "CPU µs/request (median)",
                "range",
                "µs over baseline",
                "dynsession ÷ this",
                "instructions/request",
                "over baseline",
                "dynsession ÷ this (instructions)",
            ],
            rows,
        ),
        '"dynsession ÷ this" divides dynsession\'s µs (or instructions) over the baseline by the '
        "variant's. Settings: dynsession with its defaults (idle timeout 1800 s); starsessions with "
        "`lifetime=1800` and its `SessionAutoloadMiddleware`; Starlette's middleware with "
        "`https_only=True`. starsessions rewrites its store on every request with a non-empty session and "
        "Starlette's middleware decodes the whole session from the cookie; dynsession reads its store once "
        "and writes only on change. The baseline puts a plain dict in the scope so the same endpoints run.",
    ]
    if c.instructions_note is not None:
        text.append(f"Instructions were not counted: {c.instructions_note}.")
    if c.has(cpu.EVENTUAL):
        extra = c.median(cpu.EVENTUAL) - c.median(cpu.DYNSESSION)
        text.append(
            f"The eventually consistent variant re-sends the cookie, re-signed with the new version, on "
            f"every write: {extra:+.1f} µs per request against the default on this mix, about "
            f"{extra * cpu.WRITE_EVERY:+.1f} µs per write (its reads take the same path: MemoryStore "
            "never lags)."
        )
    for name, why in c.unavailable.items():
        text.append(f"{name} could not run here: {why}")
    return "\n\n".join(text)


def _blocking(results: Results) -> str:
    b = results.blocking
    rows = [
        [
            label,
            str(len(b.probes_loaded if loaded else b.probes_idle)),
            f"{b.p(loaded, 0.5):.2f}",
            f"{b.p(loaded, 0.99):.2f}",
        ]
        for label, loaded in (("probe alone", False), (f"probe + {b.sessions} session clients", True))
    ]
    if b.probes_control:
        control = b.probes_control
        label = "control: the same clients, the store blocking the event loop"
        rows.append(
            [label, str(len(control)), f"{percentile(control, 0.5):.2f}", f"{percentile(control, 0.99):.2f}"]
        )
    return "\n\n".join(
        [
            "## 4. Event-loop blocking",
            machine_line(results.machine),
            f"A session-free endpoint probed every 10 ms (latency counted from the tick it was due), alone "
            f"and beside {b.sessions} concurrent clients making session requests against a store that "
            f"blocks its worker thread {b.latency_ms:g} ms per call; the two phases alternate.",
            table(["phase", "probes", "p50 ms", "p99 ms"], rows),
            f"p99 increase: {b.p99_increase_ms:+.2f} ms, while {b.session_requests:,} session requests "
            "were served. The control row (not part of the target) sleeps on the event loop instead of in "
            "a worker thread, as a store calling boto3 directly from `async def` would: the probe sees it.",
        ]
    )


def _throughput(results: Results) -> str:
    t = results.throughput
    latency_s = t.latency_ms / 1000
    most = max(t.client_counts)
    rows = []
    for size in t.limiter_sizes:
        point = t.at(size, most)
        bound = point.bound(latency_s)
        rows.append(
            [
                str(size),
                f"{point.requests_per_second:,.0f}",
                f"{bound:,.0f}",
                f"{point.requests_per_second / bound:.0%}",
            ]
        )
    return "\n\n".join(
        [
            "## 5. Throughput under store latency",
            machine_line(results.machine),
            f"Read-only session requests (one store call each) from {most} concurrent clients, the store "
            f"blocking a worker thread {t.latency_ms:g} ms per call, at most `limiter_size` calls at once "
            "(DynamoDBStore's `max_concurrency`). The bound is `min(clients, limiter_size) / latency`.",
            table(["limiter_size", "requests/s", "bound", "of bound"], rows),
            "![throughput vs concurrency](results.png)",
            "The plot shows every client count: throughput follows the bound until the event loop's own "
            "work per request (one process, one core for Python) becomes the limit.",
        ]
    )
