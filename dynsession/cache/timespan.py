"""The text form of a .NET ``TimeSpan``, which the .NET provider stores as the sliding window.

.NET writes ``TimeSpan.ToString()``, the constant format ``[-][d.]hh:mm:ss[.fffffff]``: days only
when there are any, seven fraction digits only when there is a fraction (one tick is 100 ns).
Reading accepts what ``TimeSpan.Parse`` accepts in the invariant culture for the shapes a program
is likely to write: ``d``, ``[d.]hh:mm[:ss[.f…]]`` and ``d:hh:mm:ss[.f…]``.
"""

from __future__ import annotations

import re
from datetime import timedelta

_TICKS_PER_SECOND = 10_000_000
_TICKS_PER_DAY = 86_400 * _TICKS_PER_SECOND

_DAYS = re.compile(r"(-)?(\d{1,8})")
_CLOCK = re.compile(
    r"(-)?(?:(\d{1,8})\.|(\d{1,8}):(?=\d+:\d+:))?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?"
)


def format_timespan(value: timedelta) -> str:
    """``timedelta(minutes=20)`` → ``"00:20:00"``; ``timedelta(days=1, seconds=1.5)`` →
    ``"1.00:00:01.5000000"``. Microseconds are kept exactly (ten ticks each)."""
    ticks = (value.days * 86_400 + value.seconds) * _TICKS_PER_SECOND + value.microseconds * 10
    sign = "-" if ticks < 0 else ""
    days, rest = divmod(abs(ticks), _TICKS_PER_DAY)
    seconds, fraction = divmod(rest, _TICKS_PER_SECOND)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{sign}{f'{days}.' if days else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return text + (f".{fraction:07d}" if fraction else "")


def parse_timespan(text: str) -> timedelta:
    """The inverse of :func:`format_timespan`, also reading the other shapes listed above.

    Raises ValueError when ``text`` is none of them or a component is out of range. Digits beyond
    the microsecond are dropped.
    """
    stripped = text.strip()
    days_only = _DAYS.fullmatch(stripped)
    if days_only:
        sign, days = days_only.groups()
        return _signed(sign, timedelta(days=int(days)))
    match = _CLOCK.fullmatch(stripped)
    if match is None:
        raise ValueError(f"not a .NET TimeSpan: {text!r}")
    sign, dotted_days, colon_days, hours, minutes, seconds, fraction = match.groups()
    days = dotted_days or colon_days
    if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
        raise ValueError(f".NET TimeSpan component out of range: {text!r}")
    micro = int((fraction or "0").ljust(7, "0")[:6])
    value = timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=micro,
    )
    return _signed(sign, value)


def _signed(sign: str | None, value: timedelta) -> timedelta:
    return -value if sign else value
