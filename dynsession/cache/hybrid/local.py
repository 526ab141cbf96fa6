"""HybridCache's tier in this process: copies of entries, and what it knows of tag removals.

Times are whole epoch seconds from the cache's clock. A copy is *fresh* (served without asking
the shared tier) before ``fresh_until``, which never passes the entry's own expiry nor
``local_ttl`` after the entry or its tags were last checked; it is kept after that, until
evicted, so ``fail_safe`` can serve it when the shared tier or the factory fails.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class Copy:
    """One entry as this process holds it.

    ``expires``: the entry's own expiry (``None``: never); fail-safe may serve the copy until
    ``fail_safe`` seconds after it. ``set_at``: when it was set, if its envelope says (tags compare
    against it). ``refresh_at``: from when a hit refreshes it in the background (``None``: never).
    ``outage``: served stale because the shared tier failed, so hits count as stale serves.
    """

    value: bytes
    fresh_until: int
    expires: int | None
    set_at: int | None = None
    tags: tuple[str, ...] = ()
    refresh_at: int | None = None
    outage: bool = False

    def is_fresh(self, now: int) -> bool:
        return now < self.fresh_until


@dataclass(slots=True)
class TagState:
    """The last removal of a tag this process knows of (``None``: none) and when it asked."""

    removed_at: int | None
    checked_at: int


class LocalTier:
    """At most ``max_entries`` copies, least recently used dropped first, and the tag states."""

    def __init__(self, *, local_ttl: int, max_entries: int, fail_safe: int | None) -> None:
        self.local_ttl = local_ttl
        self.max_entries = max_entries
        self.fail_safe = fail_safe
        self._copies: OrderedDict[str, Copy] = OrderedDict()
        self._tags: OrderedDict[str, TagState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._copies)

    # -- copies ----------------------------------------------------------------------------------

    def fresh(self, key: str, now: int) -> Copy | None:
        """The copy of ``key`` if it may be served without asking the shared tier."""
        copy = self._copies.get(key)
        if copy is None or not copy.is_fresh(now) or self.removed(copy):
            return None
        self._copies.move_to_end(key)
        return copy

    def stale(self, key: str, now: int) -> Copy | None:
        """The copy of ``key`` if fail-safe may serve it now: expired less than ``fail_safe``
        ago (or not expired), and none of its tags removed since it was set."""
        copy = self._copies.get(key)
        if copy is None or self.fail_safe is None or self.removed(copy):
            return None
        if copy.expires is not None and now >= copy.expires + self.fail_safe:
            return None
        return copy

    def keep(self, key: str, copy: Copy) -> None:
        """Hold ``copy`` for ``key``, evicting the least recently used beyond the bound."""
        self._copies[key] = copy
        self._copies.move_to_end(key)
        while len(self._copies) > self.max_entries:
            self._copies.popitem(last=False)

    def drop(self, key: str) -> None:
        self._copies.pop(key, None)

    # -- tags ------------------------------------------------------------------------------------

    def removed(self, copy: Copy) -> bool:
        """Whether a removal of one of the copy's tags, as far as this process knows, covers it:
        removed in the second it was set or later (whole seconds cannot order them closer)."""
        if not copy.tags:
            return False
        set_at = copy.set_at if copy.set_at is not None else 0
        for tag in copy.tags:
            state = self._tags.get(tag)
            if state is not None and state.removed_at is not None and state.removed_at >= set_at:
                return True
        return False

    def tags_to_check(self, tags: tuple[str, ...], now: int) -> list[str]:
        """The tags whose state is unknown or ``local_ttl`` old or older: ask the shared tier."""
        due = []
        for tag in tags:
            state = self._tags.get(tag)
            if state is None or now - state.checked_at >= self.local_ttl:
                due.append(tag)
        return due

    def checked_at(self, tags: tuple[str, ...], now: int) -> int:
        """The oldest check of these tags (``now`` for none): a copy is fresh no longer than
        ``local_ttl`` after it."""
        oldest = now
        for tag in tags:
            state = self._tags.get(tag)
            oldest = min(oldest, state.checked_at if state is not None else now)
        return oldest

    def note_tag(self, tag: str, removed_at: int | None, now: int) -> None:
        """Record what the shared tier (or this process's own removal) says of ``tag``."""
        known = self._tags.get(tag)
        if known is not None and known.removed_at is not None:
            removed_at = known.removed_at if removed_at is None else max(removed_at, known.removed_at)
        self._tags[tag] = TagState(removed_at, now)
        self._tags.move_to_end(tag)
        while len(self._tags) > self.max_entries:
            self._tags.popitem(last=False)
