"""Small Markdown helpers shared by the report's sections."""

from __future__ import annotations


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def machine_line(machine: str) -> str:
    return f"_Machine: {machine}._"


def splice(document: str, section: str, begin: str, end: str) -> str:
    """``document`` with the part between the ``begin`` and ``end`` markers replaced by ``section``
    (which carries the markers itself); appended when the document has no such part."""
    start, stop = document.find(begin), document.find(end)
    if start == -1 or stop == -1:
        return document.rstrip("\n") + "\n\n" + section + "\n"
    return document[:start] + section + document[stop + len(end) :]
