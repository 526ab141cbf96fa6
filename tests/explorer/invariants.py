"""The invariants checked after every schedule, Jepsen style: the acknowledged operations of the
history against what the browsers' cookies read and what the store lists at the end.

(I1) every 200 that changed a session is visible from the browser's final cookie, whichever
     response arrived last (the browser applies Set-Cookie headers in arrival order, so the final
     cookie is the one set by whichever cookie-setting response arrives last; except a cookie
     older than an acknowledged login, and a browser whose request carried a renewed cookie
     past renew_grace: both dead by design);
(I2) once end_session or a revoke (one, others, all, or eviction by the cap) has returned, no
     cookie of that session issued before it reads any of its data (the data set up before the
     race marks it);
(I3) no browser ever sees another browser's data (keys are named after their browser);
(I4) an ended or revoked session never reappears in the user's session list.
Besides: every request answers 200, 409 or 503 and none raises.
"""

from __future__ import annotations

from dynsession import SessionRecord

from .browser import View, decode, view
from .gated import LaggingReplica
from .scenario import Outcome, Request

ALLOWED = (200, 409, 503)


def ended_browsers(outcome: Outcome) -> dict[str, int]:
    """The browsers whose sessions an acknowledged logout or revoke ended, each with the step
    count at which the ending request returned."""
    scenario, ended = outcome.scenario, dict[str, int]()
    bound = [b.name for b in scenario.browsers if b.bound]

    def end(names: list[str], at: int) -> None:
        for name in names:
            ended[name] = min(ended.get(name, at), at)

    for request in scenario.requests:
        answer = outcome.answers.get(request.actor)
        if answer is None or answer.status != 200:
            continue
        at = outcome.finished_at(request.actor)
        if request.op == "logout":
            end([request.browser], at)
        elif request.op == "revoke" and answer.body.get("ended") == 1:
            end([request.target], at)
        elif request.op == "revoke_others" or (
            request.op == "login" and scenario.options.get("max_sessions_per_user") == 1
        ):
            end([name for name in bound if name != request.browser], at)
    if outcome.revoked is not None:
        end(bound, outcome.finished_at("X"))
    return ended


async def check(outcome: Outcome) -> list[str]:
    """Every violation of the invariants in one executed schedule, as readable lines."""
    problems: list[str] = []
    for actor in outcome.run.actors:
        if actor.error is not None:
            problems.append(f"{actor.name} raised {actor.error!r}")
    for name, answer in outcome.answers.items():
        if answer.status not in ALLOWED:
            problems.append(f"{name} answered {answer.status}")
    ended = ended_browsers(outcome)
    for browser in outcome.scenario.browsers:
        problems += await _visible(outcome, browser.name, ended)
        if browser.name in ended:
            problems += await _ended(outcome, browser.name, ended[browser.name])
    problems += await _listed(outcome, ended)
    return problems


async def _read(outcome: Outcome, browser: str, cookie: str, what: str, problems: list[str]) -> View:
    seen = await view(outcome.checker, cookie)
    foreign = sorted(key for key in seen.data if not key.startswith(f"{browser}."))
    if foreign:
        problems.append(f"I3 {browser}: {what} reads another browser's keys {foreign}")
    return seen


async def _visible(outcome: Outcome, browser: str, ended: dict[str, int]) -> list[str]:
    """I1 for one browser (and I3 on everything its requests and cookies showed)."""
    scenario, problems = outcome.scenario, []

    def answered(actor: str) -> bool:
        return outcome.answers[actor].status == 200

    mine = [r for r in scenario.requests if r.browser == browser and r.actor in outcome.answers]
    for request in mine:
        answer = outcome.answers[request.actor]
        foreign = sorted(key for key in answer.data if not key.startswith(f"{browser}."))
        if foreign:
            problems.append(f"I3 {browser}: {request.actor}'s answer shows another browser's keys {foreign}")
    if browser in ended or any(_late(outcome, request.actor) for request in mine):
        return problems
    setup = scenario.browser(browser)
    expected = {f"{browser}.{key}": "1" for key in setup.keys}
    user = outcome.user if setup.bound else None
    for request in mine:
        answer = outcome.answers[request.actor]
        if answer.status != 200:
            continue
        if request.op == "write":
            expected[f"{browser}.{request.key}"] = request.actor
        elif request.op == "pop":
            expected[f"{browser}.{request.key}"] = ""
        elif request.op == "login":
            user = outcome.user
    # An expired cookie counts: arriving last, it leaves the browser without one.
    setters = [(r.actor, a.cookie) for r in mine if (a := outcome.answers[r.actor]).cookie is not None]
    finals = setters or [("setup", outcome.cookies[browser])]
    # A login leaves every older cookie of the browser dead on purpose (a moved-by-login marker
    # never forwards: session fixation); an older answer arriving after the login's is not checked.
    logins = [outcome.finished_at(r.actor) for r in mine if r.op == "login" and answered(r.actor)]
    for last, cookie in finals:
        assert cookie is not None
        if logins and last != "setup" and outcome.finished_at(last) < max(logins):
            continue
        seen = await _read(outcome, browser, cookie, f"the cookie {last} set", problems)
        where = f"with {last}'s answer last, the final cookie"
        if _missing(seen, expected, user) and _crossed(outcome, last, mine):
            # The one window eventually consistent reads leave (docs/sessions.md): two writes'
            # answers crossed, so the final cookie names the older of the two versions and a
            # replica one write behind passes for current. Nothing acknowledged may be lost: once
            # the replicas have caught up, the same cookie reads every acknowledged change.
            assert isinstance(outcome.store, LaggingReplica)
            with outcome.store.caught_up():
                seen = await _read(outcome, browser, cookie, f"the cookie {last} set", problems)
            where += " (the replicas caught up)"
        for key, value in expected.items():
            if seen.data.get(key, "") != value:
                problems.append(f"I1 {browser}: {where} reads {key}={seen.data.get(key)!r}, not {value!r}")
        if seen.user != user:
            problems.append(f"I1 {browser}: {where} is signed in as {seen.user!r}, not {user!r}")
    return problems


def _missing(seen: View, expected: dict[str, str], user: str | None) -> bool:
    return seen.user != user or any(seen.data.get(key, "") != value for key, value in expected.items())


def _crossed(outcome: Outcome, last: str, mine: list[Request]) -> bool:
    """Whether, in an eventually consistent scenario, ``last`` is a write whose answer arrived
    after that of another acknowledged write of the browser that committed later."""
    if not outcome.scenario.eventual or last == "setup":
        return False
    saves = {step.actor: i for i, step in enumerate(outcome.run.trace) if step.call == "save"}
    if last not in saves:
        return False
    return any(
        saves.get(request.actor, -1) > saves[last]
        for request in mine
        if request.op in ("write", "pop") and outcome.answers[request.actor].status == 200
    )


def _late(outcome: Outcome, actor: str) -> bool:
    """Whether ``actor`` loaded its session only after a renewal had moved it and the clock had
    passed renew_grace since that renewal began: the old cookie it carried names nothing by then,
    by design, and what it writes starts a new session (the browser's older data stays with the
    renewed one). That includes a renewal whose own store calls took longer than renew_grace: its
    alias expires when written (docs/sessions.md, Concurrency)."""
    trace = outcome.run.trace
    tick = next((i for i, step in enumerate(trace) if step.call == "tick"), None)
    first = next((i for i, step in enumerate(trace) if step.actor == actor), None)
    if tick is None or first is None or first < tick:
        return False
    return any(step.call == "move-renewed" for step in trace[:first])


async def _ended(outcome: Outcome, browser: str, at: int) -> list[str]:
    """I2: every cookie of ``browser`` issued before its session was ended at step ``at``."""
    problems: list[str] = []
    issued = [("setup", outcome.cookies[browser])]
    for request in outcome.scenario.requests:
        answer = outcome.answers.get(request.actor)
        if request.browser == browser and answer is not None and answer.cookie:
            if outcome.finished_at(request.actor) < at:
                issued.append((request.actor, answer.cookie))
    # The data set up before the race marks that session: a request that loaded after the end
    # (a login that starts afresh, say) may rightly hand out a new session before the end returns.
    marks = [f"{browser}.{key}" for key in outcome.scenario.browser(browser).keys]
    for source, cookie in issued:
        seen = await _read(outcome, browser, cookie, f"the cookie {source} set", problems)
        if any(mark in seen.data for mark in marks):
            problems.append(
                f"I2 {browser}: ended at step {at}, yet the cookie {source} set reads "
                f"{seen.data} (user {seen.user!r})"
            )
    return problems


async def _listed(outcome: Outcome, ended: dict[str, int]) -> list[str]:
    """I4: no session holding an ended browser's data is in the user's session list."""
    if not ended:
        return []
    problems = []
    for session in await outcome.store.list_user_sessions(outcome.user):
        record = await outcome.store.load(session.key)
        if not isinstance(record, SessionRecord):
            continue
        data = decode(outcome.checker, session.key, record.data)
        for browser in sorted(ended):
            if f"{browser}.seed" in data:
                problems.append(f"I4 {browser}: ended, yet a session with its data is listed: {data}")
    return problems
