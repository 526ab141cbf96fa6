"""What HybridCache counts, as a snapshot a program can export to any metrics system."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class HybridCacheStats:
    """Counts since the cache was made (``HybridCache.stats`` returns a copy).

    ``local_hits``: reads answered from this process's copy, no call made. ``shared_hits``:
    answered by the shared tier. ``misses``: reads that found no live entry (``get`` returning
    None, or ``get_or_set`` about to compute). ``stale_served``: expired values served by
    fail-safe because the shared tier or the factory failed. ``factory_runs``: factory calls,
    background ones included. ``eager_refreshes``: background refreshes started. ``lock_waits``:
    misses that waited for another process's lease instead of running the factory.
    """

    local_hits: int = 0
    shared_hits: int = 0
    misses: int = 0
    stale_served: int = 0
    factory_runs: int = 0
    eager_refreshes: int = 0
    lock_waits: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name, e.g. for a Prometheus collector or a log line."""
        return asdict(self)
