"""The session cookie: new IDs, signing with key rotation, parsing and Set-Cookie rendering."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple

import itsdangerous

from ..exceptions import ConfigurationError

SameSite = Literal["lax", "strict", "none"]

MAX_COOKIE_BYTES = 4096
_SALT = "dynsession.cookie"
# 32 random bytes as url-safe base64 (43 chars), optionally a dot and the session's version in
# decimal (eventually consistent reads), a dot, a SHA-256 HMAC as url-safe base64 (43 chars).
# Cookies without the version, as every cookie was before, keep verifying.
_SIGNED_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}(?:\.[1-9][0-9]{0,17})?\.[A-Za-z0-9_-]{43}")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
# base64 to its url-safe alphabet (what base64.urlsafe_b64encode does, without its two wrappers).
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_SHA256 = hashlib.sha256()
_BLOCK = 64  # SHA-256's block size: HMAC pads its key to it
_IPAD = bytes(byte ^ 0x36 for byte in range(256))
_OPAD = bytes(byte ^ 0x5C for byte in range(256))


def new_session_id() -> str:
    """Return a fresh session ID: 256 random bits, url-safe base64."""
    return secrets.token_urlsafe(32)


def store_key(session_id: str) -> str:
    """Return the key stores see for a session ID: its SHA-256 hex digest (the ID never leaves)."""
    digest = _SHA256.copy()  # cheaper than building a hash object by name (OpenSSL 3)
    digest.update(session_id.encode("ascii"))
    return digest.hexdigest()


class CookieValue(NamedTuple):
    """A verified cookie's contents."""

    session_id: str
    signed_with_current_key: bool
    version: int | None = None  # the session version the cookie was issued with, if it carries one


class _KeyedMac:
    """HMAC-SHA256 under one key, its padded key blocks hashed once."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def signature(self, payload: bytes) -> bytes:
        """itsdangerous's format: url-safe base64 of the HMAC-SHA256, "=" padding stripped."""
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return binascii.b2a_base64(outer.digest(), newline=False).translate(_URLSAFE)[:-1]


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
        # of reading a cookie, which every request with a session pays. The HMAC's inner and outer
        # SHA-256 states are keyed here too (RFC 2104): each cookie then costs two hash copies,
        # about a third of what hmac.digest spends setting up OpenSSL's HMAC on every call.
        self._keys = [_KeyedMac(signer.derive_key()) for signer in self._signers]

    def sign(self, session_id: str, version: int | None = None) -> str:
        """Sign a session ID, and with it the session's version when one is given."""
        payload = session_id if version is None else f"{session_id}.{version}"
        return f"{payload}.{self._keys[0].signature(payload.encode('ascii')).decode('ascii')}"

    def unsign(self, value: str) -> CookieValue | None:
        """Return the session ID (and version) in a cookie value, or None if it is malformed or
        badly signed."""
        if len(value) > MAX_COOKIE_BYTES or not _SIGNED_FORMAT.fullmatch(value):
            return None
        signed, _, signature = value.rpartition(".")
        payload, given = signed.encode("ascii"), signature.encode("ascii")
        for index, key in enumerate(self._keys):
            if hmac.compare_digest(key.signature(payload), given):
                session_id, _, version = signed.partition(".")
                return CookieValue(session_id, index == 0, int(version) if version else None)
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


def cookie_values(headers: Iterable[tuple[bytes, bytes]], name: str, limit: int) -> list[str]:
    """The first ``limit`` values of the cookie ``name`` in ASGI request headers, in the order sent.

    A browser sends several when cookies of one name were set for different domains or paths (a
    stray one for a parent domain, say); the caller takes the first that verifies.
    """
    found: list[str] = []
    for header, raw in headers:
        if header != b"cookie":
            continue
        for chunk in raw.decode("latin-1").split(";"):
            key, sep, value = chunk.partition("=")
            if sep and key.strip() == name:
                value = value.strip()
                found.append(value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value)
                if len(found) == limit:
                    return found
    return found
