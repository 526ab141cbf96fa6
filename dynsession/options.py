"""Options checked when the middleware or a store is built: a bad value raises ConfigurationError
naming the option and what it accepts, so a misconfigured app fails at startup, not per request."""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from .stores.base import SessionStore

logger = logging.getLogger("dynsession")

T = TypeVar("T")

# Shorter secrets are accepted (tests everywhere use short ones) but logged: the HMAC key is only
# as strong as the secret it is derived from.
MIN_SECRET_LENGTH = 16


def seconds(name: str, value: object, *, minimum: int, none: str | None = None) -> int:
    """Whole seconds from an int or a timedelta, at least ``minimum``. Floats are refused: a
    fraction of a second would be silently dropped. ``none`` (what None means) only shapes the
    message; see :func:`optional_seconds`."""
    allowed = f"whole seconds (an int) or a timedelta, at least {minimum}" + (
        f", or None for {none}" if none else ""
    )
    if isinstance(value, timedelta):
        micros = value // timedelta(microseconds=1)
        if micros % 1_000_000:
            raise ConfigurationError(f"{name} must be {allowed}, not {value!r} (a fraction of a second)")
        count = micros // 1_000_000
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        count = int(value)
    else:
        raise ConfigurationError(f"{name} must be {allowed}, not {value!r}")
    if count < minimum:
        raise ConfigurationError(f"{name} must be {allowed}, not {value!r}")
    return count


def optional_seconds(name: str, value: object, *, minimum: int, none: str) -> int | None:
    """As :func:`seconds`, or None, which means ``none``."""
    return None if value is None else seconds(name, value, minimum=minimum, none=none)


def integer(name: str, value: object, *, minimum: int, none: str | None = None) -> int:
    """An int of at least ``minimum``; ``none`` only shapes the message (see :func:`optional_integer`)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or int(value) < minimum:
        allowed = f"an int of at least {minimum}" + (f", or None for {none}" if none else "")
        raise ConfigurationError(f"{name} must be {allowed}, not {value!r}")
    return int(value)


def optional_integer(name: str, value: object, *, minimum: int, none: str) -> int | None:
    """As :func:`integer`, or None, which means ``none``."""
    return None if value is None else integer(name, value, minimum=minimum, none=none)


def timeout(name: str, value: object) -> float:
    """A finite, non-negative number of seconds (fractions allowed: it bounds a wait)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or float(value) < 0
    ):
        raise ConfigurationError(f"{name} must be a finite, non-negative number of seconds, not {value!r}")
    return float(value)


def text(name: str, value: object, *, empty: bool = False) -> str:
    """A string, non-empty unless ``empty``."""
    if not isinstance(value, str) or (not value and not empty):
        raise ConfigurationError(f"{name} must be a{'' if empty else ' non-empty'} string, not {value!r}")
    return value


def flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, not {value!r}")
    return value


def function(name: str, value: T | None, *, none: str | None = None) -> T | None:
    """A callable; ``None`` only when ``none`` says what it means."""
    if value is None and none is not None:
        return None
    if not callable(value):
        allowed = "a callable" + (f", or None for {none}" if none else "")
        raise ConfigurationError(f"{name} must be {allowed}, not {type(value).__name__}")
    return value


def secret_keys(value: object) -> list[str]:
    """One secret or a sequence of them, oldest first; logs one warning when any is short.

    The value itself never appears in a message or log.
    """
    keys: list[object]
    if isinstance(value, str):
        keys = [value]
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        keys = list(value)
    else:
        keys = []
    if not keys or not all(isinstance(key, str) and key for key in keys):
        shown = "an empty value" if not keys else type(value).__name__
        raise ConfigurationError(
            f"secret_key must be a non-empty string or a non-empty list of them (oldest first), not {shown}"
        )
    checked = [key for key in keys if isinstance(key, str)]
    if any(len(key) < MIN_SECRET_LENGTH for key in checked):
        logger.warning(
            "secret_key has a key shorter than %d characters: use a long random string "
            "(for example secrets.token_urlsafe(32)) in production",
            MIN_SECRET_LENGTH,
        )
    return checked


def session_store(value: object) -> SessionStore:
    """An object with the SessionStore methods (``load``, ``save``, ``touch``, ``delete``)."""
    # Imported here: the stores check their own options with this module.
    from .stores.base import SessionStore

    if not isinstance(value, SessionStore):
        raise ConfigurationError(
            "store must be a SessionStore (DynamoDBStore, MemoryStore, or an object with async "
            f"load, save, touch and delete methods), not {type(value).__name__}"
        )
    return value


def exclusive(**given: Any) -> None:
    """At most one of the named options may be set (truthy)."""
    named = [name for name, value in given.items() if value]
    if len(named) > 1:
        raise ConfigurationError(f"{' and '.join(named)} cannot be used together; choose one")
