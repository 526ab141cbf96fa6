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

    __slots__ = ("_buffer", "_chunked", "_head", "_length", "_start", "no_body", "received")

    def __init__(self, *, no_body: bool = False) -> None:
        self.no_body = no_body
        self.received = False  # whether any byte of the answer arrived
        # What arrived so far when the answer came in pieces: appended in place, so a large answer
        # in many pieces costs one copy, not one per piece; ``_start`` is where the body begins.
        self._buffer = bytearray()
        self._start = 0
        self._head: tuple[int, dict[str, str], bool] | None = None
        self._length = -1
        self._chunked = False

    def feed(self, data: bytes) -> Answer | None:
        self.received = True
        buffer: bytes | bytearray = data
        if self._buffer:
            self._buffer += data
            buffer = self._buffer
        start = self._start
        while self._head is None:
            end = buffer.find(b"\r\n\r\n", start)
            if end < 0:
                if len(buffer) - start > MAX_HEAD:
                    raise MalformedAnswer("the answer's headers are too long")
                self._keep(buffer)
                return None
            head = self._parse_head(bytes(buffer[start:end]))
            start = self._start = end + 4
            if head is not None:
                self._head = head
        status, headers, keep_alive = self._head
        if self._chunked:
            framed = _unchunk(buffer, start)
            if framed is None:
                self._keep(buffer)
                return None
            body, end = framed
        else:
            end = start + self._length
            if len(buffer) < end:
                self._keep(buffer)
                return None
            body = bytes(buffer[start:end])
        if len(buffer) > end:
            raise MalformedAnswer("bytes after the end of the answer")
        return Answer(status, headers, body, keep_alive)

    def _keep(self, buffer: bytes | bytearray) -> None:
        if buffer is not self._buffer:
            self._buffer = bytearray(buffer)

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


def _unchunk(buffer: bytes | bytearray, position: int) -> tuple[bytes, int] | None:
    """The body whose chunks start at ``position`` and where the answer ends, once every chunk and
    the trailer have arrived; else ``None``."""
    pieces: list[bytes] = []
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size_text = bytes(buffer[position:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16) if size_text.isalnum() else -1
        except ValueError:
            size = -1
        if size < 0:
            raise MalformedAnswer(f"not a chunk size: {size_text[:20]!r}")
        start = line_end + 2
        if size == 0:
            if buffer.startswith(b"\r\n", start):
                return b"".join(pieces), start + 2
            trailer_end = buffer.find(b"\r\n\r\n", start)
            if trailer_end < 0:
                return None
            return b"".join(pieces), trailer_end + 4
        end = start + size
        if len(buffer) < end + 2:
            return None
        if buffer[end : end + 2] != b"\r\n":
            raise MalformedAnswer("a chunk longer than its size")
        pieces.append(bytes(buffer[start:end]))
        position = end + 2
