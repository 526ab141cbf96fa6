"""Session stores: the contract and its implementations."""

from .base import MovedRecord, MovingStore, SessionOwner, SessionRecord, SessionStore
from .dynamodb import DynamoDBStore
from .memory import MemoryStore
from .users import BoundSession, UserSessionStore

__all__ = [
    "BoundSession",
    "DynamoDBStore",
    "MemoryStore",
    "MovedRecord",
    "MovingStore",
    "SessionOwner",
    "SessionRecord",
    "SessionStore",
    "UserSessionStore",
]
