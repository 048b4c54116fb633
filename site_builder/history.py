"""When each input file last changed, from git history: one `git log` for the whole project."""

from __future__ import annotations

import subprocess
from pathlib import Path


def last_changed(root: Path, folder: str = "content") -> dict[str, str]:
    """Each committed file under the content folder (`folder`, relative to `root`), keyed as 'content/…' → the date
    (YYYY-MM-DD) of its last commit."""
    try:
        top = _git(root, "rev-parse", "--show-toplevel").strip()
        log = _git(root, "log", "--format=%x00%cs", "--name-only", "--no-renames", "--", folder)
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return {}  # not a git checkout, or no git: pages then use dates given in the content
    prefix = Path(root).resolve().relative_to(Path(top).resolve()).as_posix()
    prefix = ("" if prefix == "." else prefix + "/") + folder.rstrip("/") + "/"
    dates: dict[str, str] = {}
    for entry in log.split("\x00")[1:]:
        date, _, names = entry.partition("\n")
        for name in names.split("\n"):
            if name.startswith(prefix):
                dates.setdefault("content/" + name[len(prefix) :], date.strip())  # newest first: keep the first seen
    return dates


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=60).stdout
