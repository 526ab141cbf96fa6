"""The native transport's answer parser on its own: answers arriving in any pieces, framing rules."""

from __future__ import annotations

import os
import random

import pytest

from dynsession.stores.transport.http11 import Answer, AnswerParser, MalformedAnswer

from .peers import answer, chunked

BODY = b'{"Item":{"id":{"S":"k"},"data":{"B":"' + b"QUJD" * 300 + b'"}}}'


def feed_in_pieces(parser: AnswerParser, data: bytes, rng: random.Random) -> Answer:
    position = 0
    while True:
        step = rng.choice([1, 2, 3, 7, 64, 1000, len(data)])
        piece, position = data[position : position + step], position + step
        result = parser.feed(piece)
        if result is not None:
            assert position >= len(data)  # complete exactly when its last byte arrived
            return result
        assert position < len(data), "the whole answer arrived and the parser still waits"


@pytest.mark.parametrize(
    "raw",
    [
        answer(BODY),
        chunked(BODY, 1),
        chunked(BODY, 100),
        b"HTTP/1.1 100 Continue\r\n\r\n" + answer(BODY, extra="Connection: keep-alive\r\n"),
    ],
    ids=["content-length", "chunks-of-1", "chunks-of-100", "after-100-continue"],
)
def test_an_answer_in_any_pieces_is_the_same_answer(raw: bytes) -> None:
    seed = int(os.environ.get("DYNSESSION_SEED", random.randrange(2**32)))
    print(f"seed {seed} (DYNSESSION_SEED={seed} replays it)")
    rng = random.Random(seed)
    for _ in range(30):
        parsed = feed_in_pieces(AnswerParser(), raw, rng)
        assert (parsed.status, parsed.body, parsed.keep_alive) == (200, BODY, True)
        assert parsed.headers["content-type"] == "application/x-amz-json-1.0"


@pytest.mark.parametrize(
    ("raw", "keep_alive"),
    [
        (answer(b"{}"), True),
        (answer(b"{}", extra="Connection: close\r\n"), False),
        (answer(b"{}").replace(b"HTTP/1.1", b"HTTP/1.0"), False),
        (answer(b"{}", extra="Connection: Keep-Alive\r\n").replace(b"HTTP/1.1", b"HTTP/1.0"), True),
        # Both framings: chunked wins, and the connection is not trusted with another request.
        (chunked(b"{}", 1).replace(b"\r\n\r\n", b"\r\nContent-Length: 99\r\n\r\n", 1), False),
    ],
)
def test_whether_the_connection_may_carry_another_request(raw: bytes, keep_alive: bool) -> None:
    parsed = AnswerParser().feed(raw)
    assert parsed is not None and parsed.body == b"{}" and parsed.keep_alive is keep_alive


def test_no_content_answers_have_no_body() -> None:
    parsed = AnswerParser().feed(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert parsed is not None and (parsed.status, parsed.body) == (204, b"")
    tunnel = AnswerParser(no_body=True).feed(b"HTTP/1.1 200 Connection established\r\n\r\n")
    assert tunnel is not None and tunnel.status == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded: header\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx-amz-crc32: 1\r\n\r\n{}",
        answer(b"{}") + b"extra",
        b"HTTP/1.1 200 OK\r\n" + b"x-long: " + b"a" * 70_000,
    ],
)
def test_what_cannot_be_framed_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedAnswer):
        AnswerParser().feed(raw)


def test_the_end_of_the_connection_says_where_the_answer_was_cut() -> None:
    parser = AnswerParser()
    assert "before any answer" in str(parser.eof()) and not parser.received
    assert parser.feed(b"HTTP/1.1 200 OK\r\nx-amz-") is None
    assert "headers" in str(parser.eof()) and parser.received
    assert parser.feed(b"crc32: 1\r\nContent-Length: 5\r\n\r\n{}") is None
    assert "body" in str(parser.eof())
