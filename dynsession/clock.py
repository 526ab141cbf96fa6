"""The one source of time: integer epoch seconds, UTC, injectable for tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from .exceptions import ConfigurationError

Clock = Callable[[], int]
"""A zero-argument callable returning the current time as integer epoch seconds (UTC)."""


def system_clock() -> int:
    """Return the current time as integer epoch seconds (UTC)."""
    return int(time.time())


def checked_clock(clock: object) -> Clock:
    """Return ``clock`` if it is callable; raise ConfigurationError naming the ``clock`` option otherwise."""
    if not callable(clock):
        raise ConfigurationError(
            f"clock must be a callable returning integer epoch seconds, not {type(clock).__name__}"
        )
    return clock
