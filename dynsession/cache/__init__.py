"""A distributed cache on DynamoDB: ASP.NET Core's ``IDistributedCache`` for Python, async.

``DynamoDBCache`` keeps entries in a DynamoDB table (it can be the sessions table) in the item
layout of the AWS .NET distributed cache provider; ``MemoryCache`` keeps them in this process
with the same rules. Both implement :class:`DistributedCache`; ``cached`` decorates an async
function so its results are cached.
"""

from .base import DistributedCache
from .decorator import cached
from .dynamodb import DynamoDBCache
from .errors import CacheValueNotSerializable, CacheValueTooLarge, InvalidCacheKey, InvalidExpiry
from .expiry import Duration
from .keys import MAX_KEY_BYTES
from .memory import MemoryCache

__all__ = [
    "MAX_KEY_BYTES",
    "CacheValueNotSerializable",
    "CacheValueTooLarge",
    "DistributedCache",
    "Duration",
    "DynamoDBCache",
    "InvalidCacheKey",
    "InvalidExpiry",
    "MemoryCache",
    "cached",
]
