"""The default theme: the templates and static files that ship with site_builder. A project's own templates/ and
static/ override them file by file (tree.read_tree lays the project's files over these)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

PARTS = ("templates", "static")


def theme_root() -> Traversable:
    """The folder that holds the theme's templates/ and static/: inside the installed package (a wheel puts them
    there), else beside the package (a source checkout or an editable install, where edits show at once)."""
    packaged = files(__package__ or "site_builder")
    if packaged.joinpath("templates").is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "templates").is_dir() else packaged


def theme_folder() -> Path | None:
    """The theme's folder on disk (to watch and to stamp), or None when it is not a plain folder (a zip import)."""
    root = theme_root()
    return root if isinstance(root, Path) else None


def theme_files() -> dict[str, bytes]:
    """Every file of the theme: {'templates/<name>': bytes, 'static/<name>': bytes}."""
    found: dict[str, bytes] = {}
    root = theme_root()
    for part in PARTS:
        _collect(root.joinpath(part), part, found)
    return found


def _collect(folder: Traversable, rel: str, found: dict[str, bytes]) -> None:
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name == "__pycache__" or entry.name.endswith("~"):
            continue
        if entry.is_dir():
            _collect(entry, f"{rel}/{entry.name}", found)
        else:
            found[f"{rel}/{entry.name}"] = entry.read_bytes()
