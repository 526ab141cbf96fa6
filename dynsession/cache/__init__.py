"""A distributed cache on DynamoDB: ASP.NET Core's ``IDistributedCache`` for Python, async.

``DynamoDBCache`` keeps entries in a DynamoDB table (it can be the sessions table) in the item
layout of the AWS .NET distributed cache provider; ``MemoryCache`` keeps them in this process
with the same rules. ``HybridCache`` keeps copies in this process in front of either, with one
factory run across processes, stale-on-failure, eager refresh and tags. All implement
:class:`DistributedCache`; ``cached`` decorates an async function so its results are cached.
"""

from .base import DistributedCache
from .decorator import cached
from .dynamodb import DynamoDBCache
from .entry import CacheEntry
from .errors import CacheValueNotSerializable, CacheValueTooLarge, InvalidCacheKey, InvalidExpiry
from .expiry import Duration
from .hybrid.cache import HybridCache
from .hybrid.stats import HybridCacheStats
from .keys import MAX_KEY_BYTES
from .memory import MemoryCache

__all__ = [
    "MAX_KEY_BYTES",
    "CacheEntry",
    "CacheValueNotSerializable",
    "CacheValueTooLarge",
    "DistributedCache",
    "Duration",
    "DynamoDBCache",
    "HybridCache",
    "HybridCacheStats",
    "InvalidCacheKey",
    "InvalidExpiry",
    "MemoryCache",
    "cached",
]
