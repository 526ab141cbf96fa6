"""Running totals of the DynamoDB capacity units a store's calls consumed, when asked for."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


@dataclass(frozen=True, slots=True)
class CapacitySnapshot:
    """Capacity units consumed since the last reset, split into reads and writes, and call counts."""

    read_units: float
    write_units: float
    calls: Mapping[str, int]


class CapacityTally:
    """Adds up the ``ConsumedCapacity`` DynamoDB returns (with ``ReturnConsumedCapacity="TOTAL"``).

    Calls that fail (a condition that did not hold, throttling) return no capacity and are not
    counted. Safe to update from several worker threads at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read = 0.0
        self._write = 0.0
        self._calls: dict[str, int] = {}

    def add(self, operation: str, response: Mapping[str, Any]) -> None:
        """Record one successful call's response."""
        consumed = response.get("ConsumedCapacity")
        # Batch operations answer with one entry per table, the others with a single mapping.
        entries = consumed if isinstance(consumed, list) else [consumed]
        units = sum(float(e.get("CapacityUnits", 0.0)) for e in entries if isinstance(e, Mapping))
        with self._lock:
            self._calls[operation] = self._calls.get(operation, 0) + 1
            if operation in _READ_OPERATIONS:
                self._read += units
            else:
                self._write += units

    def snapshot(self) -> CapacitySnapshot:
        """Return the totals so far."""
        with self._lock:
            return CapacitySnapshot(self._read, self._write, dict(self._calls))

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._read = self._write = 0.0
            self._calls = {}
