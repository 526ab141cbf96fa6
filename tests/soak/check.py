"""The soak's verdict, with the faults off: every acknowledged write against the browser's final
session (read through an app) and against the raw table (read directly from the server).

- lost: a write answered 200 whose key is not in the browser's final session with its value;
  ``lost_in_table`` counts those still found in some other item of the table (a session the
  browser lost track of).
- cross-talk: a browser answered with another browser's session, or an item (or a final session)
  holding keys of more than one browser.
- stored-but-unacknowledged: a write with no 200 (a 5xx, 409, or no answer) whose value was kept;
  allowed (the write may have been applied before its answer was lost), counted.
- the 5xx rate: answers with a 5xx status over all answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3

from dynsession import DynamoDBStore, SessionRecord
from dynsession import _serialization as serialization
from dynsession._envelope.cookies import CookieSigner, store_key

from ..support import SECRET
from .browsers import Browser, History

FINAL_READ_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class Verdict:
    acknowledged: int
    lost: int
    lost_in_table: int
    cross_talk: int
    stored_unacknowledged: int
    answers: int
    server_errors: int
    no_answer: int
    final_reads_failed: int
    table_mismatch: int
    notes: tuple[str, ...]
    other_statuses: str = ""  # every status but 200, with its count: "409 2, 503 61"

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.cross_talk or self.final_reads_failed or self.table_mismatch)


async def final_sessions(browsers: Iterable[Browser], history: History) -> dict[str, dict[str, Any] | None]:
    """Each browser's session as its final cookie reads it (None: no cookie, or no 200)."""

    async def one(browser: Browser) -> dict[str, Any] | None:
        if browser.cookie is None:
            return None
        for _ in range(FINAL_READ_ATTEMPTS):
            status, body = await browser.request("GET", "/read", history)
            if status == 200 and isinstance(body, dict):
                return body
            await asyncio.sleep(0.2)
        return None

    found = await asyncio.gather(*(one(browser) for browser in browsers))
    return {browser.name: session for browser, session in zip(browsers, found, strict=True)}


def table_sessions(endpoint: str, table: str) -> dict[str, dict[str, Any]]:
    """Every session item of the table, decoded: store key → session dict."""
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    store = DynamoDBStore(table, endpoint_url=endpoint, region_name="us-east-1", transport="boto3")
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            key = item[store.partition_key]["S"].removeprefix(store.key_prefix)
            record = store._live(key, item)
            if isinstance(record, SessionRecord):
                found[key] = serialization.loads(serialization.unpack(record.data))
    return found


def judge(
    browsers: list[Browser],
    history: History,
    final: dict[str, dict[str, Any] | None],
    table: dict[str, dict[str, Any]],
) -> Verdict:
    notes: list[str] = list(history.cross_talk)
    signer = CookieSigner(SECRET)
    mismatch = 0
    for browser in browsers:
        session = final[browser.name]
        parsed = signer.unsign(browser.cookie) if browser.cookie is not None else None
        stored = table.get(store_key(parsed.session_id)) if parsed is not None else None
        if session is not None and stored != session:
            mismatch += 1
            notes.append(f"{browser.name}: its final session differs from its item in the table")
    for where, data in [*((f"final session of {n}", s) for n, s in final.items() if s), *table.items()]:
        owners = {key.split(":", 1)[0] for key in data if key != "owner"} | {data.get("owner")}
        if len(owners - {None}) > 1:
            notes.append(f"cross-talk: {where[:24]} holds keys of {sorted(map(str, owners))}")
    kept = {(key, value) for data in table.values() for key, value in data.items()}
    lost = lost_in_table = unacked = acked = 0
    for write in history.writes:
        session = final.get(write.browser) or {}
        held = session.get(write.key) == write.value
        if write.status == 200:
            acked += 1
            if not held:
                lost += 1
                lost_in_table += (write.key, write.value) in kept
                if lost <= 5:
                    notes.append(f"lost: {write.key} (status 200)")
        elif held or (write.key, write.value) in kept:
            unacked += 1
    failed_reads = sum(1 for b in browsers if b.cookie is not None and final[b.name] is None)
    answers = sum(n for status, n in history.statuses.items() if status is not None)
    return Verdict(
        acknowledged=acked,
        lost=lost,
        lost_in_table=lost_in_table,
        cross_talk=sum(1 for note in notes if "cross-talk" in note or "was answered with" in note),
        stored_unacknowledged=unacked,
        answers=answers,
        server_errors=sum(
            n for status, n in history.statuses.items() if status is not None and status >= 500
        ),
        no_answer=history.statuses.get(None, 0),
        final_reads_failed=failed_reads,
        table_mismatch=mismatch,
        notes=tuple(notes),
        other_statuses=", ".join(
            f"{status} {n}"
            for status, n in sorted(history.statuses.items(), key=lambda s: s[0] or 0)
            if status != 200 and status is not None
        ),
    )
