"""Fail when a page of the built site would make the browser fetch something from another host.

    usage: python docs/_tools/site_check.py SITE_DIR

A browser fetches by itself, when it shows a page: script, image and frame sources, linked
stylesheets, fonts and icons, CSS imports and ``url()``. Plain links (``<a href>``) are followed only
when clicked, so they may point anywhere. Material's own script loads Mermaid from a CDN when a
page holds a diagram, so a diagram counts too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_FETCHED = [
    re.compile(
        r"""<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=["']?(?:https?:)?//[^"'\s>]+""", re.I
    ),
    re.compile(r"""<link\b[^>]*\bhref=["']?(?:https?:)?//[^"'\s>]+""", re.I),
    re.compile(r"""@import\s+(?:url\()?["']?(?:https?:)?//[^"')\s]+""", re.I),
    re.compile(r"""url\(\s*["']?(?:https?:)?//[^"')\s]+""", re.I),
    re.compile(r"""class=["'][^"']*\bmermaid\b""", re.I),
]


def external_fetches(site: Path) -> list[str]:
    """Each ``page: what`` in the site's HTML and CSS that a browser would load from another host."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix in {".html", ".css"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [
                f"{path.relative_to(site)}: {m[0]}" for pattern in _FETCHED for m in pattern.finditer(text)
            ]
    return found


def main(argv: list[str]) -> int:
    (site,) = argv
    pages = sum(1 for _ in Path(site).rglob("*.html"))
    if pages == 0:
        print(f"{site}: no HTML pages", file=sys.stderr)
        return 1
    fetched = external_fetches(Path(site))
    for line in fetched:
        print(line, file=sys.stderr)
    if fetched:
        return 1
    print(f"{site}: {pages} pages, none fetches anything from another host")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
