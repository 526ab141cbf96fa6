"""The example app's settings, read from environment variables."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

IDLE_TIMEOUT_VAR = "EXAMPLE_IDLE_TIMEOUT"
ABSOLUTE_TIMEOUT_VAR = "EXAMPLE_ABSOLUTE_TIMEOUT"
SECRET_KEY_VAR = "EXAMPLE_SECRET_KEY"
CART_DELAY_VAR = "EXAMPLE_CART_DELAY"

DEFAULT_IDLE_TIMEOUT = 1800
DEFAULT_ABSOLUTE_TIMEOUT = 8 * 3600


@dataclass(frozen=True, slots=True)
class Settings:
    """How the example app runs its sessions.

    ``idle_timeout`` and ``absolute_timeout`` are seconds (``absolute_timeout`` 0 turns it off);
    ``cart_delay`` is a pause in seconds before an item is added to the cart, long enough to click
    "add" in two tabs and watch both items survive.
    """

    secret_key: str
    idle_timeout: int = DEFAULT_IDLE_TIMEOUT
    absolute_timeout: int | None = DEFAULT_ABSOLUTE_TIMEOUT
    cart_delay: float = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read the settings from ``environ``; unset variables take their defaults.

        Without EXAMPLE_SECRET_KEY a random key is made, so cookies do not outlive the process.
        Raises ValueError naming the variable when a value is not a valid number of seconds.
        """
        absolute = _number(environ, ABSOLUTE_TIMEOUT_VAR, DEFAULT_ABSOLUTE_TIMEOUT)
        idle = _number(environ, IDLE_TIMEOUT_VAR, DEFAULT_IDLE_TIMEOUT)
        if idle < 1:
            raise ValueError(f"{IDLE_TIMEOUT_VAR} must be at least 1 second")
        return cls(
            secret_key=environ.get(SECRET_KEY_VAR) or secrets.token_urlsafe(32),
            idle_timeout=int(idle),
            absolute_timeout=int(absolute) or None,
            cart_delay=_number(environ, CART_DELAY_VAR, 0.0),
        )


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(f"{name} must be a finite, non-negative number of seconds, not {raw!r}")
    return value
