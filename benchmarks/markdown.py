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
