"""A cache entry as a DynamoDB item, laid out as the AWS .NET distributed cache provider lays it out.

| attribute | holds | when absent |
|---|---|---|
| partition key (``id``) | String: the key prefix + the cache key | — |
| ``value`` | Binary: the value | (an item without it is not an entry) |
| TTL attribute (``ttl``) | Number: epoch seconds, ``min(now + window, deadline)`` | ``NULL``: no expiry |
| ``ttl_window`` | String: the sliding window as a .NET ``TimeSpan`` (``"00:20:00"``) | ``NULL``: no sliding |
| ``ttl_deadline`` | Number: the absolute deadline, epoch seconds | ``NULL``: no deadline |
| ``encoding`` | String ``"zlib"``: ``value`` is compressed (opt-in; .NET cannot read it) | plain value |
| ``tok`` | Binary: the token of the ``add`` that wrote the item (.NET ignores it) | written by ``set`` |

The .NET provider writes ``NULL`` rather than leaving an attribute out; both are read as "none".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .._serialization import BlobDecodeError, pack, unpack
from ..exceptions import ConfigurationError
from ..stores.dynamodb_wire import MAX_ITEM_BYTES, item_size
from .entry import CacheEntry
from .errors import CacheValueTooLarge
from .timespan import format_timespan, parse_timespan

VALUE, WINDOW, DEADLINE, ENCODING = "value", "ttl_window", "ttl_deadline", "encoding"
# The .NET provider reads only the attributes it writes, so an add's token is invisible to it.
TOKEN = "tok"
ZLIB = "zlib"
_NULL: dict[str, Any] = {"NULL": True}


@dataclass(frozen=True, slots=True)
class ItemLayout:
    """Where a cache keeps things in its table: the attribute names, the key prefix, and when
    values are compressed (``compress_threshold`` bytes; ``None``: never). Raises
    ConfigurationError for a negative threshold."""

    partition_key: str = "id"
    ttl_attribute: str = "ttl"
    key_prefix: str = "cache:dc:"
    compress_threshold: int | None = None

    def __post_init__(self) -> None:
        if self.compress_threshold is not None and (
            isinstance(self.compress_threshold, bool) or self.compress_threshold < 0
        ):
            raise ConfigurationError("compress_threshold must be a non-negative number of bytes or None")

    def key(self, key: str) -> dict[str, Any]:
        """The DynamoDB ``Key`` of a cache key."""
        return {self.partition_key: {"S": self.key_prefix + key}}

    def item(self, key: str, entry: CacheEntry, token: bytes | None = None) -> dict[str, Any]:
        """The item ``set`` writes, or ``add`` with its write ``token``. Raises CacheValueTooLarge
        when it would not fit in DynamoDB."""
        stored = pack(entry.value, self.compress_threshold)
        item: dict[str, Any] = {
            **self.key(key),
            VALUE: {"B": stored},
            self.ttl_attribute: _NULL if entry.ttl is None else {"N": str(entry.ttl)},
            WINDOW: _NULL if entry.window is None else {"S": format_timespan(entry.window)},
            DEADLINE: _NULL if entry.deadline is None else {"N": str(entry.deadline)},
        }
        if stored is not entry.value:
            item[ENCODING] = {"S": ZLIB}
        if token is not None:
            item[TOKEN] = {"B": token}
        size = item_size(item)
        if size > MAX_ITEM_BYTES:
            raise CacheValueTooLarge(size, MAX_ITEM_BYTES)
        return item

    def free_condition(self, now: int, token: bytes) -> dict[str, Any]:
        """The condition under which ``add`` may write at ``now``: no item, an item without a value
        (a stub), one whose TTL has passed but that DynamoDB has not removed yet, or the item this
        very add (``token``) wrote on an attempt whose answer was lost, which the retry rewrites
        unchanged."""
        return {
            "ConditionExpression": (
                "attribute_not_exists(#k) OR attribute_not_exists(#v) OR #t <= :now OR #o = :o"
            ),
            "ExpressionAttributeNames": {
                "#k": self.partition_key,
                "#v": VALUE,
                "#t": self.ttl_attribute,
                "#o": TOKEN,
            },
            "ExpressionAttributeValues": {":now": {"N": str(now)}, ":o": {"B": token}},
        }

    def ttl_update(self, key: str, old: int, new: int) -> dict[str, Any]:
        """An UpdateItem moving only the TTL from ``old`` to ``new``, if it still is ``old``: a
        concurrent ``set`` or ``remove`` wins over a refresh, and a refresh never creates an item."""
        return {
            "Key": self.key(key),
            "UpdateExpression": "SET #t = :t",
            "ConditionExpression": "#t = :old",
            "ExpressionAttributeNames": {"#t": self.ttl_attribute},
            "ExpressionAttributeValues": {":t": {"N": str(new)}, ":old": {"N": str(old)}},
        }

    def entry(self, item: Mapping[str, Any]) -> CacheEntry | None:
        """The entry an item holds; ``None`` when it holds no value (such as a stub left by a .NET
        refresh racing a removal).

        Raises BlobDecodeError when the value is marked compressed but cannot be decompressed, or
        carries an encoding this version does not know.
        """
        value = item.get(VALUE, {}).get("B")
        if value is None:
            return None
        value = bytes(value)
        encoding = item.get(ENCODING, {}).get("S")
        if encoding == ZLIB:
            value = unpack(value)
        elif encoding is not None:
            raise BlobDecodeError(f"cache value has an unknown encoding {encoding!r}")
        return CacheEntry(
            value,
            ttl=_number(item.get(self.ttl_attribute)),
            window=_window(item.get(WINDOW)),
            deadline=_number(item.get(DEADLINE)),
        )


def _number(attribute: Mapping[str, Any] | None) -> int | None:
    text = None if attribute is None else attribute.get("N")
    # .NET parses the number as a double before truncating it to whole seconds; so do we.
    return None if text is None else int(float(text))


def _window(attribute: Mapping[str, Any] | None) -> timedelta | None:
    text = None if attribute is None else attribute.get("S")
    if text is None:
        return None
    try:
        window = parse_timespan(text)
    except ValueError:
        return None  # a window nobody can read: the entry keeps its TTL and does not slide
    return window if window > timedelta(0) else None
