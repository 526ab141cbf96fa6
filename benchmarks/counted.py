"""The workloads that benchmarks.harness.callgrind counts, each run in a process of its own:

    python -m benchmarks.counted cpu VARIANT COUNT      section 3's request mix, COUNT requests
    python -m benchmarks.counted call ROW OPERATION COUNT  one of section 6's per-call rows

Each sets up and warms up first; callgrind counts the second of two stretches of COUNT units.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import anyio
from starlette.types import ASGIApp

from .cpu import cpu
from .harness import callgrind
from .harness.driver import Browser, request

_WARM_UP = 200


async def _cpu(app: ASGIApp, count: int) -> None:
    browsers = [Browser() for _ in range(50)]
    for browser in browsers:
        await request(app, "/write", browser)
    for index in range(_WARM_UP):
        await request(
            app, "/write" if index % cpu.WRITE_EVERY == 0 else "/read", browsers[index % len(browsers)]
        )
    callgrind.start()
    for _ in range(2):  # two equal stretches: callgrind.py reports the second
        for index in range(count):
            path = "/write" if index % cpu.WRITE_EVERY == 0 else "/read"
            await request(app, path, browsers[index % len(browsers)])
        callgrind.stop()


def main(argv: Sequence[str]) -> int:
    kind, *rest = argv
    if kind == "cpu":
        variant, count = rest
        builders, unavailable = cpu.variants()
        name = cpu.COUNTED[variant]
        if name in unavailable:
            raise SystemExit(unavailable[name])
        anyio.run(_cpu, builders[name](), int(count))
        return 0
    if kind == "call":
        from .transports import transport_calls

        spec, operation, count = rest
        transport_calls.run_counted(spec, operation, int(count))
        return 0
    raise SystemExit(f"unknown workload {kind!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
