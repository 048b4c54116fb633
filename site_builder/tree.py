"""The only place that reads the project: content, templates and static files as bytes (the theme's under the
project's own)."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BuildFailed, SiteError
from .history import last_changed
from .theme import theme_folder

FOLDERS = ("content", "templates", "static")
THEMED = ("templates", "static")  # folders the theme provides and a project may override
MAX_FILE_BYTES = 50 * 1024 * 1024
_SKIP = {".git", "__pycache__", ".DS_Store", "node_modules"}
Stamp = tuple[int, int, int, int]  # mtime and ctime in ns, size, inode
BROKEN: Stamp = (0, 0, -1, 0)  # a link that leads nowhere


def stamp_of(st: os.stat_result) -> Stamp:
    """What `stat` says of a file, enough to tell that it changed."""
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


@dataclass(frozen=True)
class Layout:
    """Where a project's inputs are on disk. Tree keys stay logical ('content/site.yaml', 'templates/base.html'):
    content/ is the content folder wherever it is; templates/ and static/ are the project's own, beside the content
    folder, laid file by file over the default theme's."""

    root: Path  # the project: the content folder's parent, which may hold templates/ and static/ (and the cache)
    content: Path
    theme: Path | None = None  # the folder holding the theme's templates/ and static/, when it is on disk

    def folders(self) -> list[tuple[str, str]]:
        """(folder as the tree names it, folder on disk), in reading order: a later folder's file wins."""
        return [*self._theme(), ("content", str(self.content)), *((f, os.path.join(self.root, f)) for f in THEMED)]

    def themed(self) -> frozenset[str]:
        """The theme's folders on disk (engine files: read as they are, never refused as links)."""
        return frozenset(top for _, top in self._theme())

    def _theme(self) -> list[tuple[str, str]]:
        if self.theme is None or self.theme == self.root:  # a site_builder checkout: its own folders are the theme
            return []
        return [(f, os.path.join(self.theme, f)) for f in THEMED]

    def locate(self, rel: str) -> str:
        """Where the file the tree calls `rel` is on disk: for templates/ and static/, the project's own, else the theme's."""
        folder, _, rest = rel.partition("/")
        if folder == "content":
            return os.path.join(self.content, rest)
        own = os.path.join(self.root, rel)
        if self.theme is None or os.path.lexists(own):
            return own
        theirs = os.path.join(self.theme, rel)
        return theirs if os.path.lexists(theirs) else own


def layout(root: Path | Layout, content: Path | None = None) -> Layout:
    """The layout of the project at `root`: its content/ folder, or the folder `content` names."""
    if isinstance(root, Layout):
        return root
    root = root.resolve()
    return Layout(root, real_folder(content or root / "content"), theme_folder())


def real_folder(path: Path) -> Path:
    """`path` made absolute through real folders, but itself kept as it is: a content folder that is a link is
    read as a link (and refused when it leads outside the project)."""
    path = Path(os.path.abspath(path))
    return path.parent.resolve() / path.name


def shown(path: str, content: Path) -> str:
    """A tree path as the user should see it: 'content/…' named after the content folder they gave (`content`,
    as given on the command line) when that folder is not called content."""
    if not (path == "content" or path.startswith("content/")) or Path(os.path.abspath(content)).name == "content":
        return path
    return content.as_posix().rstrip("/") + path.removeprefix("content")


def relabel(errors: Iterable[SiteError], content: Path) -> list[SiteError]:
    """The errors with their paths `shown` as the user named the content folder."""
    return [dataclasses.replace(e, path=shown(e.path, content)) for e in errors]


@dataclass(frozen=True)
class Tree:
    """Every input file, keyed by its logical path ('content/site.yaml', 'templates/base.html')."""

    layout: Layout
    files: dict[str, bytes]
    dates: dict[str, str] = field(default_factory=dict)  # 'content/…' → last commit date (YYYY-MM-DD)
    stamps: dict[str, Stamp] = field(default_factory=dict, compare=False)  # file → what `stat` said when read

    @property
    def root(self) -> Path:
        return self.layout.root

    def under(self, folder: str) -> dict[str, bytes]:
        """The files below `folder/`, keyed by their path inside it."""
        prefix = folder.rstrip("/") + "/"
        return {k[len(prefix) :]: v for k, v in self.files.items() if k.startswith(prefix)}


def read_tree(
    root: Path | Layout,
    previous: Tree | None = None,
    content: Path | None = None,
    listing: Listing | None = None,
    read: dict[str, bytes] | None = None,
) -> Tree:
    """Read every input file of the project at `root` (its content from `content`, if given), with the theme's
    templates and static files under the project's own; refuse links that lead outside the project. A file
    whose `stat` is what it was when `previous` read it is taken from `previous` (what `serve` does between saves).
    `listing` is the files as `list_inputs` found them a moment ago (the build key's walk), else they are found;
    `read` holds the bytes of files the build key has just read (by path): they are taken from there, not read again."""
    where = layout(root, content)
    files: dict[str, bytes] = {}
    stamps: dict[str, Stamp] = {}
    errors: list[SiteError] = []
    old = previous.stamps if previous is not None and previous.layout == where else {}
    themed = where.themed()
    linked = {top for _, top in where.folders() if os.path.islink(top)}  # the walk does enter these
    for rel, path, top, st in listing if listing is not None else _sources(where):
        # A regular file found by a walk that follows no links is inside the project: no need to resolve it.
        inside = top in themed or (stat.S_ISREG(st.st_mode) and top not in linked)
        problem = "" if inside else _unsafe(Path(path), where.root)
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
        if reuse and previous is not None:
            files[rel] = previous.files[rel]
        else:
            files[rel] = read.pop(path) if read is not None and path in read else read_file(path, st.st_size)
    if errors:
        raise BuildFailed(errors)
    return Tree(where, files, last_changed(where.root, os.path.relpath(where.content, where.root)), stamps)


def reread(tree: Tree, stamps: dict[str, Stamp]) -> Tree | None:
    """`tree` with only the files whose stamps (as `serve` scanned them) changed read again; None when files
    were added or removed, or a changed one is not a plain file: then the whole tree must be read."""
    where = tree.layout
    if stamps.keys() != tree.stamps.keys() or any(os.path.islink(top) for _, top in where.folders()):
        return None
    # The new tree keeps the scan's own stamps, which `serve` keeps from one save to the next: comparing a stamp
    # with itself is a look at its address, and comparing 20,000 equal ones was 15-20 ms of a 40 ms rebuild.
    files, new_stamps, old = dict(tree.files), dict(stamps), tree.stamps
    for rel, stamp in stamps.items():
        if stamp is old[rel] or stamp == old[rel]:
            continue
        found = _read_plain(where, rel)
        if found is None:
            return None
        new_stamps[rel], files[rel] = stamp_of(found[0]), found[1]
    return Tree(where, files, tree.dates, new_stamps)


def read_one(where: Layout, rel: str) -> bytes | None:
    """One input file's bytes, when it is a plain file that reading the whole tree would take as it is; else None."""
    found = _read_plain(where, rel)
    return found[1] if found is not None else None


def _read_plain(where: Layout, rel: str) -> tuple[os.stat_result, bytes] | None:
    """An input file's `lstat` and bytes, when it is a plain file of at most MAX_FILE_BYTES; else None."""
    path = where.locate(rel)
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None
        return st, read_file(path, st.st_size)
    except OSError:
        return None


def input_paths(root: Path | Layout, listing: Listing | None = None) -> Iterator[tuple[str, str, os.stat_result]]:
    """Every input file (logical path, path on disk, its `lstat`) in a stable order, the theme's before the
    project's (so a logical path may come twice: the later one is read); links to folders are not followed."""
    for rel, path, _, st in listing if listing is not None else _sources(layout(root)):
        yield rel, path, st


Listing = list[tuple[str, str, str, os.stat_result]]  # (logical path, path on disk, top folder on disk, `lstat`)


def list_inputs(where: Layout) -> Listing:
    """Every input file, found once for a build: its key and its reading of the tree walk the folders once."""
    return list(_sources(where))


def _sources(where: Layout) -> Iterator[tuple[str, str, str, os.stat_result]]:
    """(logical path, path on disk, top folder on disk, its `lstat`) of every input file, in reading order."""
    for name, top in where.folders():
        yield from ((rel, path, top, st) for rel, path, st in _walk(top, name))


def _walk(folder: str, rel: str) -> Iterator[tuple[str, str, os.stat_result]]:
    """A folder's files by name, then its folders' (as os.walk, top down, without following links, but with the
    `lstat` the directory listing gives: plain string work, pathlib is slow per file at 20,000 files)."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted((e for e in listing if not skipped(e.name)), key=lambda e: e.name)
    except OSError:  # gone, or not a folder: os.walk skips it too
        return
    folders: list[os.DirEntry[str]] = []
    files: list[os.DirEntry[str]] = []
    for entry in entries:
        (folders if _is_folder(entry) else files).append(entry)
    for entry in [*(f for f in folders if f.is_symlink()), *files]:  # a link to a folder is reported, not followed
        yield f"{rel}/{entry.name}", entry.path, entry.stat(follow_symlinks=False)
    for entry in folders:
        if not entry.is_symlink():
            yield from _walk(entry.path, f"{rel}/{entry.name}")


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # through a link, as os.walk sorts them
    except OSError:
        return False


def read_file(path: str, size: int = 0) -> bytes:
    """A file's bytes with the fewest system calls: one read when `size` (from its stat) is right, not the open,
    stat and two reads of `open().read()`, nor pathlib's making of a path (a cold build reads 20,000 files: 0.44 s
    with `Path.read_bytes`, 0.15 s so)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        data = os.read(fd, size + 1)  # one byte more: a short read means the end
        if len(data) <= size:
            return data
        chunks = [data]  # larger than its stat said (it grew): read on to the end
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


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
