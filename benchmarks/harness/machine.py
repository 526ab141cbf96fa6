"""A one-line description of the machine and the versions a run used."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

_PACKAGES = (
    "dynsession",
    "starlette",
    "starsessions",
    "itsdangerous",
    "anyio",
    "boto3",
    "aiohttp",
    "aiodynamo",
    "redis",
    "moto",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> str:
    found = []
    for name in _PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def describe() -> str:
    cores = os.cpu_count() or 0
    return (
        f"{cores} cores ({cpu_model()}), {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}; {versions()}"
    )
