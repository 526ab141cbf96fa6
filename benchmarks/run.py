"""Run every section, print the tables, and write RESULTS.md and results.png."""

from __future__ import annotations

import argparse
import datetime
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import plot, report
from .cache import cache_calls, hybrid_calls, report_cache, report_hybrid
from .calls import calls, splice
from .cpu import cpu, latency, security
from .harness import machine
from .transports import report_transports, transports

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Sizes:
    repeats: int  # per scenario (section 1)
    mix_requests: int  # section 2
    cpu_requests: int  # per variant and round (section 3)
    cpu_rounds: int
    probe_seconds: float  # per phase (section 4)
    probe_phases: int
    throughput_seconds: float  # per point (section 5)
    transport_requests: int  # per row and round (section 6)
    transport_rounds: int
    load_clients: int  # concurrent clients under load (section 6)
    load_seconds: float
    cache_operations: int  # section 7's mix
    counted_requests: int = 0  # per variant under callgrind (section 3); 0: not counted
    counted_calls: int = 0  # per call row under callgrind (section 6); 0: not counted
    limiter_sizes: tuple[int, ...] = (4, 16, 64)
    client_counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)


FULL = Sizes(
    repeats=20,
    mix_requests=10_000,
    cpu_requests=1_000,
    cpu_rounds=41,
    probe_seconds=2.0,
    probe_phases=5,
    throughput_seconds=1.0,
    transport_requests=100,
    transport_rounds=7,
    load_clients=64,
    load_seconds=3.0,
    cache_operations=10_000,
    counted_requests=500,
    counted_calls=50,
)
TINY = Sizes(
    repeats=2,
    mix_requests=200,
    cpu_requests=20,
    cpu_rounds=2,
    probe_seconds=0.1,
    probe_phases=1,
    throughput_seconds=0.05,
    transport_requests=4,
    transport_rounds=1,
    load_clients=4,
    load_seconds=0.1,
    cache_operations=200,
    limiter_sizes=(2, 4),
    client_counts=(1, 4),
)


def run_transports(
    sizes: Sizes, endpoint_url: str | None = None, endpoint_name: str | None = None
) -> transports.TransportsResult:
    """Run section 6 alone."""
    return transports.run_transports(
        endpoint_url,
        requests_per_round=sizes.transport_requests,
        rounds=sizes.transport_rounds,
        load_clients=sizes.load_clients,
        load_seconds=sizes.load_seconds,
        name=endpoint_name,
        counted_calls=sizes.counted_calls,
    )


def run_cpu(sizes: Sizes) -> cpu.CpuResult:
    """Run section 3 alone."""
    return cpu.run_cpu(
        requests_per_round=sizes.cpu_requests,
        rounds=sizes.cpu_rounds,
        counted_requests=sizes.counted_requests,
    )


def run_cache(
    sizes: Sizes, endpoint_url: str | None = None, endpoint_name: str | None = None
) -> cache_calls.CacheCallsResult:
    """Run section 7 alone."""
    return cache_calls.run_cache_calls(endpoint_url, operations=sizes.cache_operations, name=endpoint_name)


def run_security(sizes: Sizes) -> security.SecurityResult:
    """Run section 8 alone."""
    return security.run_security(requests_per_round=sizes.cpu_requests, rounds=sizes.cpu_rounds)


def run_all(
    sizes: Sizes, endpoint_url: str | None = None, endpoint_name: str | None = None
) -> report.Results:
    """Run the eight sections in order and return their results."""
    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.perf_counter()
    call_results = calls.run_calls(
        endpoint_url, repeats=sizes.repeats, mix_requests=sizes.mix_requests, name=endpoint_name
    )
    cpu_results = run_cpu(sizes)
    blocking = latency.run_blocking(phase_seconds=sizes.probe_seconds, phases=sizes.probe_phases)
    throughput = latency.run_throughput(
        seconds=sizes.throughput_seconds, limiter_sizes=sizes.limiter_sizes, client_counts=sizes.client_counts
    )
    return report.Results(
        machine=machine.describe(),
        started=started.strftime("%Y-%m-%d %H:%M UTC"),
        seconds=time.perf_counter() - clock,
        calls=call_results,
        cpu=cpu_results,
        blocking=blocking,
        throughput=throughput,
        transports=run_transports(sizes, endpoint_url, endpoint_name),
        cache=run_cache(sizes, endpoint_url, endpoint_name),
        security=run_security(sizes),
    )


SOAK_BEGIN = "<!-- section 9: begin -->"
SOAK_END = "<!-- section 9: end -->"


def write(results: report.Results, directory: Path) -> str:
    """Write RESULTS.md and results.png into ``directory``; return the Markdown. Section 9 (the
    soak's figures, measured by ``python -m tests.soak``, not here) is kept as it was."""
    text = report.markdown(results)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "RESULTS.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if SOAK_BEGIN in existing and SOAK_END in existing:
        start, end = existing.index(SOAK_BEGIN), existing.index(SOAK_END) + len(SOAK_END)
        text = f"{text.rstrip()}\n\n{existing[start:end]}\n"
    path.write_text(text, encoding="utf-8")
    plot.plot(results, directory / "results.png")
    return text


def rewrite_calls(sizes: Sizes, endpoint_url: str | None, endpoint_name: str | None, directory: Path) -> str:
    """Run sections 1 and 2 and splice them into ``directory``'s RESULTS.md; return the new text."""
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    result = calls.run_calls(
        endpoint_url, repeats=sizes.repeats, mix_requests=sizes.mix_requests, name=endpoint_name
    )
    path = directory / "RESULTS.md"
    text = splice.splice_calls(path.read_text(encoding="utf-8"), result, machine.describe(), started)
    path.write_text(text, encoding="utf-8")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("DYNSESSION_TEST_ENDPOINT") or None,
        help="DynamoDB endpoint for sections 1, 2 and 7 (dynalite, AWS); default: $DYNSESSION_TEST_ENDPOINT, "
        "else moto's server on 127.0.0.1",
    )
    parser.add_argument("--endpoint-name", help="how RESULTS.md names that endpoint (default: its URL)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the harness, measures nothing"
    )
    parser.add_argument("--output-dir", type=Path, default=HERE, help="where RESULTS.md and results.png go")
    parser.add_argument(
        "--section",
        choices=["calls", "cpu", "transports", "cache", "hybrid", "security"],
        help="run only this section (calls: sections 1-2, cpu: 3) and replace its part of the existing "
        "RESULTS.md",
    )
    args = parser.parse_args(argv)
    sizes = TINY if args.quick else FULL
    if args.section == "calls":
        print(rewrite_calls(sizes, args.endpoint_url, args.endpoint_name, args.output_dir))
        return 0
    if args.section == "cpu":
        print(write_cpu_section(run_cpu(sizes), args.output_dir))
        return 0
    if args.section == "transports":
        print(write_section(run_transports(sizes, args.endpoint_url, args.endpoint_name), args.output_dir))
        return 0
    if args.section == "cache":
        print(write_cache_section(run_cache(sizes, args.endpoint_url, args.endpoint_name), args.output_dir))
        return 0
    if args.section == "hybrid":
        result = hybrid_calls.run_hybrid(
            args.endpoint_url,
            gets=300 if args.quick else 20_000,
            name=args.endpoint_name,
            callgrind=not args.quick,
        )
        print(write_hybrid_part(result, args.output_dir))
        return 0
    if args.section == "security":
        print(write_security_section(run_security(sizes), args.output_dir))
        return 0
    results = run_all(sizes, args.endpoint_url, args.endpoint_name)
    print(write(results, args.output_dir))
    return 0


def write_section(result: transports.TransportsResult, directory: Path) -> str:
    """Replace section 6 of ``directory``'s RESULTS.md (or start one); return the section."""
    text = report_transports.section(result, machine.describe())
    path = directory / "RESULTS.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else "# dynsession benchmarks\n"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(report_transports.splice(existing, text), encoding="utf-8")
    return text


def write_cpu_section(result: cpu.CpuResult, directory: Path) -> str:
    """Replace section 3 of ``directory``'s RESULTS.md and its CPU target rows; return the section."""
    path = directory / "RESULTS.md"
    text = report.splice_cpu(path.read_text(encoding="utf-8"), result, machine.describe())
    path.write_text(text, encoding="utf-8")
    return report.cpu_section(result, machine.describe())


def write_cache_section(result: cache_calls.CacheCallsResult, directory: Path) -> str:
    """Replace section 7 of ``directory``'s RESULTS.md (or start one); return the section."""
    text = report_cache.section(result, machine.describe())
    path = directory / "RESULTS.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else "# dynsession benchmarks\n"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(
        report_cache.splice(existing, report_hybrid.carried_over(existing, text)), encoding="utf-8"
    )
    return text


def write_hybrid_part(result: hybrid_calls.HybridResult, directory: Path) -> str:
    """Replace section 7's HybridCache part in ``directory``'s RESULTS.md; return the part."""
    text = report_hybrid.part(result, machine.describe())
    path = directory / "RESULTS.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else "# dynsession benchmarks\n"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(report_hybrid.splice(existing, text), encoding="utf-8")
    return text


def write_security_section(result: security.SecurityResult, directory: Path) -> str:
    """Replace section 8 of ``directory``'s RESULTS.md (or start one); return the section."""
    text = security.markdown(result, machine.describe())
    path = directory / "RESULTS.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else "# dynsession benchmarks\n"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(security.splice(existing, text), encoding="utf-8")
    return text
