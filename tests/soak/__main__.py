"""The soak: several uvicorn app processes share one table on dynalite behind a fault proxy, while
simulated browsers (own cookie jars, concurrent tabs) write and read their sessions and an app is
killed with SIGKILL every few seconds and restarted. Then, faults off, every acknowledged write is
checked against the final sessions and the raw table (tests/soak/check.py).

    .ci/dynalite .venv/bin/python -m tests.soak [--seed N] [--seconds S] [--transports boto3,native]

The server is DYNSESSION_TEST_ENDPOINT (``.ci/dynalite`` sets it). Each transport runs for
DYNSESSION_SOAK_SECONDS (default 60) seconds, DYNSESSION_SOAK_TRANSPORTS (default
``boto3,native``) names them: a new transport name slots in there. The seed (random unless
given, or DYNSESSION_SOAK_SEED) fixes every random choice — fault schedule and storms, browsers'
actions, kill times — though not how the OS interleaves processes; it is printed first, with the
command that replays it. One summary line per transport; the exit status is 1 on any loss,
cross-talk or unreadable final session.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid

import boto3

from ..conftest import create_session_table
from .app import READ_TIMEOUT
from .browsers import Browser, History, client
from .check import Verdict, final_sessions, judge, table_sessions
from .cluster import Apps, Proxy

TRANSPORTS = ("boto3", "native")
APPS = 4
BROWSERS = 24
TABS = 2
KILL_EVERY = (4.0, 8.0)  # seconds between two kill -9, drawn uniformly
RESTART_AFTER = (0.3, 1.5)


async def killer(apps: Apps, seed: int, until: float) -> None:
    """kill -9 one app every few seconds and start it again on its port."""
    rng = random.Random(f"kills-{seed}")
    while True:
        wait = rng.uniform(*KILL_EVERY)
        if time.monotonic() + wait >= until:
            return
        await asyncio.sleep(wait)
        port = rng.choice(apps.ports)
        apps.kill(port)
        await asyncio.sleep(rng.uniform(*RESTART_AFTER))
        apps.start(port)


async def soak(endpoint: str, transport: str, seed: int, seconds: float) -> tuple[Verdict, str]:
    table = f"dynsession-soak-{transport}-{uuid.uuid4().hex[:6]}"
    admin = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    create_session_table(admin, table)
    proxy = Proxy(endpoint, seed, stall=READ_TIMEOUT + 0.5)
    apps: Apps | None = None
    try:
        env = {
            "DYNSESSION_SOAK_ENDPOINT": proxy.url,
            "DYNSESSION_SOAK_TABLE": table,
            "DYNSESSION_SOAK_TRANSPORT": transport,
        }
        apps = await asyncio.to_thread(Apps, APPS, env)
        history = History()
        async with client() as http:
            browsers = [Browser(f"b{n:02d}", seed, apps.ports, http) for n in range(BROWSERS)]
            until = time.monotonic() + seconds
            await asyncio.gather(
                killer(apps, seed, until), *(b.browse(TABS, until, history) for b in browsers)
            )
            for port in apps.ports:
                if not apps.alive(port):
                    apps.start(port)
            for port in apps.ports:
                await asyncio.to_thread(apps.wait_ready, port)
            proxy.faults_off()
            final = await final_sessions(browsers, history)
        counts = proxy.counts()
        verdict = judge(browsers, history, final, table_sessions(endpoint, table))
        faults = sum(n for kind, n in counts.items() if kind not in ("requests", "storms_started"))
        mix = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()) if kind != "requests")
        fault_mix = (
            f"dynamodb_calls={counts.get('requests', 0)} faulted={faults} ({mix}) kills={apps.kills} "
            f"refused_connections={history.refused}"
        )
        return verdict, fault_mix
    finally:
        if apps is not None:
            apps.stop()
        proxy.stop()
        admin.delete_table(TableName=table)


def summary(transport: str, seed: int, seconds: float, verdict: Verdict, fault_mix: str) -> str:
    rate = 100.0 * verdict.server_errors / max(1, verdict.answers)
    return (
        f"soak {transport}: seed={seed} seconds={seconds:g} acknowledged_writes={verdict.acknowledged} "
        f"lost={verdict.lost} (still in the table: {verdict.lost_in_table}) cross_talk={verdict.cross_talk} "
        f"5xx={rate:.2f}% ({verdict.server_errors}/{verdict.answers}) "
        f"not_200=[{verdict.other_statuses}] no_answer={verdict.no_answer} "
        f"stored_but_unacknowledged={verdict.stored_unacknowledged} "
        f"final_reads_failed={verdict.final_reads_failed} table_mismatch={verdict.table_mismatch} "
        f"{fault_mix} -> {'FAIL' if verdict.failed else 'ok'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=os.environ.get("DYNSESSION_SOAK_SEED"))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("DYNSESSION_SOAK_SECONDS", 60)))
    default_transports = os.environ.get("DYNSESSION_SOAK_TRANSPORTS", ",".join(TRANSPORTS))
    parser.add_argument("--transports", default=default_transports)
    args = parser.parse_args()
    endpoint = os.environ.get("DYNSESSION_TEST_ENDPOINT")
    if not endpoint:
        parser.error("DYNSESSION_TEST_ENDPOINT is not set: run it under .ci/dynalite")
    seed = int(args.seed) if args.seed is not None else random.randrange(1_000_000)
    transports = [name.strip() for name in args.transports.split(",") if name.strip()]
    print(f"soak seed {seed}: replay with --seed {seed} (or DYNSESSION_SOAK_SEED={seed})", flush=True)
    failed = False
    for transport in transports:
        started = time.monotonic()
        verdict, fault_mix = asyncio.run(soak(endpoint, transport, seed, args.seconds))
        fault_mix += f" wall={time.monotonic() - started:.0f}s"
        for note in verdict.notes[:20]:
            print(f"  {transport}: {note}")
        print(summary(transport, seed, args.seconds, verdict, fault_mix), flush=True)
        failed = failed or verdict.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
