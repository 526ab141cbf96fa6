"""What happened to the session on this request, and its times, in words for the shop's pages."""

from __future__ import annotations

import time
from dataclasses import dataclass

from dynsession import SessionInfo


@dataclass(frozen=True, slots=True)
class Status:
    """``kind`` is ``written``, ``saved``, ``loaded``, ``expired``, ``restarted`` or ``none``;
    ``text`` says it in a sentence; ``stored`` is True when a session exists after this request."""

    kind: str
    text: str
    stored: bool


# A plain cookie holding the deadline of the session the browser last saw stored (epoch seconds;
# nothing secret): when a session cookie comes back without its session before that deadline, the
# session cannot have expired, so it was ended elsewhere.
DEADLINE_COOKIE = "shop_deadline"


def deadline(info: SessionInfo) -> int:
    """The earlier of the session's idle and absolute deadlines."""
    return info.expires if info.absolute_deadline is None else min(info.expires, info.absolute_deadline)


def ended_early(deadline_cookie: str | None, now: int) -> bool:
    """Whether the deadline the browser last saw (``DEADLINE_COOKIE``) is still ahead."""
    return deadline_cookie is not None and deadline_cookie.isdigit() and now < int(deadline_cookie)


def describe(info: SessionInfo, *, had_cookie: bool, wrote: bool, signed_out: bool = False) -> Status:
    """The status of a page's session. ``had_cookie``: the browser sent a session cookie;
    ``wrote``: the page changed the session, so it is written when the response starts;
    ``signed_out``: a session that is gone had not reached its deadline (see :func:`ended_early`)."""
    if not info.is_new:
        if wrote:
            return Status("saved", "Session loaded and saved: this visit changed it.", True)
        return Status("loaded", "Session loaded: this page only read it, so nothing was written.", True)
    if had_cookie and signed_out:
        # Gone before its deadline: signed out from another device's Devices page (or by an operator).
        if wrote:
            text = "This device was signed out from another device, so this visit started a new session."
            return Status("restarted", text, True)
        text = "This device was signed out from another device: nothing is stored until a page changes it."
        return Status("expired", text, False)
    if had_cookie:
        # A cookie whose session is gone after its deadline: it expired.
        if wrote:
            text = "Your previous session has expired, so this visit started a new one and stored it."
            return Status("restarted", text, True)
        text = "Your session has expired: nothing is stored until a page changes the session."
        return Status("expired", text, False)
    if wrote:
        text = "New session written: this visit changed the session, so it was stored and the cookie set."
        return Status("written", text, True)
    return Status(
        "none", "No session stored yet: nothing is written until a page changes the session.", False
    )


def wall_time(epoch: int) -> str:
    """Epoch seconds as a time of day in UTC, such as ``14:03:12 UTC``."""
    return time.strftime("%H:%M:%S UTC", time.gmtime(epoch))


def relative(seconds: int) -> str:
    """A duration from now in words: ``just now``, ``in 45 s``, ``in 29 min``, ``in 7 h 59 min``,
    ``3 min ago``."""
    if seconds == 0:
        return "just now"
    span = abs(seconds)
    if span < 60:
        amount = f"{span} s"
    elif span < 3600:
        amount = f"{span // 60} min"
    else:
        hours, minutes = divmod(span // 60, 60)
        amount = f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"in {amount}" if seconds >= 0 else f"{amount} ago"
