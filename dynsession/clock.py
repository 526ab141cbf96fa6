"""The one source of time: integer epoch seconds, UTC, injectable for tests."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]
"""A zero-argument callable returning the current time as integer epoch seconds (UTC)."""


def system_clock() -> int:
    """Return the current time as integer epoch seconds (UTC)."""
    return int(time.time())
