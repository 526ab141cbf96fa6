"""Options checked when the middleware or a store is built: a bad value raises ConfigurationError
naming the option and what it accepts, so a misconfigured app fails at startup, not per request."""

from __future__ import annotations

import functools
import logging
import math
import numbers
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from .exceptions import ConfigurationError

logger = logging.getLogger("dynsession")

T = TypeVar("T")
P = ParamSpec("P")

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

    Raises ConfigurationError saying what is wrong with the value: empty, None, or not a string.
    The value itself never appears in a message or log.
    """
    keys: list[object]
    if isinstance(value, str):
        keys = [value]
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        keys = list(value)
    else:
        keys = []
    problem = _secret_problem(value, keys)
    if problem is not None:
        raise ConfigurationError(
            f"secret_key must be a non-empty string or a non-empty list of them (oldest first): "
            f"{problem}; {SECRET_FIX}"
        )
    checked = [key for key in keys if isinstance(key, str)]
    short = [len(key) for key in checked if len(key) < MIN_SECRET_LENGTH]
    if short:
        logger.warning(
            "secret_key has a key of %d characters, shorter than %d characters: use a long random "
            "string in production (%s)",
            min(short),
            MIN_SECRET_LENGTH,
            SECRET_FIX,
        )
    return checked


SECRET_FIX = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _secret_problem(value: object, keys: list[object]) -> str | None:
    """What is wrong with a secret_key value (never showing it), or None."""
    if value is None:
        return "it is None (an environment variable that is not set?)"
    if isinstance(value, bytes | bytearray):
        return f"it is {type(value).__name__}; decode it to str"
    if isinstance(value, str):
        return "it is an empty string (an environment variable set to nothing?)" if not value else None
    if not isinstance(value, Sequence):
        return f"it is {type(value).__name__}"
    if not keys:
        return f"it is an empty {type(value).__name__}"
    for number, key in enumerate(keys, 1):
        where = f"key {number} of {len(keys)}"
        if not isinstance(key, str):
            return f"{where} is {'None' if key is None else type(key).__name__}, not str"
        if not key:
            return f"{where} is an empty string"
    return None


def exclusive(**given: Any) -> None:
    """At most one of the named options may be set (truthy)."""
    named = [name for name, value in given.items() if value]
    if len(named) > 1:
        raise ConfigurationError(f"{' and '.join(named)} cannot be used together; choose one")


def logged_when_refused(init: Callable[P, None]) -> Callable[P, None]:
    """Wrap a constructor so a ConfigurationError is also logged at ERROR before it is raised.

    Starlette builds middleware when the first ASGI message arrives; under uvicorn's default
    ``--lifespan auto`` that is the lifespan startup, whose failure uvicorn only reports as "ASGI
    'lifespan' protocol appears unsupported" before serving every request a 500. The log line
    names the problem and its fix where the operator looks: the server's console at startup.
    """

    @functools.wraps(init)
    def checked(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            init(*args, **kwargs)
        except ConfigurationError as exc:
            owner = type(args[0]).__name__ if args else init.__qualname__
            logger.error(
                "dynsession: %s refused its settings, so the app cannot serve requests: %s", owner, exc
            )
            raise

    return checked
