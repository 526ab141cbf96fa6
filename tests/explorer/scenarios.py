"""The scenarios the explorer runs, by group. Actors: W and V write a key, P pops one, R only
reads (a TTL refresh or a renewal when due), L logs out, G logs in with a user ID, A revokes from
another device of the same user, X is an admin job (revoke_user_sessions), T moves the clock.

Over MemoryStore every schedule of every scenario is run. Over the DynamoDB wire a schedule costs
about ten times more, so the scenarios with more than a few dozen schedules draw ``wire_samples``
seeded random ones there (the exhaustive counts are in the comments).
"""

from __future__ import annotations

from typing import Any

from .scenario import RENEW_AFTER, RENEW_GRACE, RENEWAL_DUE, Browser, Request, Scenario

B = Browser("b")
BOUND = Browser("b", bound=True)
OTHER = Browser("a", bound=True)
DUE: dict[str, Any] = {"advance": RENEWAL_DUE, "options": {"renew_after": RENEW_AFTER}}
EVENTUAL = {"eventually_consistent": True}


def write(actor: str, browser: str = "b") -> Request:
    return Request(actor, browser, "write", key=actor.lower())


def read(actor: str = "R", browser: str = "b") -> Request:
    return Request(actor, browser, "read")


POP = Request("P", "b", "pop", key="p")
LOGOUT = Request("L", "b", "logout")
LOGIN = Request("G", "b", "login")
REVOKE_B = Request("A", "a", "revoke", target="b")
REVOKE_OTHERS = Request("A", "a", "revoke_others")

WRITES = [
    Scenario("two-writes-and-a-refresh", (B,), (write("W"), write("V"), read()), wire_samples=16),  # 96
    Scenario("pop-write-refresh", (Browser("b", ("seed", "p")),), (POP, write("W"), read()), wire_samples=16),
    Scenario("pop-last-key-bound", (Browser("b", ("p",), bound=True),), (POP, read())),  # 6
    Scenario("login-write-refresh", (B,), (LOGIN, write("W"), read()), wire_samples=16),  # 231
]

LOGOUTS = [
    Scenario("logout-write", (B,), (LOGOUT, write("W"))),
    Scenario("logout-login", (B,), (LOGOUT, LOGIN)),  # 10
    Scenario("logout-renewal", (B,), (LOGOUT, read()), **DUE),  # 10
    Scenario("logout-renewal-write", (B,), (LOGOUT, read(), write("W")), **DUE, wire_samples=20),  # 3001
    Scenario("logout-login-write", (B,), (LOGOUT, LOGIN, write("W")), wire_samples=16),
]

REVOKES = [
    Scenario("revoke-one-renewal", (OTHER, BOUND), (REVOKE_B, read()), **DUE, wire_samples=16),  # 118
    Scenario("revoke-others-renewal", (OTHER, BOUND), (REVOKE_OTHERS, read()), **DUE, wire_samples=16),
    Scenario("revoke-all-renewal", (OTHER, BOUND), (read(),), revoke_all=True, **DUE, wire_samples=16),  # 10
    Scenario("revoke-one-login", (OTHER, BOUND), (REVOKE_B, LOGIN), wire_samples=16),  # 43
    Scenario("revoke-all-login", (OTHER, BOUND), (LOGIN,), revoke_all=True, wire_samples=16),  # 10
    Scenario(
        "revoke-all-renewal-write",
        (OTHER, BOUND),
        (read(), write("W")),
        revoke_all=True,
        **DUE,
        wire_samples=16,
        samples=3000,
    ),  # 35,287 schedules: about 90 s of CPU for all of them
    Scenario(
        "cap-eviction-renewal",
        (OTHER, B),
        (LOGIN, read("R", "a")),
        advance=RENEWAL_DUE,
        options={"renew_after": RENEW_AFTER, "max_sessions_per_user": 1},
        wire_samples=16,
    ),  # 118
]

RENEWALS = [
    Scenario("renewal-two-writes", (B,), (write("W"), write("V")), **DUE),
    Scenario(
        "renewal-write-read-grace", (B,), (write("W"), read()), tick=RENEW_GRACE + 1, **DUE, wire_samples=20
    ),  # 184
    Scenario("renewal-login-write", (B,), (LOGIN, write("W")), **DUE),  # 20
]

EVENTUALS = [
    Scenario("eventual-refresh-write", (B,), (read(), write("W")), options=EVENTUAL),  # 20
    Scenario(
        "eventual-refresh-write-max-age", (B,), (read(), write("W")), options={**EVENTUAL, "max_age": 3600}
    ),  # 20
    Scenario("eventual-two-writes", (B,), (write("W"), write("V")), options=EVENTUAL),  # 20
    Scenario(
        "eventual-refresh-two-writes",
        (B,),
        (read(), write("W"), write("V")),
        options=EVENTUAL,
        wire_samples=16,
    ),
]

GROUPS = {"writes": WRITES, "logout": LOGOUTS, "revoke": REVOKES, "renewal": RENEWALS, "eventual": EVENTUALS}
ALL = [scenario for group in GROUPS.values() for scenario in group]
