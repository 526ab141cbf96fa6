"""When a cache entry expires: durations, the ``set`` arguments, and the TTL they give.

The cache counts whole epoch seconds, like the rest of dynsession: an entry's TTL is
``min(now + sliding, deadline)``, the sliding part rounded down to the second as the .NET provider
rounds it, and the entry is gone from the second its TTL names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import InvalidExpiry

Duration = timedelta | int | float
"""A length of time: a ``timedelta`` or a number of seconds. The cache needs at least one second."""

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Expiry:
    """How one entry expires: ``window`` slides with every read (``None``: it does not slide) and
    ``deadline`` (epoch seconds; ``None``: none) is the latest moment it can live to."""

    window: timedelta | None = None
    deadline: int | None = None

    def ttl(self, now: int) -> int | None:
        """The TTL to store at ``now``: the earlier of ``now + window`` and the deadline; ``None``
        when the entry never expires."""
        if self.window is None:
            return self.deadline
        slid = now + self.window // _SECOND
        return slid if self.deadline is None else min(slid, self.deadline)


def duration(name: str, value: object) -> timedelta:
    """``value`` as a ``timedelta`` of at least one second.

    Raises InvalidExpiry naming the argument when it is not a duration or shorter than a second.
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        result = timedelta(seconds=value)
    else:
        raise InvalidExpiry(f"{name} must be a timedelta or a number of seconds, not {type(value).__name__}")
    if result < _SECOND:
        raise InvalidExpiry(f"{name} must be at least 1 second (the cache counts whole seconds)")
    return result


def resolve(
    now: int,
    *,
    sliding: Duration | None,
    absolute: datetime | None,
    absolute_in: Duration | None,
    default_sliding: timedelta | None,
) -> Expiry:
    """The expiry that ``set(..., sliding=, absolute=, absolute_in=)`` asks for at ``now``.

    ``absolute_in`` wins over ``absolute`` when both are given, as in .NET; with none of the three
    the entry slides by ``default_sliding`` (``None``: it never expires).

    Raises InvalidExpiry for a duration under one second, a naive ``absolute``, or an ``absolute``
    that is not in the future.
    """
    if sliding is None and absolute is None and absolute_in is None:
        return Expiry(window=default_sliding)
    window = None if sliding is None else duration("sliding", sliding)
    deadline: int | None = None
    if absolute_in is not None:
        deadline = now + duration("absolute_in", absolute_in) // _SECOND
    elif absolute is not None:
        if not isinstance(absolute, datetime):
            raise InvalidExpiry(f"absolute must be a datetime, not {type(absolute).__name__}")
        if absolute.tzinfo is None or absolute.utcoffset() is None:
            raise InvalidExpiry("absolute must be a timezone-aware datetime (for example in UTC)")
        deadline = math.floor(absolute.timestamp())
        if deadline <= now:
            raise InvalidExpiry("absolute must be in the future")
    return Expiry(window=window, deadline=deadline)
