"""Server-side sessions for Starlette and FastAPI, stored in Amazon DynamoDB."""

from .clock import Clock, system_clock
from .exceptions import (
    ConfigurationError,
    DynSessionError,
    SessionConflict,
    SessionNotLoaded,
    SessionNotSerializable,
    SessionTooLarge,
    StoreError,
    StoreUnavailable,
    TableConfigError,
)
from .lazy import load_session
from .middleware import SessionMiddleware
from .session import SessionInfo, end_session, regenerate_session, session_info
from .stores import DynamoDBStore, MemoryStore, SessionRecord, SessionStore
from .tables import TableFinding, TableReport

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "ConfigurationError",
    "DynSessionError",
    "DynamoDBStore",
    "MemoryStore",
    "SessionConflict",
    "SessionInfo",
    "SessionMiddleware",
    "SessionNotLoaded",
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
    "load_session",
    "regenerate_session",
    "session_info",
    "system_clock",
]
