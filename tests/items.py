"""Test helpers that look behind the middleware: the stored item, the Set-Cookie header, a FastAPI app."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Protocol

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from dynsession import DynamoDBStore, MemoryStore, MovedRecord, SessionMiddleware, SessionRecord, SessionStore
from dynsession._envelope.cookies import CookieSigner, store_key

from .support import SECRET, CountingStore

EXPIRED = "; expires=Thu, 01 Jan 1970 00:00:00 GMT;"

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Response(Protocol):
    """An httpx or httpx2 response (Starlette's TestClient may return either)."""

    @property
    def headers(self) -> Any: ...


@dataclass(frozen=True)
class StoredItem:
    """A session as it sits in the store, read without going through dynsession's load."""

    key: str
    data: bytes
    ttl: int
    version: int
    created: int
    absolute: int | None


class Inspector:
    """Reads and deletes stored sessions behind dynsession's back: boto3 for DynamoDB, the dict for memory."""

    def __init__(self, store: SessionStore, client: DynamoDBClient | None) -> None:
        self.store = store.inner if isinstance(store, CountingStore) else store
        self.client = client

    @classmethod
    def for_store(cls, store: SessionStore, request: pytest.FixtureRequest) -> Inspector:
        inner = store.inner if isinstance(store, CountingStore) else store
        client = request.getfixturevalue("dynamodb_client") if isinstance(inner, DynamoDBStore) else None
        return cls(inner, client)

    def item(self, session_id: str) -> StoredItem | None:
        """The stored item for a raw session ID, or None; never filtered by expiry."""
        digest = hashlib.sha256(session_id.encode()).hexdigest()
        if isinstance(self.store, MemoryStore):
            record = self.store._records.get(digest)
            if not isinstance(record, SessionRecord):
                return None
            return StoredItem(
                digest, record.data, record.expires, record.version, record.created, record.absolute_deadline
            )
        assert isinstance(self.store, DynamoDBStore) and self.client is not None
        key = self.store.key_prefix + digest
        response = self.client.get_item(
            TableName=self.store.table_name, Key={"id": {"S": key}}, ConsistentRead=True
        )
        raw = response.get("Item")
        if raw is None or "moved" in raw:
            return None
        assert raw["id"]["S"] == key
        absolute = raw.get("abs")
        return StoredItem(
            key=key,
            data=bytes(raw["data"]["B"]),
            ttl=int(raw["ttl"]["N"]),
            version=int(raw["ver"]["N"]),
            created=int(raw["created"]["N"]),
            absolute=None if absolute is None else int(absolute["N"]),
        )

    def moved(self, session_id: str) -> MovedRecord | None:
        """The marker a moved session left under a raw session ID, or None; never filtered by expiry."""
        digest = hashlib.sha256(session_id.encode()).hexdigest()
        if isinstance(self.store, MemoryStore):
            found = self.store._records.get(digest)
            return found if isinstance(found, MovedRecord) else None
        assert isinstance(self.store, DynamoDBStore) and self.client is not None
        key = self.store.key_prefix + digest
        raw = self.client.get_item(
            TableName=self.store.table_name, Key={"id": {"S": key}}, ConsistentRead=True
        ).get("Item")
        if raw is None or "moved" not in raw:
            return None
        assert set(raw) <= {"id", "ttl", "moved", "fwd", "next", "tok"}, raw  # no data, no version
        forward, successor = raw.get("fwd"), raw.get("next")
        return MovedRecord(
            "renewed" if raw["moved"]["S"] == "renewed" else "privilege",
            int(raw["ttl"]["N"]),
            None if forward is None else bytes(forward["B"]),
            None if successor is None else successor["S"],
        )

    def delete(self, session_id: str) -> None:
        """Remove a session's item out of band, as another request or an operator would."""
        digest = hashlib.sha256(session_id.encode()).hexdigest()
        if isinstance(self.store, MemoryStore):
            self.store._records.pop(digest, None)
            return
        assert isinstance(self.store, DynamoDBStore) and self.client is not None
        self.client.delete_item(
            TableName=self.store.table_name, Key={"id": {"S": self.store.key_prefix + digest}}
        )


class RecordingClient:
    """Wraps a boto3 DynamoDB client, noting each call's name, thread and keyword arguments."""

    def __init__(self, inner: DynamoDBClient) -> None:
        self.inner = inner
        self.calls: list[tuple[str, int, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, threading.get_ident(), kwargs))
            return method(**kwargs)

        return call


def set_cookie(response: Response, name: str = "session") -> str | None:
    """The one Set-Cookie header for ``name`` in a response, or None; fails if there are several."""
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) <= 1, found
    return found[0] if found else None


def cookie_value(header: str) -> str:
    """The value of a Set-Cookie header string."""
    parsed: SimpleCookie = SimpleCookie()
    parsed.load(header)
    (morsel,) = parsed.values()
    return morsel.value


def session_id_of(signed: str) -> str:
    """The raw session ID inside a signed cookie value (``<id>.<signature>``, or
    ``<id>.<version>.<signature>`` with eventually consistent reads)."""
    payload, _, signature = signed.rpartition(".")
    assert payload and signature
    return payload.partition(".")[0]


def issued_id(response: Response) -> str:
    """The raw session ID a response's Set-Cookie carries; fails when there is none."""
    header = set_cookie(response)
    assert header is not None, response.headers
    return session_id_of(cookie_value(header))


def is_expiry(header: str | None) -> bool:
    """True for the header that deletes the session cookie (Starlette's form: a 1970 expiry)."""
    return header is not None and EXPIRED in header and cookie_value(header) == "null"


def fastapi_session_app(store: SessionStore, **options: Any) -> FastAPI:
    """The same endpoints as ``support.session_app``, written as a FastAPI app."""
    options.setdefault("secret_key", SECRET)
    app = FastAPI()

    @app.get("/view")
    async def view(request: Request) -> JSONResponse:
        return JSONResponse(dict(request.session))

    @app.post("/update")
    async def update(request: Request) -> JSONResponse:
        request.session.update(await request.json())
        return JSONResponse(dict(request.session))

    @app.post("/append")
    async def append(request: Request, item: str) -> JSONResponse:
        request.session.setdefault("cart", [])
        request.session["cart"].append(item)
        return JSONResponse(dict(request.session))

    @app.post("/clear")
    async def clear(request: Request) -> PlainTextResponse:
        request.session.clear()
        return PlainTextResponse("cleared")

    @app.get("/untouched")
    async def untouched() -> PlainTextResponse:
        return PlainTextResponse("no session here")

    app.add_middleware(SessionMiddleware, store=store, **options)
    return app


def stored_item(client: DynamoDBClient, store: DynamoDBStore, cookie: str) -> dict[str, Any] | None:
    """The raw DynamoDB item behind a signed cookie value, read with boto3 (None when absent)."""
    parsed = CookieSigner(SECRET).unsign(cookie)
    assert parsed is not None
    key = {store.partition_key: {"S": store.key_prefix + store_key(parsed.session_id)}}
    item: dict[str, Any] | None = client.get_item(
        TableName=store.table_name, Key=key, ConsistentRead=True
    ).get("Item")
    return item
