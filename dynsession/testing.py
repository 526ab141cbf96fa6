"""Helpers for testing apps that use dynsession: a clock you move by hand and a local DynamoDB.

``local_dynamodb`` needs moto's server, which is not a dependency of dynsession itself: install the
``local`` extra (``pip install 'dynsession[local]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

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
    Raises ImportError without the ``local`` extra.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, bound = server.get_host_and_port()
        yield f"http://{host}:{bound}"
    finally:
        server.stop()
