"""nox sessions: the test suite on every supported CPython found here, the docs site, the built wheel.

``nox -s tests`` runs the suite once per interpreter in ``PYTHONS`` that this machine has (on PATH
or under pyenv's ``versions/``); a missing interpreter is skipped, never downloaded.
``nox -s subset`` is the cheaper run CI gives the interpreters it does not run in full: every test
that needs no DynamoDB, then a smoke over moto's server.
``nox -s docs`` builds the site strictly and checks it fetches nothing from other hosts.
``nox -s wheel`` builds the sdist and wheel, checks them, installs the wheel into a fresh
virtualenv and runs tests/wheel_smoke.py there, away from the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
"""The CPython versions dynsession supports; pyproject.toml's classifiers list the same."""

ROOT = Path(__file__).resolve().parent
PYTHON_LINKS = ROOT / ".nox" / "pythons"

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"
nox.options.reuse_venv = "no"
nox.options.sessions = ["tests", "docs", "wheel"]
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def _pyenv_interpreter(version: str) -> Path | None:
    """The newest ``pythonX.Y`` under pyenv's versions directory, if pyenv has one."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = [
        path / "bin" / f"python{version}"
        for path in versions.glob(f"{version}.*")
        if path.name.removeprefix(f"{version}.").isdigit() and (path / "bin" / f"python{version}").is_file()
    ]
    return max(found, key=lambda p: int(p.parent.parent.name.rsplit(".", 1)[1]), default=None)


def _expose_pyenv_pythons() -> None:
    """Put pyenv's interpreters where nox looks (PATH), ahead of pyenv's shims.

    A shim answers only for the versions pyenv has activated, so nox would find ``python3.12``
    and then fail to run it. Links in one directory expose each version without activating
    anything else of pyenv's.
    """
    links = {version: _pyenv_interpreter(version) for version in PYTHONS}
    if not any(links.values()):
        return
    PYTHON_LINKS.mkdir(parents=True, exist_ok=True)
    for version, target in links.items():
        link = PYTHON_LINKS / f"python{version}"
        link.unlink(missing_ok=True)
        if target is not None:
            link.symlink_to(target)
    os.environ["PATH"] = os.pathsep.join([str(PYTHON_LINKS), os.environ.get("PATH", "")])


_expose_pyenv_pythons()


@nox.session(python=PYTHONS, allow_parallel=True)
def tests(session: nox.Session) -> None:
    """The test suite on one interpreter; arguments after ``--`` go to pytest."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *session.posargs)


# The smoke over moto for ``subset``: every docs example (sessions, user sessions, security, cache)
# and the store contract, on both transports.
MOTO_SMOKE = ["tests/test_doc_examples.py", "tests/stores/test_contract.py"]


@nox.session(python=PYTHONS, allow_parallel=True)
def subset(session: nox.Session) -> None:
    """The tests that need no DynamoDB, then ``MOTO_SMOKE``; arguments after ``--`` go to both runs."""
    session.install("-e", ".[dev]")
    pytest = ("python", "-m", "pytest", "-p", "no:cacheprovider", "-q")
    # The site is built with the docs toolchain the main Python resolves (`nox -s docs`); older
    # Pythons resolve older releases of it, so the tests of the built site run there only.
    no_dynamodb = "not dynamodb and not bench_smoke and not e2e and not docs_site"
    session.run(*pytest, "-m", no_dynamodb, "--ignore=tests/e2e", *session.posargs)
    session.run(*pytest, *MOTO_SMOKE, *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """``mkdocs build --strict``, then fail if a page would fetch a font or script from another host."""
    session.install("-e", ".[docs]")
    with tempfile.TemporaryDirectory() as site:
        session.run(
            "mkdocs", "build", "--strict", "--quiet", "--site-dir", site, env={"NO_MKDOCS_2_WARNING": "1"}
        )
        session.run("python", str(ROOT / "docs" / "_tools" / "site_check.py"), site)


def unexpected_in_wheel(names: list[str]) -> list[str]:
    """What a wheel holds besides the package's modules, its ``py.typed`` and its own .dist-info."""
    return [
        name
        for name in names
        if not (name.startswith("dynsession/") and name.endswith((".py", "/py.typed")))
        and not re.match(r"dynsession-[^/]+\.dist-info/", name)
    ]


@nox.session
def wheel(session: nox.Session) -> None:
    """Build and check the distributions, then smoke-test the wheel installed on its own."""
    session.install("build[uv]>=1.2", "twine>=5")
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp) / "dist"
        session.run("python", "-m", "build", "--installer=uv", f"--outdir={dist}", str(ROOT), silent=True)
        (wheel_file,) = dist.glob("*.whl")
        (sdist_file,) = dist.glob("*.tar.gz")
        session.run("twine", "check", "--strict", str(wheel_file), str(sdist_file))

        names = zipfile.ZipFile(wheel_file).namelist()
        session.log("wheel %s:\n  %s", wheel_file.name, "\n  ".join(names))
        stray = unexpected_in_wheel(names)
        if stray or "dynsession/py.typed" not in names:
            session.error(f"the wheel must hold only the package and py.typed; unexpected: {stray}")

        # A virtualenv of its own, outside the checkout: only the wheel and what it depends on, plus
        # httpx2 for Starlette's TestClient. The smoke test runs from a directory holding nothing else.
        venv = Path(tmp) / "venv"
        python = venv / "bin" / "python"
        uv = (sys.executable, "-m", "uv")
        session.run(*uv, "venv", "--quiet", f"--python={sys.executable}", str(venv), external=True)
        install = ("pip", "install", "--quiet", f"--python={python}")
        session.run(*uv, *install, str(wheel_file), "httpx2", external=True)
        smoke_dir = Path(tmp) / "smoke"
        smoke_dir.mkdir()
        shutil.copy(ROOT / "tests" / "wheel_smoke.py", smoke_dir)
        session.chdir(smoke_dir)
        session.run(str(python), "-I", "-W", "error", "wheel_smoke.py", env={"PYTHONPATH": ""}, external=True)
