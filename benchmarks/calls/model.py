"""An independent model of what a traffic mix must cost: the minimum, and two other policies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class TrafficModel:
    """Counts, request by request, the calls each policy needs. ``minimum``: a read per request
    with a session, a write per change, and a TTL refresh only when the stored idle deadline lags by
    more than ``refresh_after``; ``floor``: the same with no refresh at all; ``write_every``: a full
    write on every request with a session; ``touch_every``: a TTL update on every read-only request.

    With ``renew_after``, a request whose session ID is that old moves it to a new ID instead, under
    every policy: a write of the new item and one of the old ID's alias (two PutItems) replace the
    request's own write or refresh. ``renewals`` counts them; ``without_renewal`` is the minimum had
    the same requests never renewed."""

    idle_timeout: int
    refresh_after: int
    renew_after: int | None = None
    renewals: int = 0
    without_renewal: Counter[str] = field(default_factory=Counter)
    issued: dict[int, int] = field(default_factory=dict)
    plain_deadline: dict[int, int] = field(default_factory=dict)
    minimum: Counter[str] = field(default_factory=Counter)
    floor: Counter[str] = field(default_factory=Counter)  # the same without any TTL refresh
    write_every: Counter[str] = field(default_factory=Counter)
    touch_every: Counter[str] = field(default_factory=Counter)
    deadline: dict[int, int] = field(default_factory=dict)

    def add(self, kind: str, who: int, now: int) -> None:
        """Count one request of ``kind`` ("read-only", "modified", "login", "logout", "none") by user
        ``who`` at ``now`` under each policy."""
        self._without_renewal(kind, who, now)
        all_four = (self.minimum, self.floor, self.write_every, self.touch_every)
        if kind == "none":
            return
        if kind == "login":
            for counts in all_four:
                counts["PutItem"] += 1
            self.deadline[who] = now + self.idle_timeout
            self.issued[who] = now
            return
        for counts in all_four:
            counts["GetItem"] += 1
        if kind == "logout":
            for counts in all_four:
                counts["DeleteItem"] += 1
            del self.deadline[who]
            del self.issued[who]
            return
        if self.renew_after is not None and now - self.issued[who] >= self.renew_after:
            for counts in all_four:
                counts["PutItem"] += 2
            self.renewals += 1
            self.deadline[who] = now + self.idle_timeout
            self.issued[who] = now
            return
        self.write_every["PutItem"] += 1
        if kind == "modified":
            for counts in (self.minimum, self.floor, self.touch_every):
                counts["PutItem"] += 1
            self.deadline[who] = now + self.idle_timeout
            return
        self.touch_every["UpdateItem"] += 1
        if now + self.idle_timeout - self.deadline[who] > self.refresh_after:
            self.minimum["UpdateItem"] += 1
            self.deadline[who] = now + self.idle_timeout

    def _without_renewal(self, kind: str, who: int, now: int) -> None:
        counts = self.without_renewal
        if kind == "none":
            return
        if kind == "login":
            counts["PutItem"] += 1
            self.plain_deadline[who] = now + self.idle_timeout
            return
        counts["GetItem"] += 1
        if kind == "logout":
            counts["DeleteItem"] += 1
            del self.plain_deadline[who]
        elif kind == "modified":
            counts["PutItem"] += 1
            self.plain_deadline[who] = now + self.idle_timeout
        elif now + self.idle_timeout - self.plain_deadline[who] > self.refresh_after:
            counts["UpdateItem"] += 1
            self.plain_deadline[who] = now + self.idle_timeout
