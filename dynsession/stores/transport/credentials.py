"""Credentials for the native transport, from botocore's own chain, refreshed off the event loop.

botocore resolves them (environment, shared config and SSO, assume-role profiles, web identity,
container credentials, IMDSv2, ``credential_process``, ...) and knows when temporary ones need
refreshing, but its refresh blocks the calling thread (it may call STS or a metadata endpoint).
Here every refresh runs in a worker thread: in botocore's advisory window (15 minutes before
expiry) requests keep signing with the current credentials while one refresh runs in the
background; in the mandatory window (10 minutes) they wait for it, without blocking the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

import botocore.exceptions

from .signer import Credentials

CHECK_INTERVAL = 1.0  # seconds between looks at the expiry of refreshable credentials
DEFAULT_MANDATORY_REFRESH = 10 * 60


class CredentialSource:
    """Frozen credentials for each request. ``resolve`` is called once, in a worker thread, and
    returns botocore credentials (static, or ``RefreshableCredentials``) or ``None``.

    Thread-safe and independent of event loops: each awaiting loop waits on the same refresh.
    """

    def __init__(
        self, resolve: Callable[[], Any], *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._resolve = resolve
        self._monotonic = monotonic
        self._botocore: Any = None
        self._frozen: Credentials | None = None
        self._check_after = float("-inf")
        self._refreshing: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()
        self.refreshes = 0  # completed fetches of frozen credentials (the first one included)

    async def get(self) -> Credentials:
        """The credentials to sign a request with now.

        Raises botocore's NoCredentialsError when the chain finds none, and whatever botocore
        raises when a mandatory refresh fails.
        """
        frozen = self._frozen
        if frozen is not None and self._monotonic() < self._check_after:
            return frozen
        return await self._slow_path()

    async def _slow_path(self) -> Credentials:
        frozen = self._frozen
        if frozen is None or self._needs_refresh(self._mandatory_seconds()):
            await asyncio.wrap_future(self._start_refresh())
        elif self._needs_refresh(None):
            self._start_refresh()  # advisory: sign with what we have meanwhile
        self._check_after = self._monotonic() + CHECK_INTERVAL
        frozen = self._frozen
        if frozen is None:  # pragma: no cover - _fetch either sets it or raises
            raise botocore.exceptions.NoCredentialsError()
        return frozen

    def _needs_refresh(self, within: float | None) -> bool:
        refresh_needed = getattr(self._botocore, "refresh_needed", None)
        return bool(refresh_needed(within)) if refresh_needed is not None else False

    def _mandatory_seconds(self) -> float:
        return float(getattr(self._botocore, "_mandatory_refresh_timeout", DEFAULT_MANDATORY_REFRESH))

    def _start_refresh(self) -> concurrent.futures.Future[None]:
        """One refresh at a time, in its own worker thread; every caller gets the same future."""
        with self._lock:
            running = self._refreshing
            if running is not None and not running.done():
                return running
            future: concurrent.futures.Future[None] = concurrent.futures.Future()
            self._refreshing = future
        threading.Thread(
            target=self._fetch, args=(future,), name="dynsession-credentials", daemon=True
        ).start()
        return future

    def _fetch(self, future: concurrent.futures.Future[None]) -> None:
        try:
            if self._botocore is None:
                self._botocore = self._resolve()
            if self._botocore is None:
                raise botocore.exceptions.NoCredentialsError()
            frozen = self._botocore.get_frozen_credentials()
            self._frozen = Credentials(frozen.access_key, frozen.secret_key, frozen.token)
            self.refreshes += 1
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(None)
