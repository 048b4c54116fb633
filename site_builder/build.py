"""The build, top to bottom: read → validate → resolve references → plan pages → render → write."""

from __future__ import annotations

import contextlib
import functools
import gc
import marshal
import os
import time
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import record_edits
from .cache import (
    Fingerprints,
    Key,
    NoteWriter,
    Pages,
    PieceStore,
    build_key,
    load_parsed,
    previous_pages,
    save_pages,
    save_parsed,
)
from .collation import release as release_collation
from .content import Content, DamagedCache, parse_content
from .downloads import Data, joined
from .errors import BuildFailed, SiteError
from .fingerprint import fingerprints as make_fingerprints
from .output import Stamp, check_output, read_stamp, recover, write_site
from .pages import Page, plan_pages
from .parallel import default_workers, give_back_memory
from .prose_edits import State, rebuild_prose
from .record_edits import Snapshot, takes
from .render import compiled, extra_files, render_pages
from .resolve import Site, resolve
from .splice import Woven, splice
from .translations import localise, read_translations, stale
from .tree import Layout, Listing, Tree, layout, list_inputs, read_tree
from .urls import Urls, output_file


@dataclass(frozen=True)
class Result:
    """What a build made: its files (path → bytes; empty when written straight to disk), warnings, and time."""

    files: dict[str, bytes]
    pages: int
    warnings: list[SiteError]
    seconds: float
    unchanged: bool = False  # the output was already built from these inputs
    rendered: int = -1  # pages rendered (the others were unchanged and kept); -1 when not counted
    fingerprints: dict[str, str] = field(default_factory=dict)  # output file -> hash of what its page reads
    state: State | None = None  # what an in-memory build was made from, for the next one
    quick: str = ""  # made by a quick path: 'prose' (splice.py) or 'records' (record_edits.py)


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Run the cycle collector rarely while building. A build makes millions of objects that live until it ends,
    and the collector's default pace walks them all again and again: 0.6 s of a 2.2 s one-edit build at 10,000
    records. Garbage without cycles is freed as always; the usual pace comes back afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@few_collections()
def build(
    project: Path,
    out: Path,
    base_url: str | None = None,
    strict: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    search: bool = True,
    content_dir: Path | None = None,
) -> Result:
    """Build the project's site (its content from `content_dir`, if given) into `out`; raise `BuildFailed` and leave
    `out` untouched on any error."""
    started = time.perf_counter()
    check_output(out, project)
    recover(out)  # first, even when nothing changed: what a killed build left is finished or undone
    options: dict[str, object] = {"base_url": base_url, "strict": strict, "search": search}
    where = layout(project, content_dir)
    listing = list_inputs(where)  # walked once: for the key, then to read the tree
    read: dict[str, bytes] = {}  # files the key had to read (all of them in a cold build): not read twice
    key = build_key(where, options, listing=listing, read=read)
    stamp = read_stamp(out)
    if stamp is not None and stamp.key == key.value:
        return Result({}, stamp.pages, [SiteError(*w) for w in stamp.warnings], time.perf_counter() - started, unchanged=True)
    built = stamp.key if stamp else None  # the key of the build that made the output
    previous = previous_pages(project, built)
    if stamp is not None and not search:  # the quick paths: only prose changed, or only a few records
        quick = splice_prose(project, where, out, key, stamp, previous)
        quick = quick or edit_records(project, where, out, key, stamp, previous, listing, base_url)
        if quick is not None:
            return replace(quick, seconds=time.perf_counter() - started)
    hashes = marshal.dumps({**key.facts, **key.prose}) if not search else b""  # for the snapshot, as one object
    key = replace(key, prose={}, facts={})  # their 20,000 hashes are not needed again: let go before workers fork
    tree = read_tree(where, listing=listing, read=read)
    del listing, read
    workers = default_workers() if workers is None else workers
    content, problems = validate(tree, base_url, workers, project)
    sites, warnings = resolve_references(content, problems, strict)
    pages = plan_pages(sites)
    fingerprints = functools.cache(lambda: make_fingerprints(sites, pages, tree, options, previous.fingerprints))
    unchanged = same_pages(fingerprints, previous.fingerprints.files, out)  # made here only if pages may be kept
    woven = None if search else Woven(project, key.value)  # how record pages weave in prose, for a quick next build
    pieces = PieceStore(project)  # each record's part of the downloads, kept between builds
    files = render(sites, pages, tree, workers, unchanged, progress, woven, pieces, compiled(project), meanwhile=fingerprints)
    stamp = Stamp(key.value, len(pages), tuple((w.path, w.message, w.hint, w.line, w.col) for w in warnings))
    write_site(files, out, project, stamp, search=search)
    # The snapshot for a quick next fact edit, made once the workers are gone: they fork 12 MB smaller.
    snapshot = Snapshot(project, sites, key, hashes) if takes(sites, search) else None
    keep_for_next_build(project, key, fingerprints(), woven, built, unchanged, tree, pieces, snapshot)
    return Result({}, len(pages), warnings, time.perf_counter() - started, rendered=_rendered(pages, unchanged))


def keep_for_next_build(
    project: Path,
    key: Key,
    fingerprints: Fingerprints,
    woven: Woven | None,
    built: str | None,
    kept: Set[str],
    tree: Tree,
    pieces: PieceStore,
    snapshot: Snapshot | None,
) -> None:
    """Page fingerprints, each record's download piece, and (without a search index) the notes of how record
    pages weave in their prose, made now or kept from the build `built` with the pages `kept`, and the snapshot of
    what the site knows of each record (record_edits.py)."""
    give_back_memory()  # what the downloads freed: saving adds a few MB, best not on top of it
    pieces.save()
    if snapshot is not None:
        snapshot.commit()
    shared = woven.everything_shared() if woven else b""
    save_pages(project, key.value, Pages(fingerprints, key.rest, shared, key.value if snapshot is not None else ""))
    if woven is not None:
        woven.finish(project, built, kept, tree.files)


def splice_prose(project: Path, where: Layout, out: Path, key: Key, stamp: Stamp, previous: Pages) -> Result | None:
    """The quick path when only record prose changed (splice.py): those pages made anew and written; else None."""
    spliced = splice(project, where, out, key, previous, stamp.key)
    if spliced is None or stamp.files is None:
        return None
    files, fingerprints, notes = spliced
    kept = ((f, None) for f in stamp.files if f not in files)
    write_site([*files.items(), *kept], out, project, replace(stamp, key=key.value), search=False)
    save_pages(project, key.value, replace(previous, fingerprints=fingerprints))
    writer = NoteWriter(project, key.value)
    writer.add_blobs(notes)
    writer.commit()
    return Result({}, stamp.pages, [SiteError(*w) for w in stamp.warnings], 0.0, rendered=len(files), quick="prose")


def edit_records(
    project: Path, where: Layout, out: Path, key: Key, stamp: Stamp, previous: Pages, listing: Listing, base_url: str | None
) -> Result | None:
    """The quick path when only a few records' files changed (record_edits.py): their pages, index pages and
    downloads made anew and written; else None."""
    try:
        rebuilt = record_edits.rebuild(project, where, out, key, stamp, previous, listing, base_url)
    except DamagedCache:  # the full build parses the file again
        return None
    if rebuilt is None:
        return None
    kept = ((f, None) for f in stamp.files or () if f in rebuilt.kept)  # in the marker's order, already sorted
    write_site([*rebuilt.files.items(), *kept], out, project, replace(stamp, key=key.value), search=False)
    record_edits.keep(project, rebuilt, key.value, stamp.key)
    pages = sum(f.endswith(".html") for f in rebuilt.files)
    return Result({}, stamp.pages, [SiteError(*w) for w in stamp.warnings], 0.0, rendered=pages, quick="records")


def same_pages(fingerprints: Callable[[], Fingerprints], previous: dict[str, str], out: Path) -> frozenset[str]:
    """Pages whose inputs are those of the page already in `out`: they are kept, not rendered again. The
    fingerprints are made here only when an earlier build left some; a first build makes them while its workers
    render (parallel.map_ordered's `meanwhile`), so that no core waits the second they take at 10,000 records."""
    if not previous:
        return frozenset()
    folder = os.fspath(out)  # os.path, not pathlib: 20,000 files at 10,000 records
    return frozenset(
        f for f, fp in fingerprints().files.items() if previous.get(f) == fp and os.path.isfile(os.path.join(folder, f))
    )


@few_collections()
def build_files(
    tree: Tree, base_url: str | None = None, strict: bool = False, workers: int = 1, previous: Result | None = None
) -> Result:
    """The same build, kept in memory; what did not change since `previous` is taken from it."""
    started = time.perf_counter()
    if previous is not None and previous.state is not None:
        quick = rebuild_prose(previous.state, tree, (base_url, strict))
        if quick is not None:
            state, redone = quick
            files = {**previous.files, **redone}
            fingerprints = {**previous.fingerprints, **dict.fromkeys(redone, "")}  # "": render again next full build
            seconds = time.perf_counter() - started
            return Result(
                files, previous.pages, previous.warnings, seconds, rendered=len(redone), fingerprints=fingerprints, state=state
            )
    content, problems = validate(tree, base_url, workers)
    sites, warnings = resolve_references(content, problems, strict, keep_scans=True)  # parsed records outlive a build
    pages = plan_pages(sites)
    last = previous.state if previous is not None else None  # what the previous build was made from
    made = make_fingerprints(sites, pages, tree, {"base_url": base_url, "strict": strict}, last.fingerprints if last else None)
    fingerprints = made.files
    old = previous.fingerprints if previous else {}
    kept = frozenset(f for f, fp in fingerprints.items() if old.get(f) == fp and previous and f in previous.files)
    known = last.pieces if last else {}
    pieces = PieceStore(entries=known)  # each record's part of the downloads, kept in memory between builds
    files = {
        name: joined(data) if data is not None else previous.files[name]  # type: ignore[union-attr]
        for name, data in render(sites, pages, tree, workers, kept, pieces=pieces)
    }
    seconds = time.perf_counter() - started
    state = State(tree, sites[0], pages, (base_url, strict), pieces.kept if pieces.complete else known, made)
    return Result(files, len(pages), warnings, seconds, rendered=_rendered(pages, kept), fingerprints=fingerprints, state=state)


def _rendered(pages: list[Page], kept: frozenset[str]) -> int:
    return sum(output_file(p.path) not in kept for p in pages)


def validate(tree: Tree, base_url: str | None, workers: int = 1, project: Path | None = None) -> tuple[Content, list[SiteError]]:
    """Parse and check every content file; stop only when the site's settings are unusable. With `project`, files
    parsed by an earlier build are taken from its cache, which is then brought up to date (here, so that what it
    holds is let go before pages are made)."""
    parsed = load_parsed(project) if project is not None else None
    content, errors = parse_content(tree, base_url, workers, parsed)
    if project is not None and parsed is not None:
        save_parsed(project, parsed)
    release_collation()  # its table is only needed to parse sources and glossary
    if content is None:
        raise BuildFailed(errors)
    return content, errors


def resolve_references(
    content: Content, problems: list[SiteError], strict: bool, keep_scans: bool = False
) -> tuple[list[Site], list[SiteError]]:
    """Resolve addresses and source ids in every edition; raise with these and earlier problems (and warnings, if
    strict). Missing translations are warnings; --strict makes them errors only for a language marked complete."""
    site, errors, warnings = resolve(content, keep_scans=keep_scans)
    sites, notes = [site], list[SiteError]()
    for translation in read_translations(content.translated_files, content.config, problems):
        missing: list[SiteError] = []
        local = localise(content, translation, problems, missing)
        edition, found, _ = resolve(local, like=site)  # an unused source is the first edition's warning, said once
        sites.append(edition)
        errors += found
        (warnings if translation.language.complete else notes).extend(missing + stale(content, local, translation))
    if problems or errors or (strict and warnings):
        raise BuildFailed(problems + errors + (warnings if strict else []))
    return sites, warnings + notes


def render(
    sites: list[Site],
    pages: list[Page],
    tree: Tree,
    workers: int,
    unchanged: frozenset[str] = frozenset(),
    progress: Callable[[int, int], None] | None = None,
    woven: Woven | None = None,
    pieces: PieceStore | None = None,
    templates: Path | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Iterator[tuple[str, Data | None]]:
    """Every output file as (path, bytes), lazily and in order; (path, None) for an unchanged file to keep. With
    `woven`, how each record page rendered weaves in its prose is noted there; downloads are made from the records'
    `pieces` an earlier build kept, where they are the same; compiled templates are kept in `templates`; this
    process does `meanwhile` while the workers render (parallel.map_ordered)."""
    urls = Urls(sites[0].content.config.base_url)
    todo = [p for p in pages if output_file(p.path) not in unchanged]
    done = 0
    for site in sites:
        mine = [p for p in todo if p.language == site.language.prefix]
        first, meanwhile = meanwhile, None  # done once, while the first edition's pages are made
        for item in render_pages(site, mine, tree.under("templates"), urls, workers, woven, compiled=templates, meanwhile=first):
            done += 1
            if progress:
                progress(done, len(todo))
            yield item
    yield from ((name, None) for name in sorted(unchanged))
    give_back_memory()  # what rendering freed, before the downloads are made
    yield from extra_files(sites, pages, urls, tree.under("static"), unchanged, pieces)
