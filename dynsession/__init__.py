"""Server-side sessions for Starlette and FastAPI, stored in Amazon DynamoDB."""

from .binding import ClientBinding
from .clock import Clock, system_clock
from .exceptions import (
    ConfigurationError,
    DynSessionError,
    SessionConflict,
    SessionNotSerializable,
    SessionTooLarge,
    StoreError,
    StoreUnavailable,
    TableConfigError,
)
from .middleware import SessionMiddleware
from .session import SessionInfo, end_session, regenerate_session, session_info
from .stores import DynamoDBStore, MemoryStore, MovedRecord, MovingStore, SessionRecord, SessionStore
from .tables import TableFinding, TableReport

__version__ = "0.1.0"

__all__ = [
    "ClientBinding",
    "Clock",
    "ConfigurationError",
    "DynSessionError",
    "DynamoDBStore",
    "MemoryStore",
    "MovedRecord",
    "MovingStore",
    "SessionConflict",
    "SessionInfo",
    "SessionMiddleware",
    "SessionNotSerializable",
    "SessionRecord",
    "SessionStore",
    "SessionTooLarge",
    "StoreError",
    "StoreUnavailable",
    "TableConfigError",
    "TableFinding",
    "TableReport",
    "end_session",
    "regenerate_session",
    "session_info",
    "system_clock",
]
