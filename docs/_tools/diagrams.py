"""Write the architecture page's two diagrams as SVG: the request path and the package's layers.

    usage: python docs/_tools/diagrams.py [--check]

Without arguments it rewrites docs/img/request-path.svg and docs/img/layers.svg. With ``--check``
it writes nothing and exits 1, naming each stale file, when a committed SVG differs from what it
would write.

The layers come from the import-linter contract on ``dynsession`` in pyproject.toml, the one
``lint-imports`` checks, so the picture cannot drift from it: one row per layer, highest first,
modules sharing a layer side by side. Every module in it needs a line in ``DESCRIPTIONS``. The
request path is declared in ``REQUEST_PATH`` below.

The SVGs are shown as ``<img>`` on pages in light and dark schemes: no background, light boxes with
dark text, mid-grey arrows, system fonts only. The output is deterministic (integer coordinates,
fixed ordering) so ``--check`` compares bytes.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dynsession"
IMG = ROOT / "docs" / "img"
CONFIG = ROOT / "pyproject.toml"

FONT = "system-ui, -apple-system, Segoe UI, sans-serif"
FILL = "#f4f6fa"
STROKE = "#9ca3af"
TEXT = "#1f2937"
SMALL_TEXT = "#374151"
LINE = "#6b7280"
# Text outside the boxes: as legible on Material's dark background (#1e2129) as on white.
CAPTION = "#737b89"

TITLE_SIZE = 14
TEXT_SIZE = 12
PAD_X = 14
PAD_TOP = 10
PAD_BOTTOM = 10
TITLE_LINE = 18
TEXT_LINE = 16
MIN_WIDTH = 120
ROW_GAP = {"path": 34, "layers": 22}
SIDE_GAP = 44
SIBLING_GAP = 12
MARGIN = 12
CAPTION_GAP = 22


@dataclass(frozen=True)
class Box:
    """A box: a bold title and one to three small lines under it."""

    title: str
    lines: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.lines) <= 3:
            raise ValueError(f"box {self.title!r}: 1 to 3 lines, not {len(self.lines)}")


@dataclass(frozen=True)
class Diagram:
    """Rows of boxes, top to bottom.

    ``style="path"``: each row's first box sits on one vertical line, a solid arrow from each to the
    next; the row's other boxes are joined to it by a dashed line, alternately right and left.
    ``style="layers"``: a row's boxes side by side, every row as wide as the widest, and one arrow
    between consecutive rows.
    """

    name: str
    title: str
    description: str
    rows: tuple[tuple[Box, ...], ...]
    style: Literal["path", "layers"]
    caption: str


# The request path, read from dynsession/middleware.py and dynsession/_request/: what runs, top to
# bottom, and (beside it) what each step uses.
REQUEST_PATH = Diagram(
    name="request-path",
    title="A request's path through dynsession",
    description=(
        "The ASGI server calls SessionMiddleware, which loads the session, runs the handler, "
        "persists the session when the response starts, through the store and its transport "
        "to DynamoDB."
    ),
    style="path",
    caption="solid: the request's way to the table · dashed: what a step uses",
    rows=(
        (Box("ASGI server", ("uvicorn, Hypercorn, …",)),),
        (
            Box("SessionMiddleware", ("middleware.py", "load before the app, persist at response start")),
            Box(
                "Store start-up",
                ("_request/startup.py", "at lifespan startup,", "else before the 1st request"),
            ),
        ),
        (
            Box("Load", ("_request/loading.py, lazy.py", "reads.py, markers.py")),
            Box("Envelope", ("_envelope/cookies.py: signed ID", "binding.py, encryption.py")),
        ),
        (
            Box(
                "Your handler",
                (
                    "request.session",
                    "_request/session.py: end_session, regenerate_session",
                    "_request/devices.py",
                ),
            ),
        ),
        (
            Box("Persist", ("_request/persistence.py", "conflict.py, moves.py")),
            Box("A user's sessions", ("_users/ending.py", "user_sessions.py: the per-user cap")),
            Box(
                "Failure answers", ("_request/failures.py", "store failed: 503", "concurrent writer won: 409")
            ),
        ),
        (
            Box("Store", ("stores/dynamodb.py: DynamoDBStore", "item_format.py, connection.py")),
            Box("or MemoryStore", ("stores/memory.py", "in this process, no DynamoDB")),
        ),
        (
            Box("Transport", ("stores/transport/native.py", "HTTP/1.1 on asyncio.Protocol")),
            Box("or boto3", ("stores/transport/boto3_thread.py", "boto3 in a worker thread")),
        ),
        (Box("DynamoDB", ("the sessions table",)),),
    ),
)

# One line per module or folder of the package's layers contract: what it holds. A layer the
# contract gains must get a line here before the diagram can be drawn.
DESCRIPTIONS = {
    "__main__.py": "python -m dynsession",
    "_operator/": "the dynsession command, local server",
    "fastapi.py": "the session as a FastAPI dependency",
    "testing.py": "a clock moved by hand, a local DynamoDB",
    "middleware.py": "SessionMiddleware: load, then persist",
    "_request/": "one request: load, persist, move, end",
    "_users/": "a user's sessions: list, revoke, cap, end",
    "_envelope/": "signed cookie, encryption, binding",
    "cache/": "DynamoDBCache, HybridCache, @cached",
    "stores/": "SessionStore, DynamoDBStore, MemoryStore, transports",
    "tables/": "table checks, reports, explanations",
    "_options.py": "option checks",
    "_serialization.py": "session ⇄ bytes",
    "clock.py": "the one source of time",
    "exceptions.py": "DynSessionError and its subclasses",
    "_version.py": "the version",
}

CONTAINER = "dynsession"


class DiagramError(Exception):
    """The configuration cannot be drawn (a layer without a description, a missing module)."""


def _contract_layers(config: Path = CONFIG) -> list[list[str]]:
    """The layers of the ``layers`` contract whose container is ``dynsession``, highest first, each
    as its modules' names."""
    from importlinter.api import read_configuration

    options: dict[str, Any] = read_configuration(str(config))
    for contract in options["contracts_options"]:
        containers = contract.get("containers", [])
        if isinstance(containers, str):
            containers = [containers]
        if contract.get("type") == "layers" and list(containers) == [CONTAINER]:
            layers = contract["layers"]
            if isinstance(layers, str):
                layers = layers.strip().splitlines()
            return [_siblings(layer) for layer in layers]
    raise DiagramError(f"{config}: no import-linter layers contract with containers = [{CONTAINER!r}]")


def _siblings(layer: str) -> list[str]:
    """The modules of one layer: ``a | b`` (independent) or ``a : b`` (not) share it."""
    separator = "|" if "|" in layer else ":"
    names = [name.strip() for name in layer.split(separator)]
    # An optional layer is written "(name)".
    return [name.strip("()") for name in names if name]


def module_title(name: str, package: Path = PACKAGE) -> str:
    """``name/`` for a folder of the package, ``name.py`` for a module."""
    if (package / name).is_dir():
        return f"{name}/"
    if (package / f"{name}.py").is_file():
        return f"{name}.py"
    raise DiagramError(
        f"the layers contract names {CONTAINER}.{name}, which is neither {name}/ nor {name}.py"
    )


def layer_titles(config: Path = CONFIG) -> list[list[str]]:
    """Each layer of the ``dynsession`` contract as the titles of its boxes, highest first."""
    return [[module_title(name) for name in layer] for layer in _contract_layers(config)]


def layers_diagram(config: Path = CONFIG) -> Diagram:
    rows = []
    missing = []
    for layer in layer_titles(config):
        for title in layer:
            if title not in DESCRIPTIONS:
                missing.append(title)
        rows.append(tuple(Box(title, (DESCRIPTIONS.get(title, ""),)) for title in layer))
    if missing:
        raise DiagramError(
            f"docs/_tools/diagrams.py: no description for {', '.join(missing)}: the layers contract in "
            "pyproject.toml names it, so add a short line saying what it holds to DESCRIPTIONS"
        )
    return Diagram(
        name="layers",
        title="dynsession's layers",
        description=(
            "The layers of the dynsession package, highest first, as import-linter checks them: "
            "each imports only from the layers below it; modules side by side never import each other."
        ),
        style="layers",
        caption="↓ imports only from the layers below · side by side: never import each other",
        rows=tuple(rows),
    )


# Widths in em of a proportional sans-serif, rounded up a little so text never overflows its box.
_NARROW = set("iljtfrI.,:;|!'`()[]/ ")
_WIDE = set("mwMWG@%⇄…—")


def text_width(text: str, size: int, *, bold: bool = False) -> int:
    """An estimate, in pixels, of ``text`` set in ``size`` px of a system sans-serif."""
    ems = 0.0
    for char in text:
        if char in _NARROW:
            ems += 0.34
        elif char in _WIDE or char.isupper():
            ems += 0.8 if char in _WIDE else 0.7
        else:
            ems += 0.6
    if bold:
        ems *= 1.08
    return int(ems * size + 0.999)


@dataclass(frozen=True)
class _Placed:
    box: Box
    x: int
    y: int
    width: int
    height: int

    @property
    def centre_x(self) -> int:
        return self.x + self.width // 2

    @property
    def middle_y(self) -> int:
        return self.y + self.height // 2


def _natural_width(box: Box) -> int:
    widest = max(
        text_width(box.title, TITLE_SIZE, bold=True), *(text_width(line, TEXT_SIZE) for line in box.lines)
    )
    width = max(MIN_WIDTH, widest + 2 * PAD_X)
    return width + width % 2


def _height(box: Box) -> int:
    return PAD_TOP + TITLE_LINE + TEXT_LINE * len(box.lines) + PAD_BOTTOM


def _layout(diagram: Diagram) -> tuple[list[list[_Placed]], int, int]:
    """Every box placed, and the width and height of the drawing (without the caption)."""
    heights = [max(_height(box) for box in row) for row in diagram.rows]
    tops = []
    y = MARGIN
    for height in heights:
        tops.append(y)
        y += height + ROW_GAP[diagram.style]
    bottom = y - ROW_GAP[diagram.style]
    placed: list[list[_Placed]] = []
    if diagram.style == "path":
        # The first boxes on one vertical line; the others alternately right and left of it.
        left_reach = right_reach = 0
        for row in diagram.rows:
            main = _natural_width(row[0])
            right = left = main // 2
            for index, box in enumerate(row[1:]):
                if index % 2 == 0:
                    right += SIDE_GAP + _natural_width(box)
                else:
                    left += SIDE_GAP + _natural_width(box)
            left_reach, right_reach = max(left_reach, left), max(right_reach, right)
        spine = MARGIN + left_reach
        width = spine + right_reach + MARGIN
        for row, top, height in zip(diagram.rows, tops, heights, strict=True):
            main_width = _natural_width(row[0])
            first = _Placed(row[0], spine - main_width // 2, top, main_width, height)
            boxes = [first]
            right_edge, left_edge = first.x + first.width, first.x
            for index, box in enumerate(row[1:]):
                box_width = _natural_width(box)
                if index % 2 == 0:
                    boxes.append(_Placed(box, right_edge + SIDE_GAP, top, box_width, height))
                    right_edge += SIDE_GAP + box_width
                else:
                    left_edge -= SIDE_GAP + box_width
                    boxes.append(_Placed(box, left_edge, top, box_width, height))
            placed.append(boxes)
    else:
        # Every row as wide as the widest; a row's boxes all as wide, so a row of two splits at the
        # centre, where the arrows run.
        widest = [max(_natural_width(box) for box in row) for row in diagram.rows]
        span = max(
            w * len(row) + SIBLING_GAP * (len(row) - 1) for w, row in zip(widest, diagram.rows, strict=True)
        )
        span += span % 2
        width = 2 * MARGIN + span
        for row, top, height in zip(diagram.rows, tops, heights, strict=True):
            gaps = SIBLING_GAP * (len(row) - 1)
            box_widths = [(span - gaps) // len(row)] * len(row)
            box_widths[-1] += span - gaps - sum(box_widths)
            x = MARGIN
            boxes = []
            for box, box_width in zip(row, box_widths, strict=True):
                boxes.append(_Placed(box, x, top, box_width, height))
                x += box_width + SIBLING_GAP
            placed.append(boxes)
    caption = text_width(diagram.caption, TEXT_SIZE) + 2 * MARGIN
    if caption > width:
        shift = (caption - width) // 2
        placed = [[dataclasses.replace(box, x=box.x + shift) for box in row] for row in placed]
        width = caption
    return placed, width, bottom


def _n(value: float) -> str:
    """A coordinate, the same text on every machine."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _box_svg(placed: _Placed) -> list[str]:
    box = placed.box
    out = [
        f'<rect x="{_n(placed.x)}" y="{_n(placed.y)}" width="{_n(placed.width)}" '
        f'height="{_n(placed.height)}" rx="6" fill="{FILL}" stroke="{STROKE}" stroke-width="1"/>'
    ]
    # The text block is centred vertically when the row is taller than this box needs.
    slack = (placed.height - _height(box)) // 2
    baseline = placed.y + slack + PAD_TOP + TITLE_SIZE
    out.append(
        f'<text x="{_n(placed.centre_x)}" y="{_n(baseline)}" font-size="{TITLE_SIZE}" '
        f'font-weight="bold" fill="{TEXT}">{escape(box.title)}</text>'
    )
    baseline += TITLE_LINE - TITLE_SIZE + TEXT_SIZE + (TEXT_LINE - TEXT_SIZE)
    for line in box.lines:
        out.append(
            f'<text x="{_n(placed.centre_x)}" y="{_n(baseline)}" font-size="{TEXT_SIZE}" '
            f'fill="{SMALL_TEXT}">{escape(line)}</text>'
        )
        baseline += TEXT_LINE
    return out


def _arrow(x: int, y1: int, y2: int, marker: str) -> str:
    return (
        f'<line x1="{_n(x)}" y1="{_n(y1)}" x2="{_n(x)}" y2="{_n(y2 - 2)}" stroke="{LINE}" '
        f'stroke-width="1.5" marker-end="url(#{marker})"/>'
    )


def render(diagram: Diagram) -> str:
    """The diagram as an SVG document."""
    placed, width, bottom = _layout(diagram)
    height = bottom + CAPTION_GAP + TEXT_SIZE + MARGIN
    marker = f"{diagram.name}-arrow"
    body: list[str] = []
    for upper, lower in itertools.pairwise(placed):
        if diagram.style == "path":
            x = upper[0].centre_x
        else:
            x = (upper[0].x + upper[-1].x + upper[-1].width) // 2
        body.append(_arrow(x, upper[0].y + upper[0].height, lower[0].y, marker))
    if diagram.style == "path":
        for row in placed:
            first = row[0]
            for side in row[1:]:
                x1, x2 = (
                    (first.x + first.width, side.x) if side.x > first.x else (first.x, side.x + side.width)
                )
                body.append(
                    f'<line x1="{_n(x1)}" y1="{_n(first.middle_y)}" x2="{_n(x2)}" y2="{_n(first.middle_y)}" '
                    f'stroke="{LINE}" stroke-width="1.5" stroke-dasharray="5 4"/>'
                )
    for row in placed:
        for box in row:
            body.extend(_box_svg(box))
    body.append(
        f'<text x="{_n(width / 2)}" y="{_n(bottom + CAPTION_GAP + TEXT_SIZE - 4)}" font-size="{TEXT_SIZE}" '
        f'fill="{CAPTION}">{escape(diagram.caption)}</text>'
    )
    title_id, desc_id = f"{diagram.name}-title", f"{diagram.name}-desc"
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(diagram.title)} '
        f'aria-labelledby="{title_id} {desc_id}">',
        f'<title id="{title_id}">{escape(diagram.title)}</title>',
        f'<desc id="{desc_id}">{escape(diagram.description)}</desc>',
        "<defs>",
        f'<marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse">',
        f'<path d="M0,0 L10,5 L0,10 z" fill="{LINE}"/>',
        "</marker>",
        "</defs>",
        f'<g font-family={quoteattr(FONT)} text-anchor="middle">',
    ]
    return "\n".join([*head, *body, "</g>", "</svg>", ""])


def outputs() -> dict[Path, str]:
    """Each SVG file and what it should hold."""
    return {IMG / "request-path.svg": render(REQUEST_PATH), IMG / "layers.svg": render(layers_diagram())}


def stale() -> list[Path]:
    """The SVG files missing or differing from what :func:`outputs` would write."""
    return [
        path
        for path, text in outputs().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str]) -> int:
    if list(argv) not in ([], ["--check"]):
        print("usage: python docs/_tools/diagrams.py [--check]", file=sys.stderr)
        return 2
    try:
        if argv:
            out_of_date = stale()
            for path in out_of_date:
                print(
                    f"{path.relative_to(ROOT)} is stale: run python docs/_tools/diagrams.py",
                    file=sys.stderr,
                )
            return 1 if out_of_date else 0
        for path, text in outputs().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="\n") as file:
                file.write(text)
            print(f"wrote {path.relative_to(ROOT)}")
    except DiagramError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
