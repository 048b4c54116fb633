"""A new user's path, end to end: the wheel, installed into a fresh venv outside the checkout, starts a story
(`init`), builds it with --strict, checks it, serves it, adds a record (`new`) and builds again. Nothing of the
checkout is on the path: the commands run from a temporary folder, with no PYTHONPATH, from the venv's own
site-packages."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from .conftest import REPO

WHEEL_SOURCES = ("pyproject.toml", "README.md", "site_builder", "templates", "static")  # what the wheel is made of
HOME = "/my-explainer/"  # the starter's base_url is https://example.github.io/my-explainer/


def build_wheel(tmp: Path) -> Path:
    """The wheel, built from a copy of the checkout's sources (the checkout itself is left untouched)."""
    src = tmp / "src"
    src.mkdir(parents=True)
    for name in WHEEL_SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("site_builder-*.whl")
    return wheel


def user_env() -> dict[str, str]:
    """The environment of a user's shell: nothing that points Python at the checkout or at another venv."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command; fail with its output when it fails."""
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=user_env())
    assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_line_with(stream: queue.Queue[str], text: str, timeout: float) -> str:
    """The first line (read from a running process) that holds `text`; '' when none came within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = stream.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if text in line:
            return line
    return ""


def serve_and_fetch_home(tool: Path, story: Path) -> tuple[str, str]:
    """Start `serve` as a real process, fetch its home page over loopback, stop it: (page, what serve printed)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(tool), "serve", "--port", str(port)],
        cwd=story,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=user_env(),
    )
    lines: queue.Queue[str] = queue.Queue()
    printed: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            printed.append(line)
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        serving = first_line_with(lines, "Serving ", timeout=60)
        assert f"http://127.0.0.1:{port}{HOME}" in serving, "".join(printed)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HOME}", timeout=10) as reply:
            assert reply.status == 200
            page = reply.read().decode("utf-8")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    assert proc.returncode == 0, "".join(printed)
    return page, "".join(printed)


def test_a_new_user_installs_the_wheel_and_starts_a_story(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "wheel")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)  # ensurepip costs seconds
    python, tool = venv / "bin/python", venv / "bin/site-builder"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()

    where = run([str(python), "-c", WHERE], cwd=work).stdout.split()
    site_packages = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=work).stdout
    packages = Path(site_packages.strip())
    assert all(Path(p).is_relative_to(packages) for p in where), (where, packages)
    assert not any(Path(p).is_relative_to(REPO) for p in where)

    run([str(tool), "init", "mystory"], cwd=work)
    story = work / "mystory"
    assert sorted(p.name for p in story.iterdir()) == [".gitignore", "content"]
    built = run([str(tool), "build", "--strict"], cwd=story)
    assert built.stdout.startswith("Built ") and "warning" not in built.stderr, built.stderr
    assert run([str(tool), "check", "--strict"], cwd=story).stdout.startswith("Checked ")

    page, printed = serve_and_fetch_home(tool, story)
    assert "<title>My explainer" in page and "/my-explainer/static/style.css" in page
    assert "Stopped." in printed

    run([str(tool), "new", "topics", "second-topic"], cwd=story)
    run([str(tool), "build", "--strict"], cwd=story)
    site = story / "_site"
    for name in ("index.html", "topics/index.html", "topics/example/index.html", "topics/second-topic/index.html"):
        assert (site / name).is_file(), name
    assert "Second Topic" in (site / "topics/index.html").read_text(encoding="utf-8")
    assert (site / "static/style.css").read_bytes() == (packages / "site_builder/static/style.css").read_bytes()


WHERE = """\
import site_builder
from site_builder.theme import theme_folder
print(site_builder.__file__)
print(theme_folder())
"""
