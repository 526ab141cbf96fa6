"""What HybridCache stores in the shared tier's ``value`` when an entry needs more than its bytes.

An entry set with tags, or while ``fail_safe`` or ``eager_refresh`` is on, carries a header in
front of its value; any other entry is stored as the bare value, exactly as DynamoDBCache (and
so the .NET provider) writes it::

    b"\\x00HC1" | header length (2 bytes, big-endian) | header (compact JSON) | value

| header field | holds |
|---|---|
| ``s`` | the second the entry was set (tags compare against it; eager refresh measures from it) |
| ``f`` | seconds the stored TTL runs past the entry's own expiry (the fail-safe window), or 0 |
| ``t`` | the tags, a list of strings (absent: none) |

A bare value that happens to begin with the marker is wrapped all the same, so HybridCache never
misreads its own entries; a value written by another program that begins with those four bytes
would be read as an envelope (and, failing to parse, as the bare value it is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MARKER = b"\x00HC1"
_HEAD = len(MARKER) + 2


@dataclass(frozen=True, slots=True)
class Envelope:
    """An entry's value with what HybridCache needs to know of it.

    ``set_at`` is ``None`` for a bare value (written without a header, by HybridCache or anyone
    else); ``fail_safe`` is the seconds by which the stored TTL exceeds the entry's own expiry.
    """

    value: bytes
    set_at: int | None = None
    fail_safe: int = 0
    tags: tuple[str, ...] = ()

    @property
    def bare(self) -> bool:
        """True when the value can be stored without a header (nothing to say beside it)."""
        return self.set_at is None and not self.tags and not self.fail_safe

    def encode(self) -> bytes:
        """The bytes to store: the bare value when it can go alone, else header and value."""
        if self.bare and not self.value.startswith(MARKER):
            return self.value
        header: dict[str, object] = {"s": self.set_at or 0, "f": self.fail_safe}
        if self.tags:
            header["t"] = list(self.tags)
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return MARKER + len(text).to_bytes(2, "big") + text + self.value


def decode(stored: bytes) -> Envelope:
    """The envelope of stored bytes; a bare value (or one whose header does not parse) comes back
    as ``Envelope(stored)``. Never raises."""
    if not stored.startswith(MARKER) or len(stored) < _HEAD:
        return Envelope(stored)
    end = _HEAD + int.from_bytes(stored[len(MARKER) : _HEAD], "big")
    try:
        header = json.loads(stored[_HEAD:end])
        set_at, fail_safe, tags = header["s"], header["f"], header.get("t", [])
        if not (isinstance(set_at, int) and isinstance(fail_safe, int) and isinstance(tags, list)):
            return Envelope(stored)
        if len(stored) < end or not all(isinstance(tag, str) for tag in tags):
            return Envelope(stored)
    except (ValueError, KeyError, TypeError):
        return Envelope(stored)
    return Envelope(stored[end:], set_at or None, fail_safe, tuple(tags))
