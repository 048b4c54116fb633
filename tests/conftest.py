"""Shared fixtures: a real project in tmp_path, and the real CLI as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
    """Run `python -m site_builder ARGS` as users do."""
    return subprocess.run(
        [sys.executable, "-m", "site_builder", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of a file; fail loudly when it is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


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
