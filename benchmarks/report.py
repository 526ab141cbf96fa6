"""RESULTS.md and results.png from the results of every section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import calls, cpu, latency

TARGET_CPU_STARSESSIONS = 1.0
TARGET_CPU_STARLETTE = 1.3
TARGET_MIX = 0.05
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


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _n(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def mix_excess(result: calls.MixResult) -> float:
    """How far dynsession's capacity units lie above the minimum, as a fraction of the minimum."""
    minimum = result.row("minimum").units_per_1000
    return result.row("dynsession (measured)").units_per_1000 / minimum - 1


def targets(results: Results) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target the issue sets."""
    rows = results.calls.scenarios
    at_min = sum(row.at_minimum for row in rows)
    found = [
        (
            "Calls per request = the minimum, every scenario",
            f"{at_min} of {len(rows)} rows",
            at_min == len(rows),
        ),
        (
            f"Traffic mix within {TARGET_MIX:.0%} of the minimum (capacity units)",
            f"{mix_excess(results.calls.mix):+.1%}",
            mix_excess(results.calls.mix) <= TARGET_MIX,
        ),
    ]
    c = results.cpu
    if c.has(cpu.STARSESSIONS):
        ratio = c.ratio(cpu.DYNSESSION, cpu.STARSESSIONS)
        found.append(
            (f"CPU overhead ≤ {TARGET_CPU_STARSESSIONS}× starsessions", f"{ratio:.2f}×", ratio <= 1.0)
        )
    ratio = c.ratio(cpu.DYNSESSION, cpu.STARLETTE)
    found.append(
        (f"CPU overhead ≤ {TARGET_CPU_STARLETTE}× Starlette cookie sessions", f"{ratio:.2f}×", ratio <= 1.3)
    )
    rise = results.blocking.p99_increase_ms
    found.append((f"Probe p99 increase < {TARGET_P99_MS:g} ms", f"{rise:+.2f} ms", rise < TARGET_P99_MS))
    return found


def markdown(results: Results) -> str:
    parts = [
        "# dynsession benchmarks",
        f"Written by `python -m benchmarks` ({results.started}, {results.seconds:.0f} s).  \n"
        f"Machine: {results.machine}.",
        "Every comparison below ran in this one process run, interleaved. Times are medians; they vary "
        "from machine to machine and CI never asserts them. Call counts are exact and the test suite "
        "checks them (`pytest -m bench_smoke`).",
        "## Targets",
        _table(["target", "measured", "met"], [[t, m, _yes(ok)] for t, m, ok in targets(results)]),
        _scenarios(results),
        _mix(results),
        _cpu(results),
        _blocking(results),
        _throughput(results),
    ]
    return "\n\n".join(parts) + "\n"


def _machine(results: Results) -> str:
    return f"_Machine: {results.machine}._"


def _scenarios(results: Results) -> str:
    c = results.calls
    rows = []
    for row in c.scenarios:
        minimum = " + ".join(f"{n} {op}" for op, n in row.scenario.minimum.items()) or "none"
        counts = [_n(row.per_request(op)) for op in calls.OPERATIONS]
        units = [_n(row.reported[0]), _n(row.reported[1]), _n(row.by_rules[0]), _n(row.by_rules[1])]
        rows.append([row.scenario.name, *counts, minimum, *units, _yes(row.at_minimum)])
    header = ["scenario", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "minimum"]
    header += ["RCU reported", "WCU reported", "RCU by rules", "WCU by rules", "= minimum"]
    return "\n\n".join(
        [
            "## 1. DynamoDB calls per request, by scenario",
            _machine(results),
            f"DynamoDBStore against {c.endpoint}, `idle_timeout={calls.IDLE_TIMEOUT}`, "
            f"`refresh_after={calls.REFRESH_AFTER}`, strongly consistent reads (the default). Calls are "
            f"counted on the wire, per request, averaged over {c.scenarios[0].repeats} repetitions; "
            "the sessions read, refreshed, modified, regenerated or ended carry about 1 KB of data "
            f"(a {c.mix.session_item_bytes}-byte item). The minimum assumes, as every session middleware "
            "does, that the session is loaded before the handler runs; regenerating must delete the old "
            "item so the old ID stops working.",
            _table(header, rows),
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


def _mix(results: Results) -> str:
    m = results.calls.mix
    share = ", ".join(f"{pct} % {name}" for name, pct in m.shares.items())
    minimum = m.row("minimum").units_per_1000
    rows = []
    for row in m.rows:
        counts = [f"{row.calls_per_1000[op]:.1f}" for op in calls.OPERATIONS]
        units = [f"{row.read_units_per_1000:.1f}", f"{row.write_units_per_1000:.1f}"]
        total = row.units_per_1000
        rows.append([row.label, *counts, *units, f"{total:.1f}", f"{total / minimum:.2f}×"])
    header = ["policy", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "RCU", "WCU", "units", "vs minimum"]
    rcu, wcu = m.server_reported
    return "\n\n".join(
        [
            "## 2. Standard traffic mix",
            _machine(results),
            f"{m.requests:,} requests ({share}); {m.pool} signed-in users to start with, {m.rate} requests "
            "per simulated second, logins create sessions (with `regenerate_session`) and logouts end them. "
            "Per 1,000 requests; units by DynamoDB's rules for the "
            f"{m.session_item_bytes}-byte session item.",
            _table(header, rows),
            f"dynsession is {mix_excess(m):+.1%} from the minimum. The minimum is the fewest calls this "
            "traffic needs with a sliding idle timeout kept to `refresh_after` precision: one GetItem per "
            "request with a session, one write per change, login or logout, and one TTL refresh when the "
            "stored deadline lags by more than `refresh_after`; it is computed by an independent model of "
            "the traffic, not by dynsession. The two policies are computed from their documented behaviour "
            "for the same requests: write-every-request rewrites the whole item on every request with a "
            "session (Flask-Session's DynamoDB backend with its default SESSION_REFRESH_EACH_REQUEST); "
            "touch-every-read resets the expiry with an UpdateItem on every read (the AWS .NET session "
            "provider's ResetItemTimeout). The last row shows what the same traffic would cost with no "
            f"idle-timeout refresh at all. The server reported {rcu:.1f} RCU and {wcu:.1f} WCU per 1,000 "
            "requests for dynsession.",
        ]
    )


def _cpu(results: Results) -> str:
    c = results.cpu
    base = c.median(cpu.BASELINE)
    rows = []
    for row in c.rows:
        over = row.median_us - base
        spread = f"{min(row.samples):.1f}–{max(row.samples):.1f}"
        ratio = "—" if row.name == cpu.BASELINE else f"{c.ratio(cpu.DYNSESSION, row.name):.2f}×"
        rows.append([row.name, f"{row.median_us:.1f}", spread, f"{over:.1f}", ratio])
    text = [
        "## 3. Middleware CPU overhead",
        _machine(results),
        f"The same Starlette app (read one key; write one key on 1 request in 10) behind each middleware, "
        f"driven in-process by direct ASGI calls, 50 users who already have a session; "
        f"{c.rounds} interleaved rounds of {c.requests_per_round:,} requests per variant. Times are the "
        "process's CPU time (not wall time, which other work on the machine would inflate), "
        "including Starlette's routing and the in-process client, which the baseline row isolates.",
        _table(
            ["variant", "CPU µs/request (median)", "range", "µs over baseline", "dynsession ÷ this"], rows
        ),
        "\"dynsession ÷ this\" divides dynsession's µs over the baseline by the variant's. Settings: "
        "dynsession with its defaults (idle timeout 1800 s); starsessions with `lifetime=1800` and its "
        "`SessionAutoloadMiddleware`; Starlette's middleware with `https_only=True`. starsessions rewrites "
        "its store on every request with a non-empty session and Starlette's middleware decodes the whole "
        "session from the cookie; dynsession reads its store once and writes only on change. The "
        "baseline puts a plain dict in the scope so the same endpoints run.",
    ]
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
    return "\n\n".join(
        [
            "## 4. Event-loop blocking",
            _machine(results),
            f"A session-free endpoint probed every 10 ms (latency counted from the tick it was due), alone "
            f"and beside {b.sessions} concurrent clients making session requests against a store that "
            f"blocks its worker thread {b.latency_ms:g} ms per call; the two phases alternate.",
            _table(["phase", "probes", "p50 ms", "p99 ms"], rows),
            f"p99 increase: {b.p99_increase_ms:+.2f} ms, while {b.session_requests:,} session requests "
            "were served.",
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
            _machine(results),
            f"Read-only session requests (one store call each) from {most} concurrent clients, the store "
            f"blocking a worker thread {t.latency_ms:g} ms per call, at most `limiter_size` calls at once "
            "(DynamoDBStore's `max_concurrency`). The bound is `min(clients, limiter_size) / latency`.",
            _table(["limiter_size", "requests/s", "bound", "of bound"], rows),
            "![throughput vs concurrency](results.png)",
            "The plot shows every client count: throughput follows the bound until the event loop's own "
            "work per request (one process, one core for Python) becomes the limit.",
        ]
    )


def plot(results: Results, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = results.throughput
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    for size in t.limiter_sizes:
        points = [t.at(size, n) for n in t.client_counts]
        line = left.plot(t.client_counts, [p.requests_per_second for p in points], marker="o")[0]
        bounds = [p.bound(t.latency_ms / 1000) for p in points]
        left.plot(t.client_counts, bounds, linestyle="--", color=line.get_color(), alpha=0.5)
        line.set_label(f"limiter_size={size} (dashed: bound)")
    left.set_xscale("log", base=2)
    left.set_yscale("log")
    left.set_xticks(t.client_counts, [str(n) for n in t.client_counts])
    left.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    left.set_xlabel("concurrent clients")
    left.set_ylabel("requests/s")
    left.set_title(f"Throughput, store latency {t.latency_ms:g} ms")
    left.legend()
    c = results.cpu
    names = [row.name for row in c.rows if row.name != cpu.BASELINE]
    right.barh(names, [c.overhead(name) for name in names], color="tab:gray")
    right.set_xlabel("CPU µs per request over no middleware (median)")
    right.set_title("Middleware CPU overhead")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
