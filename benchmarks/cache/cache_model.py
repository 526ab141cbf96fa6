"""An independent model of the cache mix's fewest DynamoDB calls and units, for section 7."""

from __future__ import annotations

from collections import Counter

from ..harness import dynamo

MINIMUM = "minimum (model)"
FLOOR = "no refresh at all (model)"


class CacheModel:
    """The fewest calls the mix needs, kept apart from the cache's code: a read per get, a write per
    set or remove, and a TTL write when a hit finds the stored TTL more than ``threshold`` s behind.
    Units by DynamoDB's rules for ``item_bytes``-byte items (a delete of a missing one: 1 WCU)."""

    def __init__(self, item_bytes: int, *, sliding: int, threshold: int) -> None:
        self.item_bytes = item_bytes
        self.sliding = sliding
        self.threshold = threshold
        self.ttl: dict[str, int] = {}
        self.minimum: Counter[str] = Counter()
        self.floor: Counter[str] = Counter()
        self.units = {MINIMUM: [0.0, 0.0], FLOOR: [0.0, 0.0]}

    def reset(self) -> None:
        """Forget the counts (not the TTLs): what came before was setup."""
        self.minimum.clear()
        self.floor.clear()
        self.units = {MINIMUM: [0.0, 0.0], FLOOR: [0.0, 0.0]}

    def _count(self, operation: str, *, refresh: bool = False, size: int | None = None) -> None:
        size = self.item_bytes if size is None else size
        read = operation == "GetItem"
        units = dynamo.read_units(size) if read else dynamo.write_units(size)
        for label, counts in ((MINIMUM, self.minimum), (FLOOR, self.floor)):
            if refresh and label == FLOOR:
                continue
            counts[operation] += 1
            self.units[label][0 if read else 1] += units

    def get(self, key: str, now: int) -> None:
        ttl = self.ttl.get(key)
        self._count("GetItem", size=0 if ttl is None else None)
        if ttl is not None and ttl > now and now + self.sliding - ttl > self.threshold:
            self._count("UpdateItem", refresh=True)
            self.ttl[key] = now + self.sliding

    def set(self, key: str, now: int) -> None:
        self._count("PutItem")
        self.ttl[key] = now + self.sliding

    def remove(self, key: str) -> None:
        self._count("DeleteItem", size=None if key in self.ttl else 0)
        self.ttl.pop(key, None)
