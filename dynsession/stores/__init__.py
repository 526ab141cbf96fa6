"""Session stores: the contract and its implementations."""

from .base import MovedRecord, MovingStore, SessionRecord, SessionStore
from .dynamodb import DynamoDBStore
from .memory import MemoryStore

__all__ = ["DynamoDBStore", "MemoryStore", "MovedRecord", "MovingStore", "SessionRecord", "SessionStore"]
