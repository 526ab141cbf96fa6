"""The session cookie: new IDs, signing with key rotation, parsing and Set-Cookie rendering."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import itsdangerous

from .exceptions import ConfigurationError

SameSite = Literal["lax", "strict", "none"]

MAX_COOKIE_BYTES = 4096
_SALT = "dynsession.cookie"
# 32 random bytes as url-safe base64 (43 chars), a dot, a SHA-256 HMAC as url-safe base64 (43 chars).
_SIGNED_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def new_session_id() -> str:
    """Return a fresh session ID: 256 random bits, url-safe base64."""
    return secrets.token_urlsafe(32)


def store_key(session_id: str) -> str:
    """Return the key stores see for a session ID: its SHA-256 hex digest (the ID never leaves)."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class CookieValue:
    session_id: str
    signed_with_current_key: bool


class CookieSigner:
    """Signs session IDs with the newest key and verifies them against every key.

    ``secret_key`` is one key or a sequence ordered oldest first, as in itsdangerous.
    """

    def __init__(self, secret_key: str | Sequence[str]) -> None:
        # None (an unset environment variable) must fail as a configuration error, not a TypeError.
        keys = [secret_key] if isinstance(secret_key, str) else list(secret_key or ())
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ConfigurationError("secret_key must be a non-empty string or a list of them")
        # Newest first: the common case verifies with one HMAC.
        self._signers = [
            itsdangerous.Signer(key, salt=_SALT, digest_method=hashlib.sha256) for key in reversed(keys)
        ]
        # itsdangerous derives the HMAC key again on every verify; deriving it once halves the cost
        # of reading a cookie, which every request with a session pays.
        self._keys = [signer.derive_key() for signer in self._signers]

    def sign(self, session_id: str) -> str:
        return self._signers[0].sign(session_id).decode("ascii")

    def unsign(self, value: str) -> CookieValue | None:
        """Return the session ID in a cookie value, or None if it is malformed or badly signed."""
        if len(value) > MAX_COOKIE_BYTES or not _SIGNED_FORMAT.fullmatch(value):
            return None
        session_id, _, signature = value.partition(".")
        payload, given = session_id.encode("ascii"), signature.encode("ascii")
        for index, key in enumerate(self._keys):
            # itsdangerous's format: url-safe base64 of the HMAC-SHA256, "=" padding stripped.
            expected = base64.urlsafe_b64encode(hmac.digest(key, payload, "sha256"))[:-1]
            if hmac.compare_digest(expected, given):
                return CookieValue(session_id, signed_with_current_key=index == 0)
        return None


class CookieFormatter:
    """Renders the Set-Cookie header values for one cookie configuration."""

    def __init__(
        self,
        name: str,
        *,
        max_age: int | None,
        path: str,
        same_site: SameSite,
        https_only: bool,
        domain: str | None,
        partitioned: bool,
    ) -> None:
        if not _TOKEN.fullmatch(name):
            raise ConfigurationError(f"session_cookie {name!r} is not a valid cookie name")
        if same_site not in ("lax", "strict", "none"):
            raise ConfigurationError(f"same_site must be 'lax', 'strict' or 'none', not {same_site!r}")
        if same_site == "none" and not https_only:
            raise ConfigurationError("same_site='none' requires https_only=True (browsers reject it)")
        if partitioned and not https_only:
            raise ConfigurationError("partitioned=True requires https_only=True (browsers reject it)")
        if max_age is not None and max_age < 0:
            raise ConfigurationError("max_age must be None or a non-negative number of seconds")
        for label, text in (("path", path), ("domain", domain or "")):
            if any(c in text for c in ";\r\n"):
                raise ConfigurationError(f"{label} must not contain ';' or line breaks")
        self.name = name
        self.max_age = max_age
        # Starlette's SessionMiddleware text, attribute for attribute (names, case and order), so
        # tests written against it keep passing: "path=/; Max-Age=N; httponly; samesite=lax; ...".
        flags = f"httponly; samesite={same_site}"
        if https_only:
            flags += "; secure"
        if domain is not None:
            flags += f"; domain={domain}"
        if partitioned:
            flags += "; partitioned"
        max_age_part = "" if max_age is None else f"Max-Age={max_age}; "
        self._tail = f"; path={path}; {max_age_part}{flags}"
        self._expired = f"{name}=null; path={path}; expires={_EPOCH}; {flags}"

    def set_cookie(self, signed_value: str) -> str:
        return f"{self.name}={signed_value}{self._tail}"

    def delete_cookie(self) -> str:
        return self._expired
