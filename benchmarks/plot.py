"""results.png: throughput against concurrency per limiter size, and the CPU overhead bars."""

from __future__ import annotations

from pathlib import Path

from .cpu import cpu
from .report import Results


def plot(results: Results, path: Path) -> None:
    """Draw both charts into one PNG at ``path``."""
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
