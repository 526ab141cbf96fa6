"""The built documentation site, as ``nox -s docs`` builds it: the Getting started page reads as
written (its steps are one numbered list each, no code line hides under the copy button), and
every page works opened from the files, with no server."""

from __future__ import annotations

import html.parser
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from .doc_examples import REPO

pytestmark = pytest.mark.docs_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(directory)],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True,
        timeout=120,
    )
    return directory


class _Page(html.parser.HTMLParser):
    """The ordered lists of a page's article (each with its direct items' text), its links and
    stylesheets."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: list[list[str]] = []
        self.links: list[str] = []
        self.stylesheets: list[str] = []
        self._open: list[list[str]] = []
        self._depth: list[int] = []
        self._in_article = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "article":
            self._in_article = True
        elif tag == "ol" and self._in_article:
            self._open.append([])
            self._depth.append(0)
        elif tag == "li" and self._open:
            self._depth[-1] += 1
            if self._depth[-1] == 1:
                self._open[-1].append("")
        elif tag in ("a", "link", "script", "img"):
            target = attributes.get("href") or attributes.get("src")
            if target:
                self.links.append(target)
            if tag == "link" and attributes.get("rel") == "stylesheet" and target:
                self.stylesheets.append(target)

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._in_article = False
        elif tag == "ol" and self._open:
            self.lists.append([" ".join(item.split()) for item in self._open.pop()])
            self._depth.pop()
        elif tag == "li" and self._open:
            self._depth[-1] -= 1

    def handle_data(self, data: str) -> None:
        if self._open and self._depth[-1] >= 1:
            self._open[-1][-1] += data


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_each_getting_started_list_is_one_numbered_list_of_all_its_steps(site: Path) -> None:
    lists = parse(site / "index.html").lists
    assert [len(items) for items in lists] == [3, 6], lists
    quick_start, example_app = lists
    assert quick_start[0].startswith("Install dynsession with the local extra")
    assert "python3 -m venv .venv" in quick_start[0]  # the command is inside step 1, not after the list
    assert "dynsession local --table sessions" in quick_start[1]
    assert "uvicorn app:app" in quick_start[2]
    assert example_app[0].startswith("Open Cart") and example_app[-1].startswith("Catalogue")


def test_code_lines_wrap_clear_of_the_copy_button(site: Path) -> None:
    """Material puts a copy button over each code block's top right corner: the site's stylesheet
    wraps long lines and keeps a lane free for the button."""
    page = parse(site / "index.html")
    assert "content.code.copy" in (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    css = "\n".join(
        (site / href).read_text(encoding="utf-8") for href in page.stylesheets if "://" not in href
    )
    rule = re.search(r"\.md-typeset pre > code\s*\{(?P<body>[^}]*)\}", css)
    assert rule is not None, page.stylesheets
    assert re.search(r"white-space:\s*pre-wrap", rule["body"])
    lane = re.search(r"padding-right:\s*(?P<em>[\d.]+)em", rule["body"])
    # The button is 1.5em wide, .5em from the edge (Material's .md-clipboard).
    assert lane is not None and float(lane["em"]) >= 2.5


def pages(site: Path) -> Iterator[Path]:
    """The pages a reader browses; 404.html is only ever shown by a web server."""
    yield from sorted(path for path in site.rglob("*.html") if path.name != "404.html")


def test_every_link_between_pages_opens_a_file(site: Path) -> None:
    """Opened from disk there is no server to turn ``sessions/`` into ``sessions/index.html``:
    every relative link and asset of every page names a file that exists."""
    broken = []
    for path in pages(site):
        for link in parse(path).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            target = (path.parent / unquote(parts.path)).resolve()
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {link}")
    assert broken == []
    assert sum(1 for _ in pages(site)) > 10
