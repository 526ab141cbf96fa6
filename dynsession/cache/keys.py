"""What a cache key may be.

A key is a non-empty ``str`` of at most :data:`MAX_KEY_BYTES` bytes in UTF-8 (so no lone
surrogates). Any other character is fine: DynamoDB stores the key, behind the cache's prefix, as
a String partition key, whose limit is 2048 bytes; the prefix may use the other 1024.
"""

from __future__ import annotations

from ..exceptions import ConfigurationError
from .errors import InvalidCacheKey

MAX_KEY_BYTES = 1024
MAX_PREFIX_BYTES = 1024


def check_key(key: object) -> str:
    """Return ``key`` if it is a valid cache key.

    Raises InvalidCacheKey saying what is wrong (the key's type or length, never its text).
    """
    if not isinstance(key, str):
        raise InvalidCacheKey(f"cache keys are str, not {type(key).__name__}")
    if not key:
        raise InvalidCacheKey("cache keys cannot be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidCacheKey("cache key is not valid Unicode (it holds a lone surrogate)") from None
    if size > MAX_KEY_BYTES:
        raise InvalidCacheKey(f"cache key is {size} bytes in UTF-8, over the {MAX_KEY_BYTES} byte limit")
    return key


def check_prefix(prefix: object) -> str:
    """Return ``prefix`` if it can stand before every key in a DynamoDB partition key.

    Raises ConfigurationError (a ValueError) when it is not a str, not UTF-8 or too long.
    """
    if not isinstance(prefix, str):
        raise ConfigurationError(f"key_prefix must be a str, not {type(prefix).__name__}")
    try:
        size = len(prefix.encode("utf-8"))
    except UnicodeEncodeError:
        raise ConfigurationError("key_prefix is not valid Unicode") from None
    if size > MAX_PREFIX_BYTES:
        raise ConfigurationError(f"key_prefix is {size} bytes, over the {MAX_PREFIX_BYTES} byte limit")
    return prefix
