"""The soak's verdict (tests/soak/check.py) counts what it says it counts: a lost acknowledged write,
cross-talk, a write kept without its 200, and a final session that is not its item in the table."""

from __future__ import annotations

from typing import Any, cast

import aiohttp

from dynsession._envelope.cookies import CookieSigner, new_session_id, store_key

from .soak.browsers import Browser, History, Write
from .soak.check import judge
from .support import SECRET


def browser(name: str) -> tuple[Browser, str]:
    session_id = new_session_id()
    b = Browser(name, 1, [1], cast(aiohttp.ClientSession, None))
    b.cookie = CookieSigner(SECRET).sign(session_id)
    return b, store_key(session_id)


def test_a_clean_run_passes() -> None:
    b, key = browser("b00")
    history = History(writes=[Write("b00", "b00:0:1", "v1", 200), Write("b00", "b00:0:2", "v2", 503)])
    session: dict[str, Any] = {"owner": "b00", "b00:0:1": "v1"}
    verdict = judge([b], history, {"b00": session}, {key: dict(session)})
    assert (verdict.acknowledged, verdict.lost, verdict.cross_talk) == (1, 0, 0)
    assert verdict.stored_unacknowledged == 0
    assert not verdict.failed


def test_a_lost_write_cross_talk_and_an_unacknowledged_one_kept_are_counted() -> None:
    b, key = browser("b00")
    other, other_key = browser("b01")
    history = History(
        writes=[
            Write("b00", "b00:0:1", "v1", 200),  # lost: the browser's session has no such key
            Write("b00", "b00:1:1", "v2", None),  # no answer, but kept
            Write("b01", "b01:0:1", "v3", 200),
        ]
    )
    mine: dict[str, Any] = {"owner": "b00", "b00:1:1": "v2"}
    theirs: dict[str, Any] = {"owner": "b01", "b01:0:1": "v3", "b00:0:1": "v1"}  # b00's write, in b01's
    table = {key: dict(mine), other_key: dict(theirs)}
    verdict = judge([b, other], history, {"b00": mine, "b01": theirs}, table)
    assert verdict.acknowledged == 2
    assert (verdict.lost, verdict.lost_in_table) == (1, 1)
    assert verdict.stored_unacknowledged == 1
    assert verdict.cross_talk == 2  # b01's final session and its item both hold b00's key
    assert verdict.failed


def test_a_final_session_that_differs_from_the_table_fails() -> None:
    b, key = browser("b00")
    history = History(writes=[Write("b00", "b00:0:1", "v1", 200)])
    verdict = judge([b], history, {"b00": {"owner": "b00", "b00:0:1": "v1"}}, {key: {"owner": "b00"}})
    assert verdict.lost == 0 and verdict.table_mismatch == 1 and verdict.failed
