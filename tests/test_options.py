"""Every bad setting fails when the middleware or store is built, with a ConfigurationError naming
the option and what it accepts; a short secret is accepted with one logged warning."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from dynsession import ConfigurationError, DynamoDBStore, MemoryStore, SessionMiddleware

LONG_SECRET = "a-secret-of-more-than-sixteen-characters"


async def _app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("never called")


def middleware(**options: Any) -> Any:
    options.setdefault("store", MemoryStore())
    options.setdefault("secret_key", LONG_SECRET)
    return SessionMiddleware(_app, **options)


def dynamodb_store(**options: Any) -> Any:
    options.setdefault("table_name", "sessions")
    return DynamoDBStore(**options)  # builds no client and makes no call


def memory_store(**options: Any) -> Any:
    return MemoryStore(**options)


def sorry(connection: Any, exc: Any) -> Any:
    raise AssertionError("never called")


NOT_SECONDS = "whole seconds (an int) or a timedelta"
# (what is built, the options, the option the message must name, what the message says is allowed)
BAD: list[tuple[Callable[..., Any], dict[str, Any], str, str]] = [
    (middleware, {"store": None}, "store", "SessionStore"),
    (middleware, {"store": object()}, "store", "SessionStore"),
    (middleware, {"store": "memory"}, "store", "SessionStore"),
    (middleware, {"secret_key": 123}, "secret_key", "non-empty string"),
    (middleware, {"secret_key": None}, "secret_key", "non-empty string"),
    (middleware, {"secret_key": ""}, "secret_key", "non-empty string"),
    (middleware, {"secret_key": []}, "secret_key", "non-empty string"),
    (middleware, {"secret_key": [LONG_SECRET, ""]}, "secret_key", "non-empty string"),
    (middleware, {"secret_key": [LONG_SECRET, 7]}, "secret_key", "non-empty string"),
    (middleware, {"secret_key": LONG_SECRET.encode()}, "secret_key", "non-empty string"),
    (middleware, {"idle_timeout": 0}, "idle_timeout", "at least 1"),
    (middleware, {"idle_timeout": -5}, "idle_timeout", "at least 1"),
    (middleware, {"idle_timeout": math.inf}, "idle_timeout", NOT_SECONDS),
    (middleware, {"idle_timeout": math.nan}, "idle_timeout", NOT_SECONDS),
    (middleware, {"idle_timeout": 1.5}, "idle_timeout", NOT_SECONDS),
    (middleware, {"idle_timeout": 1800.0}, "idle_timeout", NOT_SECONDS),
    (middleware, {"idle_timeout": "1800"}, "idle_timeout", NOT_SECONDS),
    (middleware, {"idle_timeout": True}, "idle_timeout", NOT_SECONDS),
    (middleware, {"idle_timeout": None}, "idle_timeout", NOT_SECONDS),
    (middleware, {"idle_timeout": timedelta(seconds=1.5)}, "idle_timeout", "a fraction of a second"),
    (middleware, {"idle_timeout": timedelta(0)}, "idle_timeout", "at least 1"),
    (middleware, {"absolute_timeout": 0}, "absolute_timeout", "at least 1, or None for no limit"),
    (middleware, {"absolute_timeout": timedelta(0)}, "absolute_timeout", "or None for no limit"),
    (middleware, {"absolute_timeout": -1}, "absolute_timeout", "or None for no limit"),
    (middleware, {"absolute_timeout": 0.5}, "absolute_timeout", NOT_SECONDS),
    (middleware, {"absolute_timeout": math.inf}, "absolute_timeout", NOT_SECONDS),
    (middleware, {"absolute_timeout": "long"}, "absolute_timeout", NOT_SECONDS),
    (middleware, {"refresh_after": -1}, "refresh_after", "at least 0"),
    (middleware, {"refresh_after": 0.5}, "refresh_after", NOT_SECONDS),
    (middleware, {"refresh_after": math.nan}, "refresh_after", NOT_SECONDS),
    (middleware, {"max_age": 0}, "max_age", "at least 1, or None for a browser-session cookie"),
    (middleware, {"max_age": -1}, "max_age", "or None for a browser-session cookie"),
    (middleware, {"max_age": 3600.5}, "max_age", NOT_SECONDS),
    (middleware, {"max_age": math.inf}, "max_age", NOT_SECONDS),
    (middleware, {"compress_threshold": -1}, "compress_threshold", "at least 0, or None for never compress"),
    (middleware, {"compress_threshold": 1024.0}, "compress_threshold", "an int"),
    (middleware, {"compress_threshold": "1k"}, "compress_threshold", "an int"),
    (middleware, {"conflict_attempts": 0}, "conflict_attempts", "an int of at least 1"),
    (middleware, {"conflict_attempts": 2.5}, "conflict_attempts", "an int of at least 1"),
    (middleware, {"conflict_attempts": None}, "conflict_attempts", "an int of at least 1"),
    (middleware, {"max_session_size": 0}, "max_session_size", "an int of at least 1"),
    (middleware, {"max_session_size": 1e6}, "max_session_size", "an int of at least 1"),
    (middleware, {"max_session_size": None}, "max_session_size", "an int of at least 1"),
    (middleware, {"on_conflict": "ignore"}, "on_conflict", "'merge', 'raise' or 'overwrite'"),
    (middleware, {"store_error_response": "sorry"}, "store_error_response", "a callable"),
    (
        middleware,
        {"store_error_response": sorry, "raise_store_errors": True},
        "raise_store_errors and store_error_response",
        "cannot be used together",
    ),
    (middleware, {"raise_store_errors": "yes"}, "raise_store_errors", "True or False"),
    (middleware, {"save_on_error": 1}, "save_on_error", "True or False"),
    (middleware, {"https_only": "false"}, "https_only", "True or False"),
    (middleware, {"clock": 1_900_000_000}, "clock", "a callable"),
    (middleware, {"same_site": "none", "https_only": False}, "same_site='none'", "https_only=True"),
    (dynamodb_store, {"table_name": ""}, "table_name", "non-empty string"),
    (dynamodb_store, {"table_name": None}, "table_name", "non-empty string"),
    (dynamodb_store, {"partition_key": ""}, "partition_key", "non-empty string"),
    (dynamodb_store, {"ttl_attribute": 5}, "ttl_attribute", "non-empty string"),
    (dynamodb_store, {"key_prefix": None}, "key_prefix", "string"),
    (dynamodb_store, {"max_concurrency": 0}, "max_concurrency", "an int of at least 1"),
    (dynamodb_store, {"max_concurrency": 4.0}, "max_concurrency", "an int of at least 1"),
    (dynamodb_store, {"table_wait_timeout": -1}, "table_wait_timeout", "finite, non-negative"),
    (dynamodb_store, {"table_wait_timeout": math.nan}, "table_wait_timeout", "finite, non-negative"),
    (dynamodb_store, {"table_wait_timeout": math.inf}, "table_wait_timeout", "finite, non-negative"),
    (dynamodb_store, {"consistent_read": "yes"}, "consistent_read", "True or False"),
    (dynamodb_store, {"clock": "now"}, "clock", "a callable"),
    (memory_store, {"clock": None}, "clock", "a callable"),
]


@pytest.mark.parametrize(
    ("build", "options", "option", "allowed"),
    BAD,
    ids=[
        f"{build.__name__}-{'-'.join(f'{k}={v!r}' for k, v in options.items())}"
        for build, options, _, _ in BAD
    ],
)
def test_every_bad_setting_fails_at_construction(
    build: Callable[..., Any], options: dict[str, Any], option: str, allowed: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        build(**options)
    message = str(raised.value)
    assert message.startswith(option), message
    assert allowed in message, message
    assert LONG_SECRET not in message


GOOD: list[dict[str, Any]] = [
    {"idle_timeout": 1, "absolute_timeout": None, "refresh_after": 0, "max_age": None},
    {
        "idle_timeout": timedelta(minutes=30),
        "absolute_timeout": timedelta(hours=8),
        "max_age": timedelta(days=1),
    },
    {"compress_threshold": None},
    {"compress_threshold": 0},
    {"max_session_size": 1, "conflict_attempts": 1, "store_error_response": sorry},
    {"secret_key": ["old-secret", LONG_SECRET]},
]


@pytest.mark.parametrize("options", GOOD)
def test_good_settings_are_accepted(options: dict[str, Any]) -> None:
    middleware(**options)


def test_timedelta_and_int_settings_mean_the_same() -> None:
    built = middleware(idle_timeout=timedelta(minutes=5), absolute_timeout=3600, refresh_after=timedelta(0))
    assert (built.timing.idle_timeout, built.timing.absolute_timeout, built.timing.refresh_after) == (
        300,
        3600,
        0,
    )


@pytest.mark.parametrize(
    "secret_key", ["brief-key", [LONG_SECRET, "brief-key-1"], ["brief-key-2", "brief-key-3"]]
)
def test_a_short_secret_is_accepted_with_one_logged_warning(
    caplog: pytest.LogCaptureFixture, secret_key: Any
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never warnings.warn: suites run with warnings as errors
        with caplog.at_level(logging.WARNING, logger="dynsession"):
            middleware(secret_key=secret_key)
    records = [r for r in caplog.records if r.name == "dynsession"]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert "shorter than 16 characters" in records[0].getMessage()
    for key in [secret_key] if isinstance(secret_key, str) else secret_key:
        assert key not in caplog.text


def test_a_long_secret_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="dynsession"):
        middleware(secret_key=[LONG_SECRET, LONG_SECRET[::-1]])
    assert caplog.records == []
