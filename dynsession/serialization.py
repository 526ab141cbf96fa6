"""Session dict ⇄ bytes: compact JSON, an optional zlib envelope, and size accounting."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .exceptions import SessionNotSerializable

# An encoded session is either plain JSON (always starts with "{") or this marker byte followed by
# zlib-compressed JSON. The marker keeps both formats loadable forever.
_ZLIB_MARKER = b"\x01"
# An encrypted blob (see dynsession.encryption) starts with this byte; inside is one of the above.
ENCRYPTED_MARKER = b"\x02"
DEFAULT_COMPRESS_THRESHOLD = 1024

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class BlobDecodeError(ValueError):
    """A stored blob is corrupted or in an unknown format."""


def dumps(data: Mapping[str, Any]) -> bytes:
    """Encode a session dict as compact JSON.

    Raises SessionNotSerializable naming the top-level key whose value cannot be encoded.
    """
    try:
        return _encoder.encode(data).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise _explain(data, exc) from exc


def _explain(data: Mapping[str, Any], exc: Exception) -> SessionNotSerializable:
    for key, value in data.items():
        if not isinstance(key, str | int | float | bool) and key is not None:
            return SessionNotSerializable(None, f"key {key!r} is not a string")
        try:
            _encoder.encode(value)
        except (TypeError, ValueError) as inner:
            return SessionNotSerializable(str(key), str(inner))
    return SessionNotSerializable(None, str(exc))


def loads(raw: bytes) -> dict[str, Any]:
    """Decode plain JSON produced by :func:`dumps`."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BlobDecodeError("stored session is not valid JSON") from exc
    if not isinstance(value, dict):
        raise BlobDecodeError("stored session is not a JSON object")
    return value


def pack(raw: bytes, threshold: int | None = DEFAULT_COMPRESS_THRESHOLD) -> bytes:
    """Return the stored form of encoded JSON: compressed when over ``threshold`` and smaller."""
    if threshold is None or len(raw) <= threshold:
        return raw
    compressed = _ZLIB_MARKER + zlib.compress(raw, 6)
    return compressed if len(compressed) < len(raw) else raw


def unpack(blob: bytes) -> bytes:
    """Return the JSON inside a stored blob, whichever format it was written in."""
    head = blob[:1]
    if head == b"{":
        return blob
    if head == _ZLIB_MARKER:
        try:
            return zlib.decompress(blob[1:])
        except zlib.error as exc:
            raise BlobDecodeError("stored session has a corrupted zlib body") from exc
    if head == ENCRYPTED_MARKER:
        raise BlobDecodeError("stored session is encrypted and no encryption_key is configured")
    raise BlobDecodeError("stored session has an unknown format")


class Envelope(Protocol):
    """A wrapper around the stored blob that is bound to its store key (see dynsession.encryption)."""

    def seal(self, blob: bytes, key: str) -> bytes: ...

    def open(self, blob: bytes, key: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class BlobCodec:
    """Session JSON to the stored blob and back: compression first, then the optional envelope."""

    compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD
    envelope: Envelope | None = None

    def encode(self, raw: bytes, key: str) -> bytes:
        """Return the blob to store under ``key`` for the encoded JSON ``raw``."""
        blob = pack(raw, self.compress_threshold)
        return blob if self.envelope is None else self.envelope.seal(blob, key)

    def decode(self, blob: bytes, key: str) -> bytes:
        """Return the JSON inside the blob stored under ``key``. Raises BlobDecodeError."""
        if self.envelope is not None:
            blob = self.envelope.open(blob, key)
        return unpack(blob)


def largest_keys(data: Mapping[str, Any], count: int = 3) -> list[tuple[str, int]]:
    """Return up to ``count`` ``(key, encoded size)`` pairs, biggest first."""
    sizes = []
    for key, value in data.items():
        try:
            size = len(_encoder.encode(value).encode("utf-8"))
        except (TypeError, ValueError):
            continue
        sizes.append((str(key), size))
    sizes.sort(key=lambda pair: pair[1], reverse=True)
    return sizes[:count]


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return this request's key-level edits: ``(keys set to a new value, keys deleted)``.

    Values are compared by their encoded form, so nested mutation counts as a change.
    """
    updated = {
        key: value
        for key, value in after.items()
        if key not in before or _encoder.encode(value) != _encoder.encode(before[key])
    }
    deleted = [key for key in before if key not in after]
    return updated, deleted
