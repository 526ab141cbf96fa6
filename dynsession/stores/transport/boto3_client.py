"""The boto3 DynamoDB client a store uses for table administration and, with the boto3 transport,
for its item operations: the one given, or one built on first use with dynsession's defaults."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import boto3
import botocore.config
import botocore.session

from .answer_checks import check_answers

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_MAX_RETRIES = 3  # botocore's max_attempts counts retries: four attempts in all
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 5.0


class Boto3Client:
    """Holds a store's boto3 DynamoDB client: ``client`` when given (``injected`` is then true),
    else one built on first use of :meth:`get` from a fresh boto3 session with ``endpoint_url``,
    ``region_name`` and :attr:`config` (``config`` merged over dynsession's defaults: standard
    retries, 2 s connect and 5 s read timeouts, a pool of ``max_pool_connections``).

    Either client is made to refuse answers that did not arrive whole
    (:func:`~dynsession.stores.transport.answer_checks.check_answers`): they are retried, then
    raised as ``ConnectionClosedError``.

    The native transport resolves its endpoint, region, credentials and retry settings from the
    same client and session, so both transports honour the same options.
    """

    def __init__(
        self,
        client: DynamoDBClient | None = None,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        config: botocore.config.Config | None = None,
        max_pool_connections: int = 16,
    ) -> None:
        self.injected = client is not None
        self.endpoint_url = endpoint_url
        self.region_name = region_name
        defaults = botocore.config.Config(
            retries={"mode": "standard", "max_attempts": DEFAULT_MAX_RETRIES},
            connect_timeout=DEFAULT_CONNECT_TIMEOUT,
            read_timeout=DEFAULT_READ_TIMEOUT,
            max_pool_connections=max_pool_connections,
        )
        self.config = defaults if config is None else defaults.merge(config)
        if client is not None:
            check_answers(client)
        self._client = client
        self._session: botocore.session.Session | None = None
        self._lock = threading.Lock()

    def get(self) -> DynamoDBClient:
        """The client, built on first use. Blocking (it reads AWS config files): call it from a
        worker thread. Raises botocore's exceptions when no client can be built (no region)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    session = botocore.session.get_session()
                    client = boto3.session.Session(botocore_session=session).client(
                        "dynamodb",
                        endpoint_url=self.endpoint_url,
                        region_name=self.region_name,
                        config=self.config,
                    )
                    check_answers(client)
                    self._session = session
                    self._client = client
        return self._client

    @property
    def botocore_session(self) -> botocore.session.Session | None:
        """The botocore session the client was built from (``None`` before :meth:`get`, or when
        the client was given): its credential chain is the one the native transport signs with."""
        return self._session
