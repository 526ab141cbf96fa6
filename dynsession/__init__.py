"""Server-side sessions for Starlette and FastAPI, stored in Amazon DynamoDB."""

from .binding import ClientBinding
from .clock import Clock, system_clock
from .devices import list_sessions, revoke_other_sessions, revoke_session
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
from .stores import (
    BoundSession,
    DynamoDBStore,
    MemoryStore,
    MovedRecord,
    MovingStore,
    SessionOwner,
    SessionRecord,
    SessionStore,
    UserSessionStore,
)
from .tables import TableFinding, TableReport
from .user_sessions import UserSession, list_user_sessions, revoke_user_sessions

__version__ = "0.1.0"

__all__ = [
    "BoundSession",
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
    "SessionNotLoaded",
    "SessionNotSerializable",
    "SessionOwner",
    "SessionRecord",
    "SessionStore",
    "SessionTooLarge",
    "StoreError",
    "StoreUnavailable",
    "TableConfigError",
    "TableFinding",
    "TableReport",
    "UserSession",
    "UserSessionStore",
    "end_session",
    "list_sessions",
    "list_user_sessions",
    "load_session",
    "regenerate_session",
    "revoke_other_sessions",
    "revoke_session",
    "revoke_user_sessions",
    "session_info",
    "system_clock",
]
