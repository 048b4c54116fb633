"""Shared fixtures: a real project in tmp_path, and the real CLI as a subprocess."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .cpu_limits import BACKSTOP, child_cpu_limit

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "site"


def make_project(dest: Path, content: Path = FIXTURE / "content") -> Path:
    """A project folder (content, templates, static) copied into `dest`."""
    shutil.copytree(content, dest / "content")
    shutil.copytree(REPO / "templates", dest / "templates")
    shutil.copytree(REPO / "static", dest / "static")
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The fixture site as a fresh project."""
    return make_project(tmp_path / "project")


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m site_builder ARGS` as users do. `timeout` limits its CPU time; the clock only stops one that
    waits without end (BACKSTOP times as long), so a busy machine cannot fail the test."""
    return subprocess.run(
        [sys.executable, "-m", "site_builder", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout * BACKSTOP,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        preexec_fn=child_cpu_limit(int(timeout)),  # no threads here: it only sets a limit
    )


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of a file; fail loudly when it is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def cold_build(project: Path, tmp_path: Path) -> dict[str, bytes]:
    """What a cold build (no search index) of a copy of `project` (without its output and cache) makes."""
    from site_builder.build import build

    cold = tmp_path / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    shutil.copytree(project, cold, ignore=shutil.ignore_patterns("_site", ".site-builder-cache"))
    build(cold, cold / "_site", search=False)
    return read_tree(cold / "_site")


def read_tree(out: Path) -> dict[str, bytes]:
    """Every file below `out`, keyed by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def need_tool(available: bool, reason: str) -> None:
    """Skip when a tool is missing, except under CI (SITE_BUILDER_REQUIRE_TOOLS=1), where it must be there."""
    if available:
        return
    if os.environ.get("SITE_BUILDER_REQUIRE_TOOLS"):
        pytest.fail(f"{reason} (CI must install it)")
    pytest.skip(reason)


def need_chromium() -> None:
    need_tool(CHROMIUM.exists(), "Chromium not installed: apt-get install chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run (Debian's, driven by Playwright; never a downloaded one)."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# --- The real explainer (content/), built once per worker and served under its base path ---

BASE_URL = "https://example.github.io/china-ev-exports/"
MOUNT = "china-ev-exports"
TOOLS = REPO / "tests" / "tools" / "node_modules"
AXE_NPM = TOOLS / "axe-core" / "axe.min.js"
AXE_URL = "__tools/axe.min.js"  # served beside the site, so the browser caches and compiles it once


@dataclass(frozen=True)
class Site:
    root: Path  # the built site
    pages: list[str]  # every *.html, relative to root

    def url_path(self, page: str) -> str:
        """The site path a page is served at: 'companies/tesla/index.html' -> 'companies/tesla/'."""
        return page.removesuffix("index.html")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The real site, with its search index, built into this worker's own temporary folder."""
    from site_builder.build import build

    out = tmp_path_factory.mktemp("www") / MOUNT
    build(REPO, out, base_url=BASE_URL)
    return Site(out, sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")))


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def axe_script() -> Path:
    """axe-core from tests/tools (pinned, newest rules), else the copy bundled with axe-playwright-python."""
    if AXE_NPM.is_file():
        return AXE_NPM
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).parent / "axe.min.js"


@pytest.fixture(scope="session")
def server(site: Site) -> Iterator[str]:
    """The site's base URL on 127.0.0.1 (a free port), as GitHub Pages would serve a project site."""
    tools = site.root.parent / AXE_URL
    tools.parent.mkdir()
    shutil.copyfile(axe_script(), tools)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site.root.parent)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{MOUNT}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()
