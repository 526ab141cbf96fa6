"""dynsession's exceptions.

    DynSessionError
    ├── ConfigurationError          bad middleware or store options
    │   └── TableConfigError        the DynamoDB table is missing or shaped wrongly
    ├── StoreError                  a store call failed; ``.original`` holds the cause
    │   ├── StoreUnavailable        unreachable, timed out, throttled past retries, table missing
    │   └── SessionConflict         a conditional write lost against a concurrent writer
    ├── SessionTooLarge             the stored item would exceed the store's size limit, or the
    │                               session's JSON the middleware's max_session_size
    ├── SessionNotSerializable      a session value cannot be encoded (also a TypeError)
    └── SessionNotLoaded            the session was used before it was loaded (also a RuntimeError)

No exception raised by dynsession carries a raw session ID. Messages name at most the first
eight hex characters of the hashed store key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .stores.base import MovedRecord, SessionRecord

__all__ = [
    "ConfigurationError",
    "DynSessionError",
    "SessionConflict",
    "SessionNotLoaded",
    "SessionNotSerializable",
    "SessionTooLarge",
    "StoreError",
    "StoreUnavailable",
    "TableConfigError",
]


class DynSessionError(Exception):
    """Base class of every error dynsession raises."""


class ConfigurationError(DynSessionError, ValueError):
    """An option passed to the middleware or a store is invalid."""


class TableConfigError(ConfigurationError):
    """The DynamoDB table is missing or does not have the layout dynsession needs."""


class StoreError(DynSessionError):
    """A session store call failed.

    ``original`` is the exception the backend raised, if any (also chained as ``__cause__``).
    """

    def __init__(self, message: str, *, original: BaseException | None = None) -> None:
        super().__init__(message)
        self.original = original


class StoreUnavailable(StoreError):
    """The store could not be reached or refused the call: the request cannot be served safely."""


class SessionConflict(StoreError):
    """A conditional write found a different version than expected (another request wrote first).

    ``current`` is the record the store holds now (a session, or the marker a moved session left
    behind), when the store could tell it without another read (DynamoDB returns it with the
    failed write); ``None`` means "load it to find out".
    """

    def __init__(
        self,
        message: str,
        *,
        original: BaseException | None = None,
        current: SessionRecord | MovedRecord | None = None,
    ) -> None:
        super().__init__(message, original=original)
        self.current = current


class SessionTooLarge(DynSessionError):
    """The session would not fit in one stored item, or its JSON is over the middleware's
    ``max_session_size``; nothing was written.

    ``size`` and ``limit`` are in bytes; ``largest_keys`` lists ``(key, encoded size)`` for the
    biggest top-level session keys, largest first, when the middleware knows them. ``what`` names
    the thing measured (``"session item"`` or ``"session JSON"``).
    """

    def __init__(
        self,
        size: int,
        limit: int,
        largest_keys: Sequence[tuple[str, int]] = (),
        *,
        what: str = "session item",
    ) -> None:
        self.size = size
        self.limit = limit
        self.largest_keys = list(largest_keys)
        self.what = what
        message = f"{what} is {size} bytes, over the {limit} byte limit"
        if self.largest_keys:
            listed = ", ".join(f"{key!r} ({n} bytes)" for key, n in self.largest_keys)
            message += f"; largest keys: {listed}"
        super().__init__(message)


class SessionNotSerializable(DynSessionError, TypeError):
    """A session value cannot be encoded as JSON; ``key`` names the top-level key holding it."""

    def __init__(self, key: str | None, reason: str) -> None:
        self.key = key
        where = f"session key {key!r}" if key is not None else "the session"
        super().__init__(f"{where} cannot be serialized to JSON: {reason}")


class SessionNotLoaded(DynSessionError, RuntimeError):
    """The session was used in a request that has not loaded it (``autoload`` skipped the request).

    ``what`` names what was used (``request.session``, ``end_session()``, ...); the message names
    the fix: ``await dynsession.load_session(request)``, or FastAPI's ``dynsession.fastapi.Session``.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(
            f"{what} needs the session, but this request has not loaded it (the middleware's autoload "
            "option skipped it): call `await dynsession.load_session(request)` first, or in FastAPI "
            "declare a parameter `session: dynsession.fastapi.Session`"
        )
