"""A warning, once per middleware, when a ``Secure`` session cookie goes out on a plain-http
request to a host other than loopback.

Browsers and HTTP clients (Starlette's ``TestClient`` on ``http://testserver`` included) drop such
a cookie, so every request starts a new session and nothing says why. Browsers accept ``Secure``
cookies from ``http://localhost`` and ``http://127.0.0.1``, so those stay quiet.
"""

from __future__ import annotations

import logging

from starlette.types import Message, Scope

logger = logging.getLogger("dynsession")

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

MESSAGE = (
    "the Secure session cookie was set on a plain-http request to %r, where browsers and test clients "
    "drop it: every request will start a new session. For plain-http development pass "
    'https_only=False; with Starlette\'s TestClient pass base_url="https://testserver". Behind a proxy '
    "that terminates TLS, let the server trust its X-Forwarded-Proto. (Logged once.)"
)


class PlainHttpWarning:
    """Logs :data:`MESSAGE` the first time :meth:`check` sees the cookie set over plain http."""

    def __init__(self, cookie_name: str, *, secure: bool) -> None:
        self._prefix = f"{cookie_name}=".encode("latin-1")
        self._pending = secure

    def check(self, scope: Scope, message: Message) -> None:
        """Look at an ``http.response.start`` message about to leave for ``scope``'s request."""
        if not self._pending or scope.get("scheme") != "http":
            return
        headers = message.get("headers", ())
        if not any(
            name.lower() == b"set-cookie" and value.startswith(self._prefix) for name, value in headers
        ):
            return
        host = request_host(scope)
        if host in LOOPBACK_HOSTS or host.endswith(".localhost"):
            return
        self._pending = False
        logger.warning(MESSAGE, host)


def request_host(scope: Scope) -> str:
    """The host the client asked for (the Host header without its port), lower case."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = bytes(value).decode("latin-1").strip().lower()
            if host.startswith("["):
                return host[1 : host.find("]")] if "]" in host else host[1:]
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    server = scope.get("server")
    return str(server[0]).lower() if server else ""
