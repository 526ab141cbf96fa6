"""An independent model of what a traffic mix must cost: the minimum, and two other policies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class TrafficModel:
    """Counts, request by request, the calls each policy needs. ``minimum``: a read per request
    with a session, a write per change, and a TTL refresh only when the stored idle deadline lags by
    more than ``refresh_after``; ``floor``: the same with no refresh at all; ``write_every``: a full
    write on every request with a session; ``touch_every``: a TTL update on every read-only request."""

    idle_timeout: int
    refresh_after: int
    minimum: Counter[str] = field(default_factory=Counter)
    floor: Counter[str] = field(default_factory=Counter)  # the same without any TTL refresh
    write_every: Counter[str] = field(default_factory=Counter)
    touch_every: Counter[str] = field(default_factory=Counter)
    deadline: dict[int, int] = field(default_factory=dict)

    def add(self, kind: str, who: int, now: int) -> None:
        """Count one request of ``kind`` ("read-only", "modified", "login", "logout", "none") by user
        ``who`` at ``now`` under each policy."""
        all_four = (self.minimum, self.floor, self.write_every, self.touch_every)
        if kind == "none":
            return
        if kind == "login":
            for counts in all_four:
                counts["PutItem"] += 1
            self.deadline[who] = now + self.idle_timeout
            return
        for counts in all_four:
            counts["GetItem"] += 1
        if kind == "logout":
            for counts in all_four:
                counts["DeleteItem"] += 1
            del self.deadline[who]
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
