"""The only place that writes the site: refuse dangerous folders, then put the new site in place so that a build
killed at any moment leaves the old site or the new one, never a mixture, once the next build has started.

Two ways, one guarantee:

- **Swap** (a site indexed for search, or a folder that is not yet a site): every file goes into a fresh folder
  beside the output (unchanged files hard-linked from the old site), Pagefind indexes it, and one atomic rename
  exchange puts it in place. A killed build leaves only the fresh folder, which the next build deletes.
- **Journal** (no search index, over a site this engine made): only the files whose bytes changed are written,
  numbered, into a journal folder beside the output; then the plan (which file goes where, which old files go,
  the new marker) is written and renamed into the journal in one step. That rename is the commit: the plan is
  then carried out, file by file, and the journal removed. A build killed before the commit leaves the old site
  (the next start deletes the journal); one killed after it is rolled forward by the next start (every step of the
  plan can be done twice). A one-edit build therefore renames a handful of files instead of relinking the site.
  Which files the old site has comes from its marker (walking 10,000 folders costs more than the whole edit), so a
  file put into the output by hand stays until the next swap.
"""

from __future__ import annotations

import contextlib
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
    files: tuple[str, ...] | None = None  # every file of the site (but the marker); None when not recorded


def _marker(stamp: Stamp, files: Iterable[str]) -> str:
    marker = {"note": _NOTE, "key": stamp.key, "pages": stamp.pages, "warnings": list(stamp.warnings)}
    return json.dumps({**marker, "files": sorted(files)}, separators=(",", ":")) + "\n"


def read_stamp(out: Path) -> Stamp | None:
    """The stamp of the build that made `out`, if site_builder made it."""
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
        warnings = tuple((str(p), str(m), str(h), int(ln), int(c)) for p, m, h, ln, c in data["warnings"])
        files = data.get("files")
        listed = tuple(str(f) for f in files) if isinstance(files, list) else None
        return Stamp(str(data["key"]), int(data["pages"]), warnings, listed)
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


File = tuple[str, bytes | Iterable[bytes] | None]  # a path in the site, and its bytes, its pieces, or None: kept


def write_site(
    files: Iterable[File],
    out: Path,
    project: Path,
    stamp: Stamp = Stamp(),
    search: bool = True,
) -> None:
    """Put the new site at `out`: through a journal, when only the changed files need writing, else by a swap.
    Each file is (path, bytes, or pieces that can be read more than once); (path, None) keeps the old site's file."""
    check_output(out, project)
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    old = None if search else read_stamp(out)
    try:
        if old is not None and old.files is not None:
            _write_journal(files, out, stamp, set(old.files))
        else:
            _write_swapped(files, out, stamp, search)
    except OSError as exc:
        if (_journal(out) / PLAN).is_file():  # committed, not yet carried out: the next build finishes it
            raise BuildFailed(
                [
                    SiteError(
                        str(out),
                        f"could not finish writing the site: {exc.strerror or exc}",
                        "check free disk space and permissions, then build again: the next build completes it",
                    )
                ]
            ) from None
        raise BuildFailed(
            [
                SiteError(
                    str(out),
                    f"could not write the site: {exc.strerror or exc}",
                    "check free disk space and permissions; the previous site is untouched",
                )
            ]
        ) from None


def _write_swapped(files: Iterable[File], out: Path, stamp: Stamp, search: bool) -> None:
    """Write every file into a fresh folder beside `out`, then swap it into place in one step."""
    staging = out.with_name(f".{out.name}.new-{os.getpid()}")
    made: set[str] = set()  # folders already created in the new site
    names: list[str] = []
    old_site = str(out) if out.is_dir() else None  # a first build has nothing to compare with or link from
    try:
        for name, data in files:
            _check_inside(name)
            _put(str(staging), old_site, name, data, made)
            names.append(name)
            del data  # a download can be megabytes: let it go before the next file is made
        (staging / MARKER).write_text(_marker(stamp, names), encoding="utf-8")
        if search:
            _index_search(staging)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove(staging)  # the site that was replaced


def _write_journal(files: Iterable[File], out: Path, stamp: Stamp, previous: set[str]) -> None:
    """Write the changed files into the journal, commit the plan, carry it out (see the module's note)."""
    journal = _journal(out)
    journal.mkdir()
    put: list[tuple[str, str]] = []
    names: set[str] = set()
    try:
        for name, data in files:
            names.add(name)
            if data is None:  # kept: the build has seen that the old site has it (and nothing is written there)
                continue
            _check_inside(name)
            entry = str(len(put))
            old = os.path.join(out, name) if name in previous else None
            if _write_if_changed(journal / entry, data, old):
                put.append((entry, name))
            del data
        (journal / MARKER).write_text(_marker(stamp, names), encoding="utf-8")
        plan = {"delete": sorted(previous - names), "put": put}  # carried out only inside the site (a marker may be edited)
        tmp = journal / f"{PLAN}.tmp"
        tmp.write_text(json.dumps(plan), encoding="utf-8")
        os.replace(tmp, journal / PLAN)  # the commit: from here on the next start finishes this plan
    except BaseException:
        shutil.rmtree(journal, ignore_errors=True)
        raise
    _carry_out(journal, out)


PLAN = "plan.json"


def _journal(out: Path) -> Path:
    return out.with_name(f".{out.name}.journal")


def _carry_out(journal: Path, out: Path) -> None:
    """Do a committed plan: only renames and deletions, any of which a killed build may already have done."""
    plan = json.loads((journal / PLAN).read_text(encoding="utf-8"))
    for name in plan["delete"]:
        if not _inside(name):  # a plan changed by hand: nothing outside the site is touched
            continue
        target = out / name
        if target.is_file() or target.is_symlink():
            target.unlink()
        _prune(target.parent, out)
    made: set[Path] = set()
    for entry, name in plan["put"]:
        if not (str(entry).isdigit() and _inside(name)):  # not a plan this module wrote
            continue
        source, target = journal / entry, out / name
        if not source.exists():
            continue  # done before the kill
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(source, target)
    if (journal / MARKER).exists():
        os.replace(journal / MARKER, out / MARKER)  # last: until now the marker was the old site's
    shutil.rmtree(journal)


def _prune(folder: Path, out: Path) -> None:
    """Remove folders left empty by deleted files, up to (not including) `out`."""
    while folder != out and folder.is_relative_to(out):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _check_inside(name: str) -> None:
    if not _inside(name):  # nothing in content can name such a path; refuse rather than write outside
        raise BuildFailed([SiteError(name, "refusing to write outside the output folder", "this is a bug in site_builder")])


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


def _put(new_site: str, old_site: str | None, name: str, data: bytes | Iterable[bytes] | None, made: set[str]) -> None:
    """Write one file into the new site; a file the previous site (if any) already holds (data None, or the
    same bytes) is hard-linked from it instead, so what did not change is not rewritten."""
    target = os.path.join(new_site, name)
    folder = os.path.dirname(target)
    if folder not in made:
        try:  # one system call for a page's folder, whose parent is most often there already
            os.mkdir(folder)
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:
            pass
        made.add(folder)
    previous = os.path.join(old_site, name) if old_site is not None else None
    if data is not None and _write_if_changed(target, data, previous):
        return
    if previous is None:  # kept from a previous site that is gone (removed while this build ran)
        raise FileNotFoundError(f"{name} is not in the previous site")
    try:  # kept, or the same bytes: the old file, linked
        os.link(previous, target)
    except OSError:  # another file system, say: copied (its bytes are the file's either way)
        shutil.copyfile(previous, target)


def _write_if_changed(entry: Path | str, data: bytes | Iterable[bytes], old: str | None) -> bool:
    """Write `data` at `entry` (a journal entry, a file of the new site) unless the old site's file `old` holds the
    same bytes; whether it was written. Pieces are compared as they are written: a download made as it is written
    is made once, not twice."""
    if isinstance(data, bytes):
        if old is not None and _same_bytes(old, data):
            return False
        with open(entry, "wb") as f:
            f.write(data)
        return True
    with contextlib.ExitStack() as stack:
        before = stack.enter_context(open(old, "rb")) if old is not None and os.path.isfile(old) else None
        same = before is not None
        with open(entry, "wb") as f:
            for piece in data:
                f.write(piece)
                same = same and before is not None and before.read(len(piece)) == piece
        same = same and before is not None and before.read(1) == b""
    if same:
        os.unlink(entry)
    return not same


def _same_bytes(path: str, data: bytes) -> bool:
    """Whether the file holds `data`: read a megabyte at a time, up to the first difference (a download that
    changed in one record's piece is told apart without reading all of it)."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size != len(data):
                return False
            return all(f.read(_PIECE) == data[start : start + _PIECE] for start in range(0, len(data), _PIECE))
    except OSError:
        return False


_PIECE = 1 << 20


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
    _sort_languages(folder / "pagefind" / "pagefind-entry.json")


def _sort_languages(entry: Path) -> None:
    """Pagefind lists a site's languages in its entry file in the order of a hash map, which changes from run to
    run: sorted, the same site gives the same bytes (and its fallback language, between languages with as many
    pages, is always the same)."""
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        languages = data["languages"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # not the file this Pagefind writes: left as it is
    if isinstance(languages, dict):
        data["languages"] = dict(sorted(languages.items()))
        entry.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _swap(new: Path, out: Path) -> None:
    """Put `new` at `out`; afterwards the old site (if any) is at `new`, to be deleted."""
    if not out.exists():
        os.rename(new, out)
        return
    import ctypes  # here: only a full build swaps folders

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


def recover(out: Path) -> None:
    """Finish or undo what a killed build left beside `out`: a committed journal is carried out, an uncommitted one
    and staging folders are deleted, and a site moved aside between two renames is moved back."""
    journal = _journal(out)
    if journal.is_dir():
        if (journal / PLAN).is_file():
            _carry_out(journal, out)
        else:
            shutil.rmtree(journal, ignore_errors=True)
    for p in out.parent.glob(f".{out.name}.new-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in out.parent.glob(f".{out.name}.old-*"):
        if not out.exists():
            os.rename(p, out)  # a build died between its two renames: the old site comes back
        else:
            shutil.rmtree(p, ignore_errors=True)
