"""Section 8: the CPU the opt-in security features add per read and per write, in-process."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from starlette.applications import Starlette

from dynsession import ClientBinding, MemoryStore

from ..harness import apps
from ..harness.driver import Browser, request
from ..harness.markdown import machine_line, table
from ..harness.markdown import splice as splice_between

PLAIN = "defaults"
ENCRYPTED = "encryption_key (AES-256-GCM)"
BOUND = "client_binding (User-Agent and /24)"
_BROWSERS = 50
_ENCRYPTION_KEY = "benchmark-encryption-key-of-32-bytes+"


@dataclass(frozen=True, slots=True)
class SecurityRow:
    name: str
    read_us: float  # CPU µs per read-only request, median over rounds
    write_us: float  # CPU µs per request that changes the session, median over rounds


@dataclass(frozen=True, slots=True)
class SecurityResult:
    rows: tuple[SecurityRow, ...]
    requests_per_round: int
    rounds: int

    def row(self, name: str) -> SecurityRow:
        return next(row for row in self.rows if row.name == name)

    def added(self, name: str) -> tuple[float, float]:
        """µs added per read and per write over dynsession with its defaults."""
        base, other = self.row(PLAIN), self.row(name)
        return other.read_us - base.read_us, other.write_us - base.write_us


def variants() -> dict[str, Callable[[], Starlette]]:
    return {
        PLAIN: lambda: apps.dynsession_app(MemoryStore()),
        ENCRYPTED: lambda: apps.dynsession_app(MemoryStore(), encryption_key=_ENCRYPTION_KEY),
        BOUND: lambda: apps.dynsession_app(MemoryStore(), client_binding=ClientBinding(ipv4_prefix=24)),
    }


def run_security(*, requests_per_round: int, rounds: int) -> SecurityResult:
    """Interleave the variants round by round; every user holds a ~1 KB signed-in session."""
    builders = variants()
    samples = anyio.run(_measure, builders, requests_per_round, rounds)
    rows = tuple(
        SecurityRow(name, statistics.median(reads), statistics.median(writes))
        for name, (reads, writes) in samples.items()
    )
    return SecurityResult(rows, requests_per_round, rounds)


async def _measure(
    builders: dict[str, Callable[[], Starlette]], requests_per_round: int, rounds: int
) -> dict[str, tuple[list[float], list[float]]]:
    prepared = {}
    for name, build in builders.items():
        app = build()
        browsers = [Browser() for _ in range(_BROWSERS)]
        for browser in browsers:
            await request(app, "/seed", browser)
        prepared[name] = (app, browsers)
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in builders}
    names = list(builders)
    for number in range(rounds + 1):
        order = names[number % len(names) :] + names[: number % len(names)]
        for name in order:
            app, browsers = prepared[name]
            for path, bucket in (("/read", samples[name][0]), ("/write", samples[name][1])):
                gc.collect()
                started = time.process_time_ns()
                for index in range(requests_per_round):
                    await request(app, path, browsers[index % _BROWSERS])
                elapsed = time.process_time_ns() - started
                if number:  # round 0 only warms up
                    bucket.append(elapsed / requests_per_round / 1000)
    return samples


BEGIN = "<!-- section 8: begin -->"
END = "<!-- section 8: end -->"


def splice(document: str, new_section: str) -> str:
    """``document`` with its section 8 replaced by ``new_section`` (appended if it has none)."""
    return splice_between(document, new_section, BEGIN, END)


def markdown(result: SecurityResult, machine: str) -> str:
    """Section 8, between its markers."""
    rows = []
    base = result.row(PLAIN)
    for row in result.rows:
        read_added, write_added = result.added(row.name)
        rows.append(
            [
                row.name,
                f"{row.read_us:.1f}",
                f"{row.write_us:.1f}",
                "—" if row is base else f"{read_added:+.1f}",
                "—" if row is base else f"{write_added:+.1f}",
            ]
        )
    return "\n\n".join(
        [
            BEGIN,
            "## 8. Opt-in security features: CPU per request",
            machine_line(machine),
            "dynsession with `MemoryStore`, driven in-process as in section 3; 50 users each holding the "
            "benchmark's ~1 KB signed-in session. A read loads and decodes the session; a write also "
            f"encodes and stores it. {result.rounds} interleaved rounds of {result.requests_per_round:,} "
            "reads and as many writes per variant; process CPU time, medians.",
            table(
                ["variant", "CPU µs/read", "CPU µs/write", "µs added per read", "µs added per write"], rows
            ),
            END,
        ]
    )
