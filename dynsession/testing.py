"""Helpers for testing apps that use dynsession: a clock you move by hand and a local DynamoDB.

``local_dynamodb`` needs moto's server, which is not a dependency of dynsession itself: install the
``local`` extra (``pip install 'dynsession[local]'``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["FakeClock", "local_dynamodb"]


class FakeClock:
    """A :data:`~dynsession.Clock` whose integer epoch seconds move only when told to.

    Pass the same instance to the middleware and the store so timeouts happen on cue.
    """

    def __init__(self, now: int = 1_800_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds


@contextmanager
def local_dynamodb(*, port: int = 0) -> Iterator[str]:
    """Run moto's DynamoDB server on 127.0.0.1 for the block; yield its URL.

    ``port`` 0 picks a free port. It accepts any credentials and keeps everything in memory.
    Requests are handled one at a time, so conditional writes are atomic as in DynamoDB. Raises
    ImportError without the ``local`` extra.
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="local-dynamodb", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _OneAtATime:
    """A WSGI app run under a lock. moto checks a write's condition and then stores the item in
    two steps with no lock between them: two concurrent writes could both pass one condition."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))
