"""Fault injection for any transport: a loopback HTTP proxy in front of the DynamoDB endpoint.

Stores under test send their requests to :class:`FaultProxy`'s URL. The proxy passes every request
through to the real endpoint (moto's server, dynalite) unless a :class:`Fault` registered for its
operation (the ``X-Amz-Target`` header) answers instead: an error answer, a delay, a dropped or
reset connection, silence, a lost or cut reply. ``schedule``, when set, is asked for a fault for
each request no registered fault answers (the soak's seeded schedule, tests/soak/faults.py).
The store's own retry loop, error parsing and dynsession's translation all run. It counts the
requests of each operation and remembers them (operation and JSON body) and which access key
signed each.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

CUTS = ("cut_headers", "cut_crc32", "cut_body")
"""The ways :class:`Fault` cuts a reply short (``action=``)."""

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


class Fault:
    """Answers one DynamoDB operation for ``times`` requests (all of them when ``times`` is None)
    after letting its first ``after`` through, then lets requests through. ``sent`` counts every
    request of the operation.

    ``status``/``code``: an error answer (``status=200`` answers an empty success instead).
    ``action``: ``"answer"`` (the default), ``"delay"`` (wait ``seconds``, then pass the request
    through), ``"drop"`` (close the connection without answering), ``"silence"`` (hold the
    connection open, unanswered, for ``seconds``), ``"bad_checksum"`` (pass the request through
    and answer with a wrong ``x-amz-crc32``), ``"lost_reply"`` (pass the request through, so
    the server applies it, then close the connection without passing the answer on), ``"reset"``
    (reset the connection without passing the request on), or one of
    :data:`CUTS`: pass the request through, then send the answer only up to a point and close the
    connection — ``"cut_headers"`` after its first headers (before ``x-amz-crc32`` and
    ``Content-Length``), ``"cut_crc32"`` inside the ``x-amz-crc32:`` header line (before its
    value), ``"cut_body"`` inside the body (every header sent, half the body).
    """

    def __init__(
        self,
        code: str = "",
        *,
        status: int = 400,
        times: int | None = None,
        action: str = "answer",
        seconds: float = 0.0,
        after: int = 0,
    ) -> None:
        self.code, self.status, self.times, self.action, self.seconds = code, status, times, action, seconds
        self.after = after
        self.sent = 0

    def applies(self) -> bool:
        self.sent += 1
        faulted = self.sent - self.after
        return faulted > 0 and (self.times is None or faulted <= self.times)


class FaultProxy:
    """The proxy (see the module docstring); ``url`` is its address on 127.0.0.1."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults: dict[str, Fault] = {}
        self.schedule: Callable[[str], Fault | None] | None = None
        self.recording = True  # keep each request's operation and body in ``requests``
        self.sends: Counter[str] = Counter()
        self.access_keys: list[str] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.most_in_flight = 0  # the most requests the proxy held at once since the last reset
        # Requests still held from before a reset (a delayed answer its client gave up on) are
        # counted apart, so they do not add to the next test's figure.
        self._round = 0
        self._in_flight: Counter[int] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def inject(self, operation: str, fault: Fault) -> Fault:
        """Register ``fault`` for ``operation`` (``PutItem``, ``GetItem``, …), replacing any other."""
        with self._lock:
            self.faults[operation] = fault
        return fault

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.sends.clear()
            self.access_keys.clear()
            self.requests.clear()
            self.most_in_flight = 0
            self._round += 1

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _enter(self) -> int:
        """Count a request in; return the round to count it out of."""
        with self._lock:
            self._in_flight[self._round] += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight[self._round])
            return self._round

    def _leave(self, counted_in: int) -> None:
        with self._lock:
            self._in_flight[counted_in] -= 1

    def _note(self, operation: str, authorization: str, body: bytes) -> Fault | None:
        with self._lock:
            self.sends[operation] += 1
            if self.recording:
                self.requests.append((operation, json.loads(body or b"{}")))
            credential = authorization.partition("Credential=")[2]
            if credential:
                self.access_keys.append(credential.split("/", 1)[0])
            fault = self.faults.get(operation)
        if fault is None and self.schedule is not None:
            return self.schedule(operation)
        return fault if fault is not None and fault.applies() else None


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on an answer (its read timeout) closes the connection before the
        # proxy writes to it, or a fault closed it already: expected here, so not printed.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FaultProxy
    _held: int | None = None  # the round this request counts in while it is in flight

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self._forward(b"")

    def do_POST(self) -> None:
        self._held = self.owner._enter()
        try:
            self._post()
        finally:
            self._release()

    def _release(self) -> None:
        # Before the answer goes out: once the client has it, it may send its next request at once,
        # and that one must not find this one still counted.
        if self._held is not None:
            self.owner._leave(self._held)
            self._held = None

    def _post(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if len(body) < length:
            # The client went away mid-request (an app killed): passing on a short body would
            # leave the server waiting for the rest, and then aborting the request (which dynalite
            # does not survive).
            self.close_connection = True
            return
        operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        fault = self.owner._note(operation, self.headers.get("Authorization", ""), body)
        if fault is None:
            self._forward(body)
        elif fault.action == "bad_checksum":
            self._forward(body, checksum="1")
        elif fault.action in CUTS:
            self._forward(body, cut=fault.action)
        elif fault.action == "delay":
            time.sleep(fault.seconds)
            self._forward(body)
        elif fault.action in ("drop", "lost_reply"):
            if fault.action == "lost_reply":
                self._forward(body, deliver=False)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault.action == "reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif fault.action == "silence":
            time.sleep(fault.seconds)
            self.close_connection = True
        else:
            answer = (
                {} if fault.status == 200 else {"__type": f"com.amazonaws.dynamodb.v20120810#{fault.code}"}
            )
            self._answer(
                fault.status, [("Content-Type", "application/x-amz-json-1.0")], json.dumps(answer).encode()
            )

    def _forward(
        self, body: bytes, checksum: str | None = None, *, deliver: bool = True, cut: str | None = None
    ) -> None:
        connection = http.client.HTTPConnection(*self.owner.upstream, timeout=30)
        try:
            headers = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = [(n, v) for n, v in response.getheaders() if n.lower() not in _HOP_BY_HOP]
        finally:
            connection.close()
        if not deliver:
            return
        if checksum is not None:
            kept = [(n, v) for n, v in kept if n.lower() != "x-amz-crc32"] + [("x-amz-crc32", checksum)]
        if cut is not None:
            self._cut(response.status, kept, payload, cut)
        else:
            self._answer(response.status, kept, payload)

    def _cut(self, status: int, headers: list[tuple[str, str]], payload: bytes, cut: str) -> None:
        """Send the answer up to the point ``cut`` names, then close the connection."""
        self._release()
        first = [(n, v) for n, v in headers if n.lower() != "x-amz-crc32"]
        head = f"HTTP/1.1 {status} OK\r\n" + "".join(f"{n}: {v}\r\n" for n, v in first)
        if cut == "cut_headers":
            sent = head.encode()
        elif cut == "cut_crc32":
            sent = (head + "x-amz-crc32:").encode()
        else:
            crc32 = dict((n.lower(), v) for n, v in headers).get("x-amz-crc32", str(zlib.crc32(payload)))
            head += f"x-amz-crc32: {crc32}\r\nContent-Length: {len(payload)}\r\n\r\n"
            sent = head.encode() + payload[: len(payload) // 2]
        self.close_connection = True
        self.wfile.write(sent)
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            self.send_header(name, value)
        if "x-amzn-requestid" not in names:
            self.send_header("x-amzn-RequestId", "injected")
        if "x-amz-crc32" not in names:
            self.send_header("x-amz-crc32", str(zlib.crc32(payload)))
        self.send_header("Content-Length", str(len(payload)))
        self._release()
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
