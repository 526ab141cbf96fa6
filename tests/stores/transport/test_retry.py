"""The native transport's retry policy decides as botocore's standard mode does."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import botocore.exceptions
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.retries import standard

from dynsession.stores.transport import retry
from dynsession.stores.transport.retry import Outcome, RetryPolicy
from dynsession.stores.transport.settings import modeled_errors

MODEL = botocore.session.get_session().get_service_model("dynamodb")
MODELED = modeled_errors(MODEL)

CODES = [
    None,
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "TransactionInProgressException",
    "InternalServerError",
    "RequestTimeout",
    "ReplicatedWriteConflictException",
    "ConditionalCheckFailedException",
    "ResourceNotFoundException",
    "ValidationException",
    "AccessDeniedException",
    "SomethingNew",
]
STATUSES = [None, 200, 400, 429, 500, 502, 503, 504, 501]
OPERATIONS = ["GetItem", "PutItem", "Query", "BatchWriteItem"]


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


def botocore_context(operation: str, outcome: Outcome, attempt: int = 1) -> standard.RetryContext:
    http = None
    if outcome.status is not None:
        body = b"{}"
        headers = {"x-amz-crc32": "1" if outcome.checksum_mismatch else str(zlib.crc32(body))}
        if outcome.retry_after_ms is not None:
            headers["x-amz-retry-after"] = outcome.retry_after_ms
        http = AWSResponse(
            "https://dynamodb.us-east-1.amazonaws.com/",
            outcome.status,
            HTTPHeaders.from_dict(headers),
            _Body(body),
        )
    return standard.RetryContext(
        attempt_number=attempt,
        operation_model=MODEL.operation_model(operation),
        parsed_response=None if outcome.code is None else {"Error": {"Code": outcome.code}},
        http_response=http,
        caught_exception=(
            botocore.exceptions.EndpointConnectionError(endpoint_url="x")
            if outcome.connection_error
            else None
        ),
    )


def outcomes() -> Iterator[Outcome]:
    yield Outcome(connection_error=True)
    yield Outcome(status=200, checksum_mismatch=True)
    for status, code in itertools.product(STATUSES[1:], CODES):
        if status != 200 or code is None:
            yield Outcome(status=status, code=code)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_retryable_and_throttling_exactly_as_botocore(operation: str) -> None:
    conditions = standard.StandardRetryConditions(max_attempts=10)
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    policy = RetryPolicy(10, MODELED)
    checked = 0
    for outcome in outcomes():
        context = botocore_context(operation, outcome)
        assert policy.is_retryable(operation, outcome) == conditions.is_retryable(context), outcome
        assert policy.is_throttling(operation, outcome) == detector.is_throttling_error_from_context(
            context
        ), outcome
        checked += 1
    assert checked == 2 + len(STATUSES[1:]) * len(CODES) - (len(CODES) - 1)


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome(status=400, code="ThrottlingException"),
        Outcome(status=500, code="InternalServerError"),
        Outcome(connection_error=True),
        Outcome(status=400, code="ThrottlingException", retry_after_ms="3500"),
        Outcome(status=503, retry_after_ms="250"),
    ],
)
@pytest.mark.parametrize("draw", [0.0, 0.37, 1.0])
def test_backoff_exactly_as_botocore(outcome: Outcome, draw: float) -> None:
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    backoff = standard.ExponentialBackoff(
        random=lambda: draw, service_name="dynamodb", throttling_detector=detector
    )
    for attempt in range(1, 9):
        policy = RetryPolicy(20, MODELED)
        with mock.patch("dynsession.stores.transport.retry.random.random", return_value=draw):
            decision = policy.next_delay("GetItem", attempt, outcome)
        assert decision is not None
        expected = backoff.delay_amount(botocore_context("GetItem", outcome, attempt))
        assert decision[0] == pytest.approx(expected), attempt


def test_attempts_stop_at_max_attempts() -> None:
    policy = RetryPolicy(4, MODELED)
    throttled = Outcome(status=400, code="ThrottlingException")
    assert [policy.next_delay("GetItem", n, throttled) is not None for n in range(1, 6)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert policy.next_delay("GetItem", 1, Outcome(status=400, code="AccessDeniedException")) is None


def test_the_retry_quota_runs_out_and_successes_refill_it() -> None:
    policy = RetryPolicy(3, MODELED)
    failure = Outcome(status=500, code="InternalServerError")
    granted = 0
    while policy.next_delay("PutItem", 1, failure) is not None:
        granted += 1
    assert granted == retry.QUOTA // retry.RETRY_COST  # 35 retries of 14 units from 500
    # Throttling costs less, and 10 units are left: two more throttled retries still fit.
    throttled = Outcome(status=400, code="ProvisionedThroughputExceededException")
    assert policy.next_delay("PutItem", 1, throttled) is not None
    assert policy.next_delay("PutItem", 1, throttled) is not None
    assert policy.next_delay("PutItem", 1, throttled) is None
    policy.succeeded(quota_taken=retry.RETRY_COST)  # a retried call that succeeded gives its cost back
    policy.succeeded(quota_taken=0)  # a first-time success gives one unit
    assert policy.available_quota == 0 + retry.RETRY_COST + retry.SUCCESS_REFUND
    assert policy.next_delay("PutItem", 1, failure) is not None


def test_modeled_errors_come_from_botocores_service_model() -> None:
    assert MODELED.retryable["PutItem"] == {"ReplicatedWriteConflictException": False}
    assert "GetItem" not in MODELED.retryable
    assert "ConditionalCheckFailedException" in MODELED.declared["PutItem"]
