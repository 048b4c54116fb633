"""The default theme: the templates and static files that ship with site_builder. A project's own templates/ and
static/ override them file by file (tree.read_tree lays the project's files over these)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PARTS = ("templates", "static")


def theme_root() -> Traversable:
    """The folder that holds the theme's templates/ and static/: inside the installed package (a wheel puts them
    there), else beside the package (a source checkout or an editable install, where edits show at once); a
    package that is not a folder on disk (a zip import) is read through importlib.resources."""
    here = Path(__file__).resolve().parent
    for folder in (here, here.parent):
        if (folder / "templates").is_dir():
            return folder
    from importlib.resources import files  # only here: its import is a hundredth of a quick build

    return files(__package__ or "site_builder")


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
