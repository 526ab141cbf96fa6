"""Client binding: a session answers only to the client properties it was created with."""

from __future__ import annotations

import hmac
import inspect
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.types import Scope

from ..exceptions import ConfigurationError

MismatchCallback = Callable[[HTTPConnection], "bool | Awaitable[bool]"]
_DOMAIN = b"dynsession.binding.v1\x00"
_V4_MAPPED = b"\x00" * 10 + b"\xff\xff"


@dataclass(frozen=True, slots=True)
class ClientBinding:
    """What a session is bound to, for the middleware's ``client_binding`` option.

    ``user_agent``: the User-Agent header must stay the same. ``ipv4_prefix`` / ``ipv6_prefix``:
    the client address (``scope["client"]``, so put ``ProxyHeadersMiddleware`` in front behind a
    proxy) must stay in the same network of that many leading bits; ``None`` binds that address
    family as a whole (a session started over IPv4 then fails over IPv6 if IPv4 is bound).
    ``on_mismatch(connection)`` (sync or async) is called when a request's cookie names a session
    bound to other properties; return true to also end that session in the store.

    Raises ConfigurationError when nothing is bound or a prefix is out of range.
    """

    user_agent: bool = True
    ipv4_prefix: int | None = None
    ipv6_prefix: int | None = None
    on_mismatch: MismatchCallback | None = None

    def __post_init__(self) -> None:
        if not (self.user_agent or self.ipv4_prefix is not None or self.ipv6_prefix is not None):
            raise ConfigurationError("client_binding binds nothing: set user_agent or a network prefix")
        for name, value, bits in (
            ("ipv4_prefix", self.ipv4_prefix, 32),
            ("ipv6_prefix", self.ipv6_prefix, 128),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= bits
            ):
                raise ConfigurationError(f"client_binding {name} must be None or an int from 0 to {bits}")
        if self.on_mismatch is not None and not callable(self.on_mismatch):
            raise ConfigurationError("client_binding on_mismatch must be callable")

    def properties(self, scope: Scope) -> bytes:
        """The bound properties of this request, as one canonical byte string."""
        parts = []
        if self.user_agent:
            agent = next((value for name, value in scope["headers"] if name == b"user-agent"), b"")
            parts.append(b"ua=" + agent)
        if self.ipv4_prefix is not None or self.ipv6_prefix is not None:
            parts.append(b"net=" + self._network(scope).encode("ascii"))
        return b"\n".join(parts)

    def _network(self, scope: Scope) -> str:
        client = scope.get("client")
        packed = _packed_address(client[0]) if client and isinstance(client[0], str) else None
        if packed is None:
            return "unknown"
        bits = len(packed) * 8
        prefix = self.ipv4_prefix if bits == 32 else self.ipv6_prefix
        if prefix is None:
            return "v4" if bits == 32 else "v6"
        network = int.from_bytes(packed, "big") >> (bits - prefix)
        return f"v{4 if bits == 32 else 6}:{network:x}/{prefix}"

    async def should_end(self, scope: Scope) -> bool:
        """Ask ``on_mismatch`` whether the mismatched session should also be ended."""
        if self.on_mismatch is None:
            return False
        answer = self.on_mismatch(HTTPConnection(scope))
        if inspect.isawaitable(answer):
            answer = await answer
        return bool(answer)


def _packed_address(host: str) -> bytes | None:
    # socket.inet_pton parses in C: ipaddress took most of a bound request's added CPU.
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            packed = socket.inet_pton(family, host)
        except OSError:
            continue
        if packed[:12] == _V4_MAPPED:
            return packed[12:]
        return packed
    return None


def fingerprint(session_id: str, properties: bytes) -> bytes:
    """What the store keeps: an HMAC of the properties keyed by the session ID.

    Keyed by the ID, which the store never sees, so a table reader cannot test guesses of a
    user's browser or network against it.
    """
    return hmac.digest(session_id.encode("ascii"), _DOMAIN + properties, "sha256")


def matches(stored: bytes | None, session_id: str, properties: bytes) -> bool:
    """True when a record's stored fingerprint was made from these properties for this ID."""
    return stored is not None and hmac.compare_digest(stored, fingerprint(session_id, properties))
