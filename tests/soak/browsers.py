"""The soak's browsers: each with its own cookie jar (one session cookie) and concurrent tabs, each
request sent to one of the apps at random, as a load balancer would. Every write uses a key of its
own (``browser:tab:n``) and a value of its own, so the final session says exactly which writes it kept.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import aiohttp

from .app import BROWSER_HEADER

COOKIE = "session"
WRITE_SHARE = 0.65
REQUEST_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class Write:
    browser: str
    key: str
    value: str
    status: int | None  # None: no answer (app killed, connection refused or reset, timeout)


@dataclass
class History:
    """What the browsers sent and what they were told."""

    writes: list[Write] = field(default_factory=list)
    statuses: dict[int | None, int] = field(default_factory=dict)
    cross_talk: list[str] = field(default_factory=list)
    refused: int = 0  # connections refused (an app down), each request then sent to another

    def answered(self, status: int | None) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


class Browser:
    def __init__(self, name: str, seed: int, ports: list[int], http: aiohttp.ClientSession) -> None:
        self.name = name
        self.rng = random.Random(f"{seed}-{name}")
        self.ports = ports
        self.http = http
        self.cookie: str | None = None
        self.writes = 0

    async def request(self, method: str, path: str, history: History) -> tuple[int | None, object]:
        headers = {BROWSER_HEADER: self.name}
        if self.cookie is not None:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        status: int | None = None
        body: object = None
        # As a load balancer would, a request no app accepted (one was just killed) goes to another.
        for port in self.rng.sample(self.ports, len(self.ports)):
            url = f"http://127.0.0.1:{port}{path}"
            try:
                async with self.http.request(method, url, headers=headers) as answer:
                    body = await answer.json() if answer.status == 200 else None
                    for header in answer.headers.getall("Set-Cookie", []):
                        self._set_cookie(header)
                    status = answer.status
            except aiohttp.ClientConnectorError:
                history.refused += 1
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                pass
            break
        history.answered(status)
        if isinstance(body, dict) and body.get("owner") not in (None, self.name):
            history.cross_talk.append(f"{self.name} was answered with {body.get('owner')}'s session")
        return status, body

    def _set_cookie(self, header: str) -> None:
        name, _, rest = header.partition("=")
        if name.strip() != COOKIE:
            return
        value = rest.split(";", 1)[0]
        attributes = rest.lower()
        self.cookie = None if not value or "max-age=0" in attributes else value

    async def write(self, tab: int, history: History) -> int | None:
        self.writes += 1
        key = f"{self.name}:{tab}:{self.writes}"
        value = f"{self.rng.getrandbits(32):08x}"
        status, _ = await self.request("POST", f"/write?key={key}&value={value}", history)
        history.writes.append(Write(self.name, key, value, status))
        return status

    async def tab(self, tab: int, until: float, history: History) -> None:
        while time.monotonic() < until:
            if self.rng.random() < WRITE_SHARE:
                await self.write(tab, history)
            else:
                await self.request("GET", "/read", history)
            await asyncio.sleep(self.rng.uniform(0.0, 0.05))

    async def browse(self, tabs: int, until: float, history: History) -> None:
        # The first write alone, so that the tabs share one session from the start (two tabs of a
        # browser without a cookie would each start one, and the browser keeps only the last).
        while self.cookie is None and time.monotonic() < until:
            await self.write(0, history)
        await asyncio.gather(*(self.tab(tab, until, history) for tab in range(tabs)))


def client() -> aiohttp.ClientSession:
    """One HTTP client for every browser; cookies are each browser's own (``Browser.cookie``)."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(limit=200, force_close=False),
    )
