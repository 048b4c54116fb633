"""The only place that reads the project: content, templates and static files as bytes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BuildFailed, SiteError
from .history import last_changed

FOLDERS = ("content", "templates", "static")
MAX_FILE_BYTES = 50 * 1024 * 1024
_SKIP = {".git", "__pycache__", ".DS_Store", "node_modules"}
Stamp = tuple[int, int, int, int]  # mtime and ctime in ns, size, inode
BROKEN: Stamp = (0, 0, -1, 0)  # a link that leads nowhere


def stamp_of(st: os.stat_result) -> Stamp:
    """What `stat` says of a file, enough to tell that it changed."""
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


@dataclass(frozen=True)
class Tree:
    """Every input file, keyed by its path relative to the project root ('content/site.yaml')."""

    root: Path
    files: dict[str, bytes]
    dates: dict[str, str] = field(default_factory=dict)  # 'content/…' → last commit date (YYYY-MM-DD)
    stamps: dict[str, Stamp] = field(default_factory=dict, compare=False)  # file → what `stat` said when read

    def under(self, folder: str) -> dict[str, bytes]:
        """The files below `folder/`, keyed by their path inside it."""
        prefix = folder.rstrip("/") + "/"
        return {k[len(prefix) :]: v for k, v in self.files.items() if k.startswith(prefix)}


def read_tree(root: Path, previous: Tree | None = None) -> Tree:
    """Read every input file below the project root; refuse links that lead outside it. A file whose `stat`
    is what it was when `previous` read it is taken from `previous` (what `serve` does between saves)."""
    root = root.resolve()
    files: dict[str, bytes] = {}
    stamps: dict[str, Stamp] = {}
    errors: list[SiteError] = []
    old = previous.stamps if previous is not None and previous.root == root else {}
    linked = {folder for folder in FOLDERS if os.path.islink(root / folder)}  # the walk does enter these
    for rel, path in input_paths(root):
        st = os.lstat(path)
        # A regular file found by a walk that follows no links is inside the project: no need to resolve it.
        inside = stat.S_ISREG(st.st_mode) and rel.split("/", 1)[0] not in linked
        problem = "" if inside else _unsafe(Path(path), root)
        if problem:
            errors.append(SiteError(rel, problem, "replace the link with the file itself"))
            continue
        if not stat.S_ISREG(st.st_mode):
            st = os.stat(path)
        if st.st_size > MAX_FILE_BYTES:
            errors.append(SiteError(rel, "file is larger than 50 MB", "split it or remove it"))
            continue
        stamps[rel] = stamp_of(st)
        reuse = previous is not None and old.get(rel) == stamps[rel] and stat.S_ISREG(st.st_mode)
        files[rel] = previous.files[rel] if reuse and previous is not None else _read(path)
    if errors:
        raise BuildFailed(errors)
    return Tree(root, files, last_changed(root), stamps)


def reread(tree: Tree, stamps: dict[str, Stamp]) -> Tree | None:
    """`tree` with only the files whose stamps (as `serve` scanned them) changed read again; None when files
    were added or removed, or a changed one is not a plain file: then the whole tree must be read."""
    if stamps.keys() != tree.stamps.keys() or any(os.path.islink(tree.root / folder) for folder in FOLDERS):
        return None
    files, new_stamps = dict(tree.files), dict(tree.stamps)
    for rel, stamp in stamps.items():
        if stamp == tree.stamps[rel]:
            continue
        path = os.path.join(tree.root, rel)
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                return None
            new_stamps[rel] = stamp_of(st)
            files[rel] = _read(path)
        except OSError:
            return None
    return Tree(tree.root, files, tree.dates, new_stamps)


def input_paths(root: Path) -> Iterator[tuple[str, str]]:
    """Every input file (project-relative path, path) in a stable order; links to folders are not followed."""
    top = str(root)
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(top, folder), followlinks=False):
            rel_dir = dirpath[len(top) + 1 :].replace(os.sep, "/")  # plain string work: pathlib is slow per file
            dirnames[:] = sorted(d for d in dirnames if not skipped(d))
            for d in dirnames:  # a link to a folder is not followed, but it is reported, never silently skipped
                if os.path.islink(os.path.join(dirpath, d)):
                    yield f"{rel_dir}/{d}", os.path.join(dirpath, d)
            for name in sorted(filenames):
                if not skipped(name):
                    yield f"{rel_dir}/{name}", os.path.join(dirpath, name)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


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
