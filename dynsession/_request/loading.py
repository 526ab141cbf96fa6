"""Loading a request's session: the signed cookie, the stored record (followed to the new session
when the ID was renewed), the client binding, the decoded data, and whether renewal is due."""

from __future__ import annotations

import logging
from datetime import timedelta

from starlette.types import Scope

from .. import _options as options
from .. import _serialization as serialization
from .._envelope.binding import ClientBinding, matches
from .._envelope.cookies import CookieSigner, cookie_values, store_key
from ..exceptions import ConfigurationError
from ..stores.base import MovedRecord, SessionRecord, SessionStore, can_move
from .markers import resolve
from .reads import SessionReads
from .session import RequestSession, Timing

logger = logging.getLogger("dynsession")

# A request carrying more session cookies than this (all but one junk) has the rest ignored.
_MAX_COOKIE_CANDIDATES = 10


def renewal_settings(
    store: SessionStore, renew_after: int | timedelta | None, renew_grace: int | timedelta
) -> tuple[int | None, int]:
    """``(renew_after, renew_grace)`` in seconds. Raises ConfigurationError naming the option when
    one is out of range, or ``renew_after`` is set for a store that cannot keep moved IDs."""
    grace = options.seconds("renew_grace", renew_grace, minimum=1)
    after = options.optional_seconds("renew_after", renew_after, minimum=1, none="never")
    if after is None:
        return None, grace
    if after <= grace:
        raise ConfigurationError("renew_after must be longer than renew_grace")
    if not can_move(store):
        raise ConfigurationError(
            f"renew_after needs a store that can keep moved session IDs (a move method); "
            f"{type(store).__name__} has none"
        )
    return after, grace


class Loader:
    """Builds each request's :class:`RequestSession` from its cookie and the store."""

    def __init__(
        self,
        store: SessionStore,
        timing: Timing,
        *,
        reads: SessionReads,
        signer: CookieSigner,
        cookie_name: str,
        codec: serialization.BlobCodec,
        binding: ClientBinding | None,
        renew_after: int | None,
    ) -> None:
        if binding is not None and not isinstance(binding, ClientBinding):
            raise ConfigurationError("client_binding must be a dynsession.ClientBinding or None")
        self.store, self.timing, self.signer, self.cookie_name = store, timing, signer, cookie_name
        self.codec, self.binding, self.renew_after = codec, binding, renew_after
        self.reads = reads

    async def load(self, scope: Scope) -> RequestSession:
        """The session of this request. Raises StoreError when the store cannot be read."""
        candidates = cookie_values(scope["headers"], self.cookie_name, _MAX_COOKIE_CANDIDATES)
        client = None if self.binding is None else self.binding.properties(scope)
        if not candidates:
            return RequestSession(self.timing, client=client)
        # Several cookies of one name (one set for a parent domain, say): the first that verifies.
        unsign = self.signer.unsign
        parsed = (
            unsign(candidates[0])
            if len(candidates) == 1
            else next(filter(None, map(unsign, candidates)), None)
        )
        if parsed is None:
            logger.debug("ignoring a session cookie that is malformed or badly signed")
            return RequestSession(self.timing, client=client)
        session_id, key = parsed.session_id, store_key(parsed.session_id)
        found, eventual = await self.reads.read(key, parsed.version)
        forwarded = False
        if isinstance(found, MovedRecord):
            target = await resolve(self.store, session_id, found)
            if isinstance(target, MovedRecord):
                logger.debug("session %s moved on a login; serving it empty and read-only", key[:8])
                state = RequestSession(self.timing, session_id=session_id, key=key, client=client)
                state.moved = True
                return state
            found, forwarded = None, target is not None
            if target is not None:
                session_id, key, found = target
        if (
            self.binding is not None
            and found is not None
            and not await self._bound(scope, found, session_id, key, client)
        ):
            return RequestSession(self.timing, client=client)
        state = RequestSession(
            self.timing,
            session_id=session_id,
            key=key,
            record=found,
            signed_with_current_key=parsed.signed_with_current_key,
            client=client,
            # A forwarded cookie names the old ID's version: any write sets the new ID's cookie.
            cookie_version=None if forwarded else parsed.version,
        )
        state.forwarded = forwarded
        state.read_eventually = eventual and not forwarded
        self._decode(state, found, key)
        return state

    async def _bound(
        self, scope: Scope, record: SessionRecord, session_id: str, key: str, client: bytes | None
    ) -> bool:
        """False, after logging and asking ``on_mismatch``, when the record is bound elsewhere."""
        if self.binding is None or client is None or matches(record.binding, session_id, client):
            return True
        logger.warning("session %s is bound to another client; serving no session", key[:8])
        if await self.binding.should_end(scope):
            await self.store.delete(key)
        return False

    def _decode(self, state: RequestSession, record: SessionRecord | None, key: str) -> None:
        if record is None:
            logger.debug("session %s is missing or expired", key[:8])
            return
        if state.absolute_deadline is not None and state.absolute_deadline <= self.timing.clock():
            logger.debug("session %s is past its absolute deadline", key[:8])
            state.record = None
            return
        try:
            loaded = self.codec.decode(record.data, key)
            state.data.update(serialization.loads(loaded))
            state.loaded = loaded
        except serialization.BlobDecodeError as exc:
            # Keep the record so the next write replaces the unreadable item in place.
            logger.warning("session %s could not be decoded (%s); starting it empty", key[:8], exc)
            state.unreadable = True
        if self.renew_after is not None and not state.forwarded:
            issued = record.created if record.issued is None else record.issued
            state.renew = self.timing.clock() - issued >= self.renew_after
