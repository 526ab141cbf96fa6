"""HTTP/1.1 answers read by hand: the status line, the headers, and a body framed by ``Content-Length``
or chunked transfer coding, fed in pieces as they arrive from the socket.

Only what a client of DynamoDB needs, under h11's rules for a client: interim ``1xx`` answers are
skipped; ``Transfer-Encoding: chunked`` wins over ``Content-Length`` (and the connection is then not
reused); an answer framed neither way (one that would end only when the connection closes) is
refused, since a cut answer could not be told from a whole one. Header names are lowercased; a
repeated header keeps its last value, except ``Content-Length``, whose copies must agree.
"""

from __future__ import annotations

MAX_HEAD = 64 * 1024  # bytes of status line and headers, generous for DynamoDB and proxies


class MalformedAnswer(Exception):
    """The bytes received are not an HTTP/1.1 answer this client can frame."""


class Answer:
    """One complete answer: ``status``, ``headers`` (lowercase names), ``body``, and whether the
    connection may carry another request (``keep_alive``)."""

    __slots__ = ("body", "headers", "keep_alive", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, keep_alive: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


class AnswerParser:
    """Collects one answer. :meth:`feed` returns it once complete (``None`` until then);
    ``no_body`` is for the answer to ``CONNECT``, whose success has no body.

    :meth:`feed` raises MalformedAnswer for bytes that are not such an answer, or for bytes beyond
    its end (a client sends one request at a time, so nothing may follow); :meth:`eof` gives the
    error for a connection that ended before the answer did.
    """

    __slots__ = ("_buffer", "_head", "_length", "_chunked", "no_body", "received")

    def __init__(self, *, no_body: bool = False) -> None:
        self.no_body = no_body
        self.received = False  # whether any byte of the answer arrived
        self._buffer = b""
        self._head: tuple[int, dict[str, str], bool] | None = None
        self._length = -1
        self._chunked = False

    def feed(self, data: bytes) -> Answer | None:
        self.received = True
        buffer = self._buffer + data if self._buffer else data
        while self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise MalformedAnswer("the answer's headers are too long")
                self._buffer = buffer
                return None
            head = self._parse_head(buffer[:end])
            buffer = buffer[end + 4 :]
            if head is not None:
                self._head = head
        status, headers, keep_alive = self._head
        if self._chunked:
            framed = _unchunk(buffer)
            if framed is None:
                self._buffer = buffer
                return None
            body, rest = framed
        else:
            length = self._length
            if len(buffer) < length:
                self._buffer = buffer
                return None
            body, rest = (buffer, b"") if len(buffer) == length else (buffer[:length], buffer[length:])
        if rest:
            raise MalformedAnswer("bytes after the end of the answer")
        self._buffer = b""
        return Answer(status, headers, body, keep_alive)

    def eof(self) -> MalformedAnswer:
        """The error for a connection that ended now: before any byte, or inside the answer."""
        if not self.received:
            return MalformedAnswer("the connection closed before any answer")
        where = "headers" if self._head is None else "body"
        return MalformedAnswer(f"the connection closed inside the answer's {where}")

    def _parse_head(self, raw: bytes) -> tuple[int, dict[str, str], bool] | None:
        """The status, headers and keep-alive of one head; ``None`` for an interim (1xx) answer."""
        lines = raw.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if version not in ("HTTP/1.1", "HTTP/1.0") or not (code.isdigit() and code.isascii()):
            raise MalformedAnswer(f"not an HTTP/1.1 status line: {lines[0][:40]!r}")
        status = int(code)
        headers: dict[str, str] = {}
        length: str | None = None
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name[-1] in " \t" or name[0] in " \t":
                raise MalformedAnswer(f"not a header line: {line[:40]!r}")
            name = name.lower()
            value = value.strip(" \t")
            if name == "content-length":
                if length is not None and value != length:
                    raise MalformedAnswer("conflicting Content-Length headers")
                length = value
            headers[name] = value
        if 100 <= status < 200:
            return None
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        coding = headers.get("transfer-encoding")
        if self.no_body or status in (204, 304):  # CONNECT: a tunnel or a refusal, either way no body
            self._length = 0
        elif coding is not None:
            if coding.rsplit(",", 1)[-1].strip().lower() != "chunked":
                raise MalformedAnswer(f"unsupported Transfer-Encoding {coding!r}")
            self._chunked = True
            keep_alive = keep_alive and length is None
        elif length is not None and length.isdigit() and length.isascii():
            self._length = int(length)
        else:
            raise MalformedAnswer("an answer without a valid Content-Length or chunked framing")
        return status, headers, keep_alive


def _unchunk(buffer: bytes) -> tuple[bytes, bytes] | None:
    """The body and what follows it, once every chunk and the trailer have arrived; else ``None``."""
    pieces: list[bytes] = []
    position = 0
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size_text = buffer[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16) if size_text.isalnum() else -1
        except ValueError:
            size = -1
        if size < 0:
            raise MalformedAnswer(f"not a chunk size: {size_text[:20]!r}")
        start = line_end + 2
        if size == 0:
            if buffer.startswith(b"\r\n", start):
                return b"".join(pieces), buffer[start + 2 :]
            trailer_end = buffer.find(b"\r\n\r\n", start)
            if trailer_end < 0:
                return None
            return b"".join(pieces), buffer[trailer_end + 4 :]
        end = start + size
        if len(buffer) < end + 2:
            return None
        if buffer[end : end + 2] != b"\r\n":
            raise MalformedAnswer("a chunk longer than its size")
        pieces.append(buffer[start:end])
        position = end + 2
