"""Server-side sessions for Starlette and FastAPI, stored in Amazon DynamoDB."""

from ._envelope.binding import ClientBinding
from ._request.devices import list_sessions, revoke_other_sessions, revoke_session
from ._request.lazy import load_session
from ._request.session import SessionInfo, end_session, regenerate_session, session_info
from ._users.user_sessions import UserSession, list_user_sessions, revoke_user_sessions
from ._version import __version__ as __version__
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
from .middleware import SessionMiddleware
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
