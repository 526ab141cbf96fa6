"""When to try a DynamoDB request again and how long to wait: botocore's "standard" retry mode.

A request is retried, up to ``max_attempts`` attempts in all, when it failed transiently (a
connection error or timeout, HTTP 500/502/503/504, a transient error code, a DynamoDB checksum
mismatch), was throttled (a throttling error code, or HTTP 429 without a modeled error), or failed
with an error the service model marks retryable. The wait before attempt ``i + 1`` is
``random() * min(scale * 2 ** (i - 1), 20)`` seconds: ``scale`` is 1 s after throttling and 25 ms
otherwise (DynamoDB's), raised to an ``x-amz-retry-after`` header (capped 5 s above). A retry quota
shared by every call (500 units; a retry costs 14, or 5 after throttling; a success gives back what
its retries took, or 1) stops retries when most calls fail, as botocore's does.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass

TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
MAX_BACKOFF = 20.0
THROTTLING_SCALE = 1.0
TRANSIENT_SCALE = 0.025
RETRY_AFTER_EXTRA = 5.0
QUOTA = 500
RETRY_COST = 14
THROTTLING_RETRY_COST = 5
SUCCESS_REFUND = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    """One failed attempt as the policy sees it. ``status`` and ``code`` are ``None`` when no
    answer arrived (``connection_error`` is then true); ``checksum_mismatch`` marks an answer
    whose ``x-amz-crc32`` did not match its body."""

    status: int | None = None
    code: str | None = None
    connection_error: bool = False
    checksum_mismatch: bool = False
    retry_after_ms: str | None = None


@dataclass(frozen=True, slots=True)
class ModeledErrors:
    """From the service model: every error code an operation declares, and the retryable ones
    (code → whether it counts as throttling)."""

    declared: Mapping[str, frozenset[str]]
    retryable: Mapping[str, Mapping[str, bool]]


class RetryPolicy:
    """Standard-mode decisions for one transport; thread-safe, shared by every event loop."""

    def __init__(self, max_attempts: int, modeled: ModeledErrors | None = None) -> None:
        self.max_attempts = max(1, max_attempts)
        self._modeled = modeled or ModeledErrors({}, {})
        self._available = QUOTA
        self._lock = threading.Lock()

    def is_throttling(self, operation: str, outcome: Outcome) -> bool:
        if outcome.code in THROTTLING_CODES:
            return True
        modeled = self._modeled.retryable.get(operation, {})
        if outcome.code is not None and outcome.code in modeled:
            return modeled[outcome.code]
        return outcome.status == 429 and outcome.code not in self._modeled.declared.get(operation, ())

    def is_retryable(self, operation: str, outcome: Outcome) -> bool:
        """Whether the outcome is worth another attempt (attempts and quota aside)."""
        return (
            outcome.connection_error
            or outcome.checksum_mismatch
            or outcome.code in TRANSIENT_CODES
            or outcome.status in TRANSIENT_STATUSES
            or self.is_throttling(operation, outcome)
            or (outcome.code is not None and outcome.code in self._modeled.retryable.get(operation, {}))
        )

    def next_delay(self, operation: str, attempt: int, outcome: Outcome) -> tuple[float, int] | None:
        """After failed attempt number ``attempt`` (1-based): ``(seconds to wait, quota taken)``
        for another attempt, or ``None`` when the failure should be raised."""
        if attempt >= self.max_attempts or not self.is_retryable(operation, outcome):
            return None
        throttled = self.is_throttling(operation, outcome)
        cost = THROTTLING_RETRY_COST if throttled else RETRY_COST
        with self._lock:
            if cost > self._available:
                return None
            self._available -= cost
        scale = THROTTLING_SCALE if throttled else TRANSIENT_SCALE
        delay = random.random() * min(scale * 2 ** (attempt - 1), MAX_BACKOFF)
        retry_after = _retry_after(outcome.retry_after_ms)
        if retry_after is not None:
            delay = max(delay, min(retry_after, RETRY_AFTER_EXTRA + delay))
        return delay, cost

    def succeeded(self, quota_taken: int) -> None:
        """Give quota back after a success (``quota_taken`` by its last retry, or 0 if none)."""
        if self._available == QUOTA:
            return
        with self._lock:
            self._available = min(QUOTA, self._available + (quota_taken or SUCCESS_REFUND))

    @property
    def available_quota(self) -> int:
        return self._available


def _retry_after(milliseconds: str | None) -> float | None:
    if milliseconds is None:
        return None
    try:
        value = int(milliseconds) / 1000.0
    except (ValueError, OverflowError):
        return None
    return value if value >= 0 else None
