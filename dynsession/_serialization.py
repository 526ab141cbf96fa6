"""Session dict ⇄ bytes: compact JSON, an optional zlib envelope, and size accounting."""

from __future__ import annotations

import json
import json.decoder
import json.encoder
import json.scanner
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .exceptions import SessionNotSerializable

# An encoded session is either plain JSON (always starts with "{") or this marker byte followed by
# zlib-compressed JSON. The marker keeps both formats loadable forever.
_ZLIB_MARKER = b"\x01"
# An encrypted blob (see dynsession._envelope.encryption) starts with this byte; inside is one of the above.
ENCRYPTED_MARKER = b"\x02"
DEFAULT_COMPRESS_THRESHOLD = 1024
EMPTY = b"{}"
"""The encoded empty session."""
# The largest encoded (uncompressed) session written or read. Compression lets a repetitive 50 MB
# value fit in a 48 KB item; the cap keeps what one item can cost to decode bounded.
DEFAULT_MAX_SESSION_SIZE = 4 * 1024 * 1024
# Objects and arrays nest at most this deep. Python's JSON encoder and decoder recurse once per
# level and share the interpreter's recursion limit with the call stack they run on, so without a
# fixed bound a session could load at one stack depth and fail to encode at a deeper one.
MAX_DEPTH = 100

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# Only for sessions holding lone surrogates (which UTF-8 cannot carry): "\ud800" escapes are
# standard JSON that every reader, dynsession's older versions included, turns back into the string.
_ascii_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# NaN and Infinity are refused on reading too: a session holding one could never be written again.
_decoder = json.JSONDecoder(parse_constant=_refuse_constant)

# Every request with a session encodes it (to find out whether it changed) and most decode one, so
# the encoder and scanner are built once here: JSONEncoder.encode and JSONDecoder.decode rebuild
# them on each call, most of their cost for a small session. Without the C accelerator (PyPy, a
# build without _json) the standard methods are used.
# (Typeshed leaves these module attributes out, hence getattr.)
_make_c_encoder: Callable[..., Callable[[Any, int], Sequence[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
_encoder_arguments = (_encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
_make_c_scanner: Callable[[json.JSONDecoder], Callable[[str, int], tuple[Any, int]]] | None = getattr(
    json.scanner, "c_make_scanner", None
)
_c_scanner = None if _make_c_scanner is None else _make_c_scanner(_decoder)
_WHITESPACE: Callable[[str, int], re.Match[str]] = getattr(json.decoder, "WHITESPACE").match  # noqa: B009


def _encode(data: Mapping[str, Any]) -> str:
    if _make_c_encoder is None:
        return _encoder.encode(data)
    # A fresh markers dict per call: the encoder's circular-reference check leaves entries behind
    # when it raises.
    return "".join(_make_c_encoder({}, *_encoder_arguments)(data, 0))


def _decode(text: str) -> Any:
    """``_decoder.decode(text)``: the same values and the same errors, without its wrappers."""
    if _c_scanner is None or not text.startswith("{"):
        return _decoder.decode(text)
    try:
        value, end = _c_scanner(text, 0)
    except StopIteration as exc:  # pragma: no cover - a text starting with "{" always has a value
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if end != len(text):
        end = _WHITESPACE(text, end).end()
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    return value


class BlobDecodeError(ValueError):
    """A stored blob is corrupted, in an unknown format, or over the size or nesting limits."""


def dumps(data: Mapping[str, Any]) -> bytes:
    """Encode a session dict as compact UTF-8 JSON.

    Raises SessionNotSerializable naming the top-level key whose value cannot be encoded, or nests
    deeper than :data:`MAX_DEPTH`.
    """
    try:
        text = _encode(data)
    except (TypeError, ValueError) as exc:
        raise _explain(data, exc) from exc
    except RecursionError as exc:
        raise SessionNotSerializable(None, f"nested more than {MAX_DEPTH} levels deep") from exc
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raw = _ascii_encoder.encode(data).encode("ascii")
    # Counting brackets is a cheap upper bound on the depth (strings may hold brackets too): only a
    # session with more containers than the limit is walked.
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _nests_too_deep(data):
        raise SessionNotSerializable(_deepest_key(data), f"nested more than {MAX_DEPTH} levels deep")
    return raw


def _explain(data: Mapping[str, Any], exc: Exception) -> SessionNotSerializable:
    for key, value in data.items():
        if not isinstance(key, str | int | float | bool) and key is not None:
            return SessionNotSerializable(None, f"key {key!r} is not a string")
        try:
            _encoder.encode(value)
        except (TypeError, ValueError) as inner:
            return SessionNotSerializable(str(key), str(inner))
    return SessionNotSerializable(None, str(exc))


def _nests_too_deep(value: Any) -> bool:
    """Walk containers level by level (no recursion) until one lies deeper than the limit."""
    level, depth = [value], 1
    while level:
        if depth > MAX_DEPTH:
            return True
        children: list[Any] = []
        for node in level:
            members = node.values() if isinstance(node, dict) else node
            children.extend(child for child in members if isinstance(child, dict | list | tuple))
        level, depth = children, depth + 1
    return False


def _deepest_key(data: Mapping[str, Any]) -> str | None:
    for key, value in data.items():
        if _nests_too_deep({"": value}):
            return str(key)
    return None


def loads(raw: bytes) -> dict[str, Any]:
    """Decode JSON produced by :func:`dumps` into a session dict.

    Raises BlobDecodeError for anything :func:`dumps` could not have written back: invalid UTF-8 or
    JSON, NaN or Infinity, nesting deeper than :data:`MAX_DEPTH`, or a value that is not an object.
    """
    try:
        value = _decode(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        # ValueError covers UnicodeDecodeError and JSONDecodeError.
        raise BlobDecodeError("stored session is not valid JSON") from exc
    if not isinstance(value, dict):
        raise BlobDecodeError("stored session is not a JSON object")
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _nests_too_deep(value):
        raise BlobDecodeError(f"stored session nests more than {MAX_DEPTH} levels deep")
    return value


def pack(raw: bytes, threshold: int | None = DEFAULT_COMPRESS_THRESHOLD) -> bytes:
    """Return the stored form of encoded JSON: compressed when over ``threshold`` and smaller."""
    if threshold is None or len(raw) <= threshold:
        return raw
    compressed = _ZLIB_MARKER + zlib.compress(raw, 6)
    return compressed if len(compressed) < len(raw) else raw


def unpack(blob: bytes, max_size: int = DEFAULT_MAX_SESSION_SIZE) -> bytes:
    """Return the JSON inside a stored blob, whichever format it was written in.

    Raises BlobDecodeError when the blob is corrupted, in an unknown format, or holds more than
    ``max_size`` bytes of JSON; decompression stops at that size, so a hostile blob costs no more.
    """
    if not blob:
        # What a store returns for an item it could not read at all (see SessionRecord).
        raise BlobDecodeError("stored item is malformed")
    head = blob[:1]
    if head == b"{":
        if len(blob) > max_size:
            raise BlobDecodeError(f"stored session is over {max_size} bytes")
        return blob
    if head == ENCRYPTED_MARKER:
        raise BlobDecodeError("stored session is encrypted and no encryption_key is configured")
    if head != _ZLIB_MARKER:
        raise BlobDecodeError("stored session has an unknown format")
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(memoryview(blob)[1:], max_size + 1)
    except zlib.error as exc:
        raise BlobDecodeError("stored session has a corrupted zlib body") from exc
    if len(raw) > max_size:
        raise BlobDecodeError(f"stored session decompresses to over {max_size} bytes")
    if not inflater.eof:
        raise BlobDecodeError("stored session has a corrupted zlib body")
    return raw


class Envelope(Protocol):
    """A wrapper around the stored blob that is bound to its store key (see _envelope/encryption.py)."""

    def seal(self, blob: bytes, key: str) -> bytes: ...

    def open(self, blob: bytes, key: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class BlobCodec:
    """Session JSON to the stored blob and back: compression first, then the optional envelope."""

    compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD
    envelope: Envelope | None = None
    max_size: int = DEFAULT_MAX_SESSION_SIZE

    def encode(self, raw: bytes, key: str) -> bytes:
        """Return the blob to store under ``key`` for the encoded JSON ``raw``."""
        blob = pack(raw, self.compress_threshold)
        return blob if self.envelope is None else self.envelope.seal(blob, key)

    def decode(self, blob: bytes, key: str) -> bytes:
        """Return the JSON inside the blob stored under ``key``. Raises BlobDecodeError."""
        if self.envelope is not None and blob:  # b"": an item the store could not read at all
            blob = self.envelope.open(blob, key)
        return unpack(blob, self.max_size)


def largest_keys(data: Mapping[str, Any], count: int = 3) -> list[tuple[str, int]]:
    """Return up to ``count`` ``(key, encoded size)`` pairs, biggest first."""
    sizes = []
    for key, value in data.items():
        try:
            size = len(_encoder.encode(value).encode("utf-8", "surrogatepass"))
        except (TypeError, ValueError, RecursionError):
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
