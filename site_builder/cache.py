"""Know when a build would change nothing: a key over every input's content hash, kept in .site-builder-cache/.

Like git's index, the manifest maps each file (by its path on disk) and its (size, mtime) to its content hash, so
an unchanged project is recognised from `stat` alone and only changed files are read again. The key also covers
the theme's files, the engine's code, the build options and the git commit (page dates come from history).
Deleting the folder is always safe.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from . import __version__
from .theme import theme_files
from .tree import input_paths, layout

CACHE_DIR = ".site-builder-cache"
MANIFEST = "manifest.json"


@functools.cache
def engine_digest() -> str:
    """A hash of site_builder's own code and label catalogs: a changed engine never reuses what an older one made."""
    return package_digest(Path(__file__).parent)


def package_digest(package: Path) -> str:
    """A hash of a package folder's code (*.py) and its label catalogs (locale/**/*.po, *.pot)."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(package.glob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    h.update(catalogs_digest(package / "locale").encode())
    return h.hexdigest()


def catalogs_digest(locales: Path) -> str:
    """A hash of a folder of label catalogs (*.po, *.pot): a changed label is a changed page."""
    h = hashlib.sha256()
    for path in sorted(locales.rglob("*.po*")):
        h.update(path.relative_to(locales).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def build_key(project: Path, options: dict[str, object], content: Path | None = None) -> str:
    """A hash of everything a build reads: file contents (the theme's too), engine version, options and the git commit."""
    where = layout(project, content)
    cache = where.root / CACHE_DIR
    old: dict[str, list[object]] = _load(cache / MANIFEST)
    manifest: dict[str, list[object]] = {}
    digest = hashlib.sha256(json.dumps([engine_digest(), options, _git_head(where.root)], sort_keys=True).encode())
    if where.theme is None:  # a theme that is not on disk (a zipped install) has no stamps: hash its bytes
        for rel, data in sorted(theme_files().items()):
            digest.update(f"{rel}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    for rel, path in input_paths(where):  # a theme file, then the project's own of the same name, if any
        stat = os.lstat(path)
        size, mtime = stat.st_size, stat.st_mtime_ns
        entry = old.get(path)
        if entry and entry[0] == size and entry[1] == mtime:
            content_hash = str(entry[2])
        elif os.path.isfile(path):
            content_hash = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        else:  # a link to a folder, say: the build reports it; here its target is what counts
            content_hash = hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()
        manifest[path] = [size, mtime, content_hash]
        digest.update(f"{rel}\0{content_hash}\n".encode())
    if manifest != old:
        _save(cache, manifest)
    return digest.hexdigest()


def _git_head(project: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save(cache: Path, manifest: dict[str, list[object]]) -> None:
    """Write the manifest atomically; a cache that cannot be written only costs speed."""
    try:
        cache.mkdir(exist_ok=True)
        (cache / ".gitignore").write_text("*\n")
        tmp = cache / f"{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        os.replace(tmp, cache / MANIFEST)
    except OSError:
        pass


PAGES = "pages.json"


def previous_fingerprints(project: Path, output_key: str | None) -> dict[str, str]:
    """The page fingerprints of the build that made the current output (none if the output is another's)."""
    data = _load(project / CACHE_DIR / PAGES)
    if not output_key or data.get("key") != output_key:
        return {}
    pages = data.get("pages")
    return pages if isinstance(pages, dict) else {}


def save_fingerprints(project: Path, key: str, fingerprints: dict[str, str]) -> None:
    """Remember which inputs made each page of the output just written."""
    try:
        cache = project / CACHE_DIR
        cache.mkdir(exist_ok=True)
        tmp = cache / f"{PAGES}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"key": key, "pages": fingerprints}, sort_keys=True), encoding="utf-8")
        os.replace(tmp, cache / PAGES)
    except OSError:
        pass
