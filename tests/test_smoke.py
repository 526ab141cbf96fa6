from __future__ import annotations

from starlette.testclient import TestClient

from .support import CountingStore, FakeClock, session_app


def test_roundtrip(counting: CountingStore, clock: FakeClock) -> None:
    app = session_app(counting, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        r = client.get("/view")
        assert r.json() == {} and "set-cookie" not in r.headers
        r = client.post("/update", json={"a": 1})
        assert "set-cookie" in r.headers, r.headers
        print(r.headers)
        r = client.get("/view")
        assert r.json() == {"a": 1}
        r = client.post("/append?item=x")
        r = client.post("/append?item=y")
        assert client.get("/view").json() == {"a": 1, "cart": ["x", "y"]}
        r = client.post("/clear")
        print(r.headers)
        assert client.get("/view").json() == {}
    print(counting.calls)
