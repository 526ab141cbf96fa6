"""Rewrite sections 1 and 2 of an existing RESULTS.md (and their target rows) from a new run of
those sections alone, leaving the timed sections as they were measured."""

from __future__ import annotations

import re

from ..harness.markdown import yes
from . import calls, report_calls

_NOTE_START = "Sections 1–2 and their targets were rewritten by"
NOTE_PREFIX = f"{_NOTE_START} `python -m benchmarks --section calls`"
_CALL_TARGETS = (
    "Calls per request",
    "Page view with",
    "Traffic mix within",
    "User index:",
    "Eventually consistent reads",
)


def splice_calls(existing: str, c: calls.CallsResult, machine: str, started: str) -> str:
    """``existing`` with sections 1–2, their target rows and a note naming the rewrite replaced.

    Raises ValueError when ``existing`` lacks the sections or the targets table.
    """
    parts = existing.rstrip("\n").split("\n\n## ")
    titles = [part.split("\n", 1)[0] for part in parts]
    for wanted in ("Targets", "1. ", "2. "):
        if not any(title.startswith(wanted) for title in titles[1:]):
            raise ValueError(f"RESULTS.md has no section starting {wanted!r}")
    header = [p for p in parts[0].split("\n\n") if not p.startswith(_NOTE_START)]
    header.insert(2, f"{NOTE_PREFIX} ({started}).")
    parts[0] = "\n\n".join(header)
    for index, title in enumerate(titles):
        if title.startswith("Targets"):
            parts[index] = _targets(parts[index], c)
        elif title.startswith("1. "):
            parts[index] = report_calls.scenarios(c, machine).removeprefix("## ")
        elif title.startswith("2. "):
            parts[index] = report_calls.mix_section(c, machine).removeprefix("## ")
    return "\n\n## ".join(parts) + "\n"


def _targets(section: str, c: calls.CallsResult) -> str:
    lines = section.split("\n")
    rows = [i for i, line in enumerate(lines) if re.match(r"\| [^-]", line) and i > 0]
    ours = [i for i in rows if lines[i][2:].startswith(_CALL_TARGETS)]
    fresh = [f"| {target} | {measured} | {yes(met)} |" for target, measured, met in report_calls.targets(c)]
    at = ours[0] if ours else rows[1]  # rows[0] is the table's header
    kept = [line for i, line in enumerate(lines) if i not in ours]
    return "\n".join(kept[:at] + fresh + kept[at:])
