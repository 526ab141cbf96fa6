"""Instructions per request or per call, counted by valgrind's callgrind.

CPU time on a shared machine moves with everything else running on it; an instruction count does
not. Each workload runs in a child process under callgrind (``python -m benchmarks.counted``): it
sets itself up and warms up, calls :func:`start`, then does ``count`` units of work and calls
:func:`stop`, twice. Callgrind zeroes its counters on :func:`start` and writes them out on each
:func:`stop`; the second stretch is the one reported, because costs that other threads ran up
before :func:`start` (boto3 resolving its settings in a worker thread) are not zeroed and land in
the first. Callgrind does not emulate the CPU's SHA instructions, so hashing counts for more here
than it costs in CPU time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

VALGRIND_INSTALL = "valgrind is not installed (`apt-get install valgrind`)"
# Both cores of a small machine; each run is one single-threaded process.
_PARALLEL = 2


def unavailable() -> str | None:
    """Why instructions cannot be counted here, or None when they can."""
    return None if shutil.which("valgrind") else VALGRIND_INSTALL


def start() -> None:
    """Mark the start of the counted work (callgrind zeroes its counters on this call)."""
    os.getppid()


def stop() -> None:
    """Mark its end (callgrind writes out what it counted since :func:`start`)."""
    os.getpgrp()


def _count(arguments: Sequence[str], env: Mapping[str, str] | None) -> int:
    with tempfile.TemporaryDirectory(prefix="dynsession-callgrind-") as directory:
        output = Path(directory) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={output}",
            # The functions behind os.getppid and os.getpgrp: nothing else here calls them.
            "--zero-before=os_getppid*",
            "--dump-before=os_getpgrp*",
            sys.executable,
            "-m",
            "benchmarks.counted",
            *arguments,
        ]
        completed = subprocess.run(
            command,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            tail = [line for line in completed.stderr.splitlines() if not line.startswith("==")][-3:]
            raise RuntimeError(f"benchmarks.counted {' '.join(arguments)} failed: {' / '.join(tail)}")
        part = Path(f"{output}.2")  # what was counted between the two stop() calls
        if part.exists():
            for line in part.read_text().splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1])
    raise RuntimeError(f"callgrind counted nothing for benchmarks.counted {' '.join(arguments)}")


def per_unit(
    workloads: Mapping[str, Sequence[str]], *, count: int, env: Mapping[str, str] | None = None
) -> dict[str, float]:
    """Instructions per unit of each workload (``benchmarks.counted`` arguments, to which ``count``
    is appended). Raises RuntimeError when a run fails."""
    jobs = [[*arguments, str(count)] for arguments in workloads.values()]
    with ThreadPoolExecutor(_PARALLEL) as pool:
        totals = list(pool.map(lambda job: _count(job, env), jobs))
    return {name: total / count for name, total in zip(workloads, totals, strict=True)}
