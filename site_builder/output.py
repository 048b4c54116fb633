"""The only place that writes the site: refuse dangerous folders, then swap the new site in atomically."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildFailed, SiteError

MARKER = ".site-builder"
_NOTE = "This folder is made by site_builder; it is replaced on every build."


@dataclass(frozen=True)
class Stamp:
    """What the marker file records about the build that made the folder."""

    key: str = ""
    pages: int = 0
    warnings: tuple[tuple[str, str, str, int, int], ...] = ()  # (path, message, hint, line, col)


def read_stamp(out: Path) -> Stamp | None:
    """The stamp of the build that made `out`, if site_builder made it."""
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
        warnings = tuple((str(p), str(m), str(h), int(ln), int(c)) for p, m, h, ln, c in data["warnings"])
        return Stamp(str(data["key"]), int(data["pages"]), warnings)
    except (OSError, ValueError, KeyError, TypeError):
        return None


_RENAME_EXCHANGE = 2


def check_output(out: Path, project: Path) -> None:
    """Refuse to replace a folder that site_builder did not make or that holds the project."""
    problem = unsafe_output(out, project)
    if problem:
        raise BuildFailed([SiteError(str(out), f"refusing to write the site here: {problem}", "choose another --out folder")])


def unsafe_output(out: Path, project: Path) -> str:
    """Why `out` must not be replaced by a build, or ''."""
    absolute = Path(os.path.abspath(out))
    if any(p.is_symlink() for p in (absolute, *absolute.parents)):
        return "the path goes through a symbolic link"
    real, root = absolute.resolve(), project.resolve()
    protected = {Path("/"), Path.home().resolve(), root, *(root / d for d in ("content", "templates", "static", ".git"))}
    for place in protected:
        if real == place or place.is_relative_to(real):
            return f"it is {'or contains ' if real != place else ''}{place}"
    if real.is_relative_to(root / "content") or real.is_relative_to(root / "templates") or real.is_relative_to(root / "static"):
        return "it is inside the project's sources"
    if real.exists() and not real.is_dir():
        return "it is a file"
    blocked = next((p for p in real.parents if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        return f"{blocked} is a file, not a folder"
    if real.is_dir() and any(real.iterdir()) and not (real / MARKER).is_file():
        return "it is a folder with other files in it (no site_builder marker)"
    return ""


def write_site(
    files: Iterable[tuple[str, bytes | list[bytes] | None]], out: Path, project: Path, stamp: Stamp = Stamp(), search: bool = True
) -> None:
    """Write every file into a fresh folder beside `out`, then swap it into place in one step."""
    check_output(out, project)
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out)
    staging = out.with_name(f".{out.name}.new-{os.getpid()}")
    made: set[str] = set()  # folders already created in the new site
    try:
        for name, data in files:
            if not _inside(name):  # nothing in content can name such a path; refuse rather than write outside
                raise BuildFailed(
                    [SiteError(name, "refusing to write outside the output folder", "this is a bug in site_builder")]
                )
            _put(str(staging), str(out), name, data, made)
            del data  # a download can be megabytes: let it go before the next file is made
        marker = {"note": _NOTE, "key": stamp.key, "pages": stamp.pages, "warnings": list(stamp.warnings)}
        (staging / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        if search:
            _index_search(staging)
        _swap(staging, out)
    except BuildFailed:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildFailed(
            [
                SiteError(
                    str(out),
                    f"could not write the site: {exc.strerror or exc}",
                    "check free disk space and permissions; the previous site is untouched",
                )
            ]
        ) from None
    _remove(staging)  # the site that was replaced


def _remove(folder: Path) -> None:
    """Delete a folder tree; `rm -r` does it several times faster than Python for a site of many small files."""
    rm = shutil.which("rm")
    if rm is not None and os.name == "posix":
        subprocess.run([rm, "-rf", "--", str(folder)], check=False, capture_output=True)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


def _inside(name: str) -> bool:
    """A relative path that stays inside the folder it is written to."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "" not in parts[:-1]


def _put(new_site: str, old_site: str, name: str, data: bytes | list[bytes] | None, made: set[str]) -> None:
    """Write one file into the new site; a file the previous site already holds (data None, or the
    same bytes) is hard-linked from it instead, so what did not change is not rewritten."""
    target, previous = os.path.join(new_site, name), os.path.join(old_site, name)
    folder = os.path.dirname(target)
    if folder not in made:
        os.makedirs(folder, exist_ok=True)
        made.add(folder)
    if data is None or _same_bytes(previous, data):
        try:
            os.link(previous, target)
            return
        except OSError:
            if data is None:
                data = Path(previous).read_bytes()
    with open(target, "wb") as f:
        f.writelines([data] if isinstance(data, bytes) else data)


def _same_bytes(path: str, data: bytes | list[bytes]) -> bool:
    pieces = [data] if isinstance(data, bytes) else data
    try:
        with open(path, "rb") as f:
            return os.fstat(f.fileno()).st_size == sum(map(len, pieces)) and all(f.read(len(p)) == p for p in pieces)
    except OSError:
        return False


def _index_search(folder: Path) -> None:
    """Build the Pagefind search index inside the new site, before it goes live."""
    proc = subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(folder), "--silent"], capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BuildFailed(
            [
                SiteError(
                    str(folder),
                    f"the search index could not be built: {detail[0]}",
                    "install it with: pip install 'pagefind[bin]'",
                )
            ]
        )


def _swap(new: Path, out: Path) -> None:
    """Put `new` at `out`; afterwards the old site (if any) is at `new`, to be deleted."""
    if not out.exists():
        os.rename(new, out)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_fdcwd = -100
        if renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(out), _RENAME_EXCHANGE) == 0:
            return
        if ctypes.get_errno() not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    # No atomic exchange here: two renames, with a short moment where `out` is missing.
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)
    os.rename(new, out)
    os.rename(old, new)


def remove_leftovers(out: Path) -> None:
    """Delete staging folders that a killed build left beside `out`."""
    for p in out.parent.glob(f".{out.name}.new-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in out.parent.glob(f".{out.name}.old-*"):
        if not out.exists():
            os.rename(p, out)  # a build died between its two renames: the old site comes back
        else:
            shutil.rmtree(p, ignore_errors=True)
