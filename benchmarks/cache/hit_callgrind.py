"""Instructions per local HybridCache hit and per redis-py GET, counted by callgrind (load-independent).

``python -m benchmarks.cache.hit_callgrind`` runs this module under ``valgrind --tool=callgrind`` twice per
variant, with ``SHORT`` and ``LONG`` operations after the same start-up, and divides the difference
in instructions by the difference in operations: start-up and interpreter set-up cancel out.
Needs valgrind, redis-server and redis-py; redis-server runs in its own process, uncounted.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from ..harness.servers import redis_server

SHORT, LONG = 200, 2200
VALUE = b"v" * 1000


async def _local(operations: int) -> None:
    from dynsession.cache import HybridCache, MemoryCache

    cache = HybridCache(MemoryCache(), local_ttl=3600)
    await cache.set("k", VALUE, absolute_in=7200)
    for _ in range(operations):
        await cache.get("k")


async def _redis(operations: int, url: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    await client.set("k", VALUE)
    for _ in range(operations):
        await client.get("k")
    await client.aclose()


def _instructions(variant: str, operations: int, url: str) -> int:
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
        command += ["-m", "benchmarks.cache.hit_callgrind", "--run", variant, str(operations), url]
        subprocess.run(command, check=True, capture_output=True)
        totals = re.search(rb"^(?:summary|totals): (\d+)", out.read_bytes(), flags=re.MULTILINE)
        assert totals is not None, "callgrind wrote no totals"
        return int(totals.group(1))


def measure(url: str) -> dict[str, float]:
    """Instructions per operation of each variant."""
    return {
        variant: (_instructions(variant, LONG, url) - _instructions(variant, SHORT, url)) / (LONG - SHORT)
        for variant in ("local", "redis")
    }


def main() -> None:
    if sys.argv[1:2] == ["--run"]:
        variant, operations, url = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        asyncio.run(_local(operations) if variant == "local" else _redis(operations, url))
        return
    os.environ.setdefault("PYTHONHASHSEED", "0")
    with redis_server() as url:
        counts = measure(url)
    local, remote = counts["local"], counts["redis"]
    print(f"local hit: {local:,.0f} instructions; redis-py GET: {remote:,.0f}; ratio {remote / local:.1f}×")


if __name__ == "__main__":
    main()
