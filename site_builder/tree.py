"""The only place that reads the project: content, templates and static files as bytes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BuildFailed, SiteError
from .history import last_changed

FOLDERS = ("content", "templates", "static")
MAX_FILE_BYTES = 50 * 1024 * 1024
_SKIP = {".git", "__pycache__", ".DS_Store", "node_modules"}


@dataclass(frozen=True)
class Tree:
    """Every input file, keyed by its path relative to the project root ('content/site.yaml')."""

    root: Path
    files: dict[str, bytes]
    dates: dict[str, str] = field(default_factory=dict)  # 'content/…' → last commit date (YYYY-MM-DD)

    def under(self, folder: str) -> dict[str, bytes]:
        """The files below `folder/`, keyed by their path inside it."""
        prefix = folder.rstrip("/") + "/"
        return {k[len(prefix) :]: v for k, v in self.files.items() if k.startswith(prefix)}


def read_tree(root: Path) -> Tree:
    """Read every input file below the project root; refuse links that lead outside it."""
    root = root.resolve()
    files: dict[str, bytes] = {}
    errors: list[SiteError] = []
    for rel, path in input_paths(root):
        problem = _unsafe(path, root)
        if problem:
            errors.append(SiteError(rel, problem, "replace the link with the file itself"))
        elif path.stat().st_size > MAX_FILE_BYTES:
            errors.append(SiteError(rel, "file is larger than 50 MB", "split it or remove it"))
        else:
            files[rel] = path.read_bytes()
    if errors:
        raise BuildFailed(errors)
    return Tree(root, files, last_changed(root))


def input_paths(root: Path) -> Iterator[tuple[str, Path]]:
    """Every input file (project-relative path, path) in a stable order; links to folders are not followed."""
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(root / folder, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not skipped(d))
            for d in dirnames:  # a link to a folder is not followed, but it is reported, never silently skipped
                if os.path.islink(os.path.join(dirpath, d)):
                    path = Path(dirpath, d)
                    yield path.relative_to(root).as_posix(), path
            for name in sorted(filenames):
                if not skipped(name):
                    path = Path(dirpath, name)
                    yield path.relative_to(root).as_posix(), path


def skipped(name: str) -> bool:
    """Files and folders that are never input: hidden ones, editor backups, tool folders."""
    return name in _SKIP or name.startswith(".") or name.endswith("~")


def _unsafe(path: Path, root: Path) -> str:
    """Why reading `path` would leave the project, or ''."""
    real = path.resolve()
    if not real.is_relative_to(root):  # the file, or a folder above it, is a link that leads out
        return f"this link points outside the project (to {real})"
    if path.is_symlink() and path.is_dir():
        return "a link to a folder: links to folders are not followed"
    if not path.is_file():
        return "not a regular file"
    return ""
