"""How DynamoDB item operations reach DynamoDB: one small contract, one implementation per HTTP stack.

:func:`make_transport` is the one place that turns a store's ``transport=`` option into a
:class:`Transport`; every store that talks to DynamoDB builds its transport there.
"""

from __future__ import annotations

from typing import Literal

from ...exceptions import ConfigurationError
from .base import Transport
from .boto3_client import Boto3Client
from .boto3_thread import Boto3Transport

__all__ = [
    "DEFAULT_TRANSPORT",
    "Boto3Client",
    "Boto3Transport",
    "Transport",
    "TransportChoice",
    "make_transport",
]

TransportChoice = Literal["auto", "boto3", "native"] | Transport
"""A store's ``transport=`` option: a name, or a :class:`Transport` to use as it is."""

DEFAULT_TRANSPORT: TransportChoice = "auto"

_NAMES = ("auto", "boto3", "native")


def make_transport(transport: TransportChoice, client: Boto3Client, *, max_concurrency: int) -> Transport:
    """Build the transport a store asked for.

    ``"boto3"``: boto3 calls in worker threads (:class:`Boto3Transport`). ``"native"``: dynsession's
    own HTTP/1.1 client on asyncio (:class:`~dynsession.stores.transport.native.NativeTransport`),
    with the same endpoint, region, credentials, retries, timeouts, proxies and TLS trust as
    ``client`` would use. ``"auto"``: the native transport unless ``client`` was given (a DAX or
    hand-built client always means boto3); under an event loop other than asyncio's (trio) it
    falls back to boto3. A :class:`Transport` instance is used as it is. At most
    ``max_concurrency`` calls are in flight at once.

    Raises ConfigurationError, naming ``transport``, for an unknown name and for ``"native"``
    together with a given client.
    """
    if not isinstance(transport, str):
        if not callable(getattr(transport, "call", None)) or not callable(getattr(transport, "aclose", None)):
            raise ConfigurationError(f"transport must be one of {_NAMES} or a Transport, not {transport!r}")
        return transport
    if transport not in _NAMES:
        raise ConfigurationError(f"transport must be one of {_NAMES} or a Transport, not {transport!r}")
    threaded = Boto3Transport(client.get, max_concurrency=max_concurrency)
    if transport == "boto3" or (transport == "auto" and client.injected):
        return threaded
    if client.injected:
        raise ConfigurationError(
            "transport='native' cannot send through a client given as client= (such as DAX): "
            "pass transport='boto3' or leave client unset"
        )
    from .native import NativeTransport

    return NativeTransport(
        client, max_concurrency=max_concurrency, fallback=threaded if transport == "auto" else None
    )
