"""Loopback peers for the native transport's wire tests, each a thread of blocking sockets: a relay
that pipes raw bytes to an upstream (terminating TLS, acting as a ``CONNECT`` proxy, closing the
connections it holds when told) and a server that answers with scripted bytes."""

from __future__ import annotations

import socket
import ssl
import threading
import zlib


class _Listener:
    """Accepts connections on ``host`` in a thread of its own; ``serve`` runs once per connection."""

    def __init__(self, host: str) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = socket.socket(family)
        self._server.bind((host, 0))
        self._server.listen(64)
        self.port: int = self._server.getsockname()[1]
        self.connections = 0  # accepted so far
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._held.append(client)
            threading.Thread(target=self._serve_quietly, args=(client,), daemon=True).start()

    def _serve_quietly(self, client: socket.socket) -> None:
        try:
            self.serve(client)
        except OSError:
            pass
        finally:
            client.close()

    def serve(self, client: socket.socket) -> None:
        raise NotImplementedError

    def hold(self, sock: socket.socket) -> None:
        with self._lock:
            self._held.append(sock)

    def close_connections(self) -> None:
        """Close every connection held, as a server closing idle keep-alive connections does."""
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self._server.close()
        self.close_connections()


def read_head(sock: socket.socket | ssl.SSLSocket) -> bytes:
    """Bytes up to and including the first blank line (b"" if the peer closed first)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            return b""
        data += piece
    return data


class Relay(_Listener):
    """Pipes each connection to ``upstream`` (host, port), one upstream connection per client
    connection. ``tls``: terminate TLS with this server context first. ``connect_proxy``: expect
    ``CONNECT host:port`` first and open the tunnel to that target instead (``requests`` records
    each CONNECT's head). ``drop_next``: close a connection that already carried data as soon as
    more arrives, forwarding nothing (a close crossing the request)."""

    def __init__(
        self,
        upstream: tuple[str, int] | None = None,
        *,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
        connect_proxy: bool = False,
    ) -> None:
        self.upstream = upstream
        self.tls = tls
        self.connect_proxy = connect_proxy
        self.requests: list[str] = []
        self.tls_failures = 0
        self.drop_next = False
        super().__init__(host)

    def serve(self, client: socket.socket) -> None:
        stream: socket.socket = client
        if self.tls is not None:
            try:
                stream = self.tls.wrap_socket(client, server_side=True)
            except (ssl.SSLError, OSError):
                self.tls_failures += 1
                return
            self.hold(stream)
        target = self.upstream
        if self.connect_proxy:
            head = read_head(stream).decode("latin-1")
            self.requests.append(head)
            host, _, port = head.split(" ", 2)[1].rpartition(":")
            target = (host.strip("[]"), int(port))
        assert target is not None
        upstream = socket.create_connection(target)
        self.hold(upstream)
        if self.connect_proxy:
            stream.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=_pipe, args=(upstream, stream), daemon=True).start()
        carried = False
        while True:
            data = stream.recv(65536)
            if not data:
                break
            if carried and self.drop_next:
                self.drop_next = False
                break
            carried = True
            upstream.sendall(data)
        upstream.close()
        stream.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class ScriptedServer(_Listener):
    """Answers the ``n``-th request with ``answers[n]`` (the last one again once they run out),
    raw bytes; with ``close=True`` in the pair, closes the connection after writing them."""

    def __init__(self, answers: list[tuple[bytes, bool]]) -> None:
        self.answers = answers
        self.requests = 0
        super().__init__("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"

    def serve(self, client: socket.socket) -> None:
        while True:
            head = read_head(client)
            if not head:
                return
            body_start = head.index(b"\r\n\r\n") + 4
            length = next(
                int(line.split(b":", 1)[1])
                for line in head[:body_start].split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = head[body_start:]
            while len(body) < length:
                body += client.recv(65536)
            answer, close = self.answers[min(self.requests, len(self.answers) - 1)]
            self.requests += 1
            client.sendall(answer)
            if close:
                return


def answer(body: bytes, *, status: str = "200 OK", extra: str = "", crc: int | None = None) -> bytes:
    """A whole DynamoDB-like answer: JSON type, x-amz-crc32 (right unless ``crc`` is given),
    Content-Length, then ``extra`` header lines."""
    checksum = zlib.crc32(body) if crc is None else crc
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.0\r\nx-amz-crc32: {checksum}\r\n"
        f"{extra}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def chunked(body: bytes, size: int) -> bytes:
    """``body`` in chunked transfer coding, ``size`` bytes a chunk (with an extension and a trailer)."""
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    coded = b"".join(b"%x;note=1\r\n%s\r\n" % (len(p), p) for p in pieces)
    return (
        (
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"x-amz-crc32: {zlib.crc32(body)}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + coded
        + b"0\r\nx-trailer: yes\r\n\r\n"
    )
