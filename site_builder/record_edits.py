"""A fresh build's quick path for an edit to a few records (a fact changed, most often): their pages, the index
pages that list them and the downloads that hold them are made again, and nothing else is read, checked or resolved.

A full build without a search index, in one language, leaves a snapshot of what the rest of the site knows of each
record (`snapshot`): every address's path and title, every link between pages, each collection's index order, the
pages' dates, and each record's *face*, a hash of all that other pages and files read of it:

- its path and title (every link to it), its summary (the feed), its `updated:` value (its date and its index's),
  the value its index is sorted by (which page lists it), what it links to and through which field (backlinks),
  and the sources it cites (the bibliography's "cited by");

and its *row*, a hash of what its line on its index page shows (title, summary, each column's value and facts):
an edit that keeps it leaves the index page as it was, which is then neither read nor made again.

The next build takes this path (`rebuild`) only when it gives the bytes a full build would:

- nothing but records' fact files and Markdown differs from the snapshot's build: every other input, the engine,
  the options and the git commit hash to what they did (`Key.base`); no record came or went;
- each record whose files differ from the snapshot's (and each this path made pages for since, which may have been
  edited back) parses and resolves without a problem, and shows the same face: no other page can change;
- each download that lists the records holds the piece the last build made of each of them exactly once, where
  the new piece goes (`downloads.made_piece`).

Otherwise it steps aside and the full build runs. tests/test_record_edits.py compares the two, byte for byte.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, overload

from .cache import (
    CACHE_DIR,
    FORMAT,
    Fingerprints,
    Key,
    Pages,
    Records,
    RecordStore,
    load_parsed,
    load_records,
    read_blobs,
    save_pages,
)
from .config import Collection
from .content import Content, Record, parse_content, parse_records, record_jobs
from .downloads import DATASET, collection_paths, csv_line, made_piece, own_file, record_path
from .errors import BuildFailed
from .output import Stamp
from .pages import Page, index_path
from .parallel import give_back_memory
from .render import compiled, render_pages
from .resolve import Ref, Site, Target, record_links
from .splice import Woven
from .tree import Layout, Listing, Tree, read_one
from .urls import Urls, output_file
from .views import sort_records

SNAPSHOT = "records.bin"
MOST = 50  # records the quick path takes on at once; more is a full build's work
MOST_LISTED = 1000  # records an index page may list for it (a collection with `page_size: 0` lists them all)


SECTIONS = ("token", "base", "files", "faces", "rows", "targets", "refs", "order", "stored", "sizes", "dates", "data_pages")


class Snapshot(Records):
    """The snapshot a full build leaves, written beside the cache's until the build's output is in place: one
    section at a time, each let go once written (they are tens of MB as objects, at 10,000 records)."""

    def __init__(self, project: Path, sites: list[Site], key: Key, hashes: bytes) -> None:
        """`hashes`: each record file's hash (`key.facts` and `key.prose`), marshalled."""
        super().__init__(project / CACHE_DIR, SNAPSHOT, FORMAT)
        for section in _sections(sites[0], key, hashes):
            self.add_blob(section)
            give_back_memory()  # what making it freed: else each section's objects raise the build's peak a little more


def takes(sites: list[Site], search: bool) -> bool:
    """Whether a build of these editions leaves a snapshot: one language, no search index (Pagefind reads every page)."""
    return len(sites) == 1 and not search


def _sections(site: Site, key: Key, hashes: bytes) -> Iterator[bytes]:
    """The snapshot's sections, in the order of SECTIONS, each marshalled."""
    content = site.content
    yield marshal.dumps(key.value)
    yield marshal.dumps(key.base)
    yield hashes
    yield marshal.dumps(_faces(site))
    yield marshal.dumps({r.address: row(r, c) for c in content.config.collections for r in content.records.get(c.name, [])})
    # Targets and backlinks are kept as each address's own marshal data: the quick path reads a few of 36,000
    # (unmarshalled as tuples, these two sections took 40 ms of a fact edit's 500).
    yield marshal.dumps({a: marshal.dumps((t.path, t.title)) for a, t in site.targets.items()})
    incoming: dict[str, list[tuple[str, str, str]]] = {}  # each address's backlinks: the links to it
    for r in site.refs:
        incoming.setdefault(r.target.split("#")[0], []).append((r.source, r.target, r.via))
    yield marshal.dumps({a: marshal.dumps(links) for a, links in incoming.items()})
    del incoming
    collections = content.config.collections
    code = site.language.code
    yield marshal.dumps(
        {c.name: [r.address for r in sort_records(content.records.get(c.name, []), c.sort, code)] for c in collections}
    )
    yield marshal.dumps({c.name: [r.address for r in content.records.get(c.name, [])] for c in collections})
    yield marshal.dumps({c.name: c.page_size for c in collections})
    yield marshal.dumps(site.dates)
    yield marshal.dumps(site.data_pages)


def _faces(site: Site) -> dict[str, str]:
    """Each record's face (address → hash)."""
    links: dict[str, set[tuple[str, str]]] = {}
    for ref in site.refs:
        links.setdefault(ref.source, set()).add((ref.target, ref.via))
    cites: dict[str, set[str]] = {}
    for src, users in site.cited_by.items():
        for address in users:
            cites.setdefault(address, set()).add(src)
    faces = {}
    for coll in site.content.config.collections:
        for r in site.content.records.get(coll.name, []):
            faces[r.address] = face(site, r, coll, links.get(r.address, ()), cites.get(r.address, ()))
    return faces


def face(site: Site, record: Record, coll: Collection, links: Iterable[tuple[str, str]], cites: Iterable[str]) -> str:
    """A hash of what pages and files other than the record's own page, its index row and its downloads read of it."""
    target = site.targets[record.address]
    data = record.data
    seen = (
        target.path,
        target.title,
        data.get("summary"),
        data.get("updated"),
        data.get(coll.sort.lstrip("-")),
        sorted(set(links)),
        sorted(set(cites)),
    )
    return _digest(seen)


def row(record: Record, coll: Collection) -> str:
    """A hash of what a record's row on its index page shows besides its link (the face has that): its title,
    summary, and each column's value with the facts (sources, status) under it."""
    shown = set(coll.columns)
    facts = sorted((repr(at), repr(fact)) for at, fact in record.facts.items() if at and at[0] in shown)
    seen = (record.title, record.data.get("summary", ""), [record.data.get(c) for c in coll.columns], facts)
    return _digest(seen)


def _digest(seen: object) -> str:
    return hashlib.blake2b(repr(seen).encode(), digest_size=16).hexdigest()


@dataclass
class Rebuilt:
    """What the quick path made: the changed files, and what to keep for the next build."""

    files: dict[str, bytes]
    pages: Pages
    woven: Woven  # the notes of the pages made
    kept: frozenset[str]  # the output's other files
    inputs: dict[str, bytes]  # the files read


def rebuild(
    project: Path,
    where: Layout,
    out: Path,
    key: Key,
    stamp: Stamp,
    previous: Pages,
    listing: Listing,
    base_url: str | None,
) -> Rebuilt | None:
    """The pages and downloads of the records edited since the snapshot's build, made anew; None when anything else
    changed or this path cannot promise a full build's bytes."""
    snap = _load(project, previous.snapshot)
    if snap is None or snap["base"] != key.base or stamp.files is None:
        return None
    now = {**key.facts, **key.prose}
    then: dict[str, str] = snap["files"]
    faces: dict[str, str] = snap["faces"]
    if now.keys() != then.keys():
        return None
    owners = {f: _owner(f, faces) for f, h in now.items() if then[f] != h}  # each changed file's record
    if None in owners.values():
        return None
    edited = sorted({a for a in owners.values() if a} | set(previous.touched))
    if not edited or len(edited) > MOST or any(_owner(w[0], faces) in edited for w in stamp.warnings):
        return None
    tree = _partial_tree(where, listing, faces, set(edited))
    if tree is None:
        return None
    store = load_parsed(project, records=False, lazy=True)  # the data files' entries: read, not rewritten
    content, problems = parse_content(tree, base_url, store=store)
    if content is None or problems:
        return None
    site = _site(content, snap, edited)
    records = dict(content.records_by_address)
    relisted, rows = [], {}  # the records whose index rows changed; each edited record's row
    for address in edited:
        record = records.get(address)
        coll = content.config.collection(address.split("/")[0])
        if record is None or coll is None:
            return None
        refs, cites, errors = record_links(site, record)
        if errors or face(site, record, coll, ((r.target, r.via) for r in refs), cites) != snap["faces"][address]:
            return None
        rows[address] = row(record, coll)
        if rows[address] != previous.rows.get(address, snap["rows"][address]):  # as the output shows it
            relisted.append(address)
    found = _listed(snap, relisted)
    if found is None:
        return None
    listed, parts = found
    others = _others(where, listing, content, project, store, {a for places in listed.values() for _, a in places} - set(edited))
    if others is None:
        return None
    records |= others
    urls = Urls(content.config.base_url)
    pages = _pages(site, edited, parts)
    order: dict[str, Sequence[Record]] = {  # the index pages to render need only their own rows
        name: _Window(len(snap["order"][name]), [(i, records[a]) for i, a in places]) for name, places in listed.items()
    }
    woven = Woven(project, key.value)
    try:
        files = dict(render_pages(site, pages, tree.under("templates"), urls, 1, woven, order, compiled(project)))
    except BuildFailed:
        return None  # the full build reports it
    downloads = _downloads(out, site, urls, snap, [records[a] for a in edited])
    if downloads is None:
        return None
    files |= downloads
    kept = frozenset(f for f in stamp.files if f not in files)
    fp = previous.fingerprints
    fingerprints = Fingerprints(  # "": made here, made again by the next full build
        {**fp.files, **dict.fromkeys(files, "")}, fp.sitewide, {f: h for f, h in fp.own.items() if f not in files}
    )
    touched = tuple(sorted({*previous.touched, *edited}))
    pages_now = replace(previous, fingerprints=fingerprints, rest=key.rest, touched=touched, rows=previous.rows | rows)
    return Rebuilt(files, pages_now, woven, kept, tree.files)


def _load(project: Path, token: str) -> dict[str, Any] | None:
    """The snapshot of the full build `token`, if the cache holds it."""
    if not token:
        return None
    try:
        snap = dict(zip(SECTIONS, map(marshal.loads, read_blobs(project / CACHE_DIR / SNAPSHOT, FORMAT)), strict=False))
    except (ValueError, EOFError, TypeError):
        return None
    return snap if len(snap) == len(SECTIONS) and snap["token"] == token else None


def _owner(name: str, records: Container[str]) -> str | None:
    """The record (by address) whose file `name` is, if it is one of `records`: content/<collection>/<slug>.yaml or
    .md is the record <collection>/<slug>'s."""
    if not (name.startswith("content/") and name.count("/") == 2):
        return None
    address = name.removeprefix("content/").rpartition(".")[0]
    return address if address in records else None


def _listed(snap: dict[str, Any], edited: list[str]) -> tuple[dict[str, list[tuple[int, str]]], dict[str, int]] | None:
    """Each collection's records on the index pages that list an edited record, with their places in its order; and
    the index page (its part) that lists each edited record."""
    listed: dict[str, dict[int, str]] = {}
    parts: dict[str, int] = {}
    for address in edited:
        name = address.split("/")[0]
        order: list[str] = snap["order"].get(name, [])
        if address not in order:
            return None
        size: int = snap["sizes"][name]
        parts[address] = order.index(address) // size if size > 0 else 0
        first = parts[address] * size
        page = order[first : first + size] if size > 0 else order
        if len(page) > MOST_LISTED:
            return None
        listed.setdefault(name, {}).update(enumerate(page, first))
    return {name: sorted(places.items()) for name, places in listed.items()}, parts


def _partial_tree(where: Layout, listing: Listing, records: dict[str, str], needed: set[str]) -> Tree | None:
    """The input files the edited records' pages are made from: every content file and template but the records'
    own, and the files of the records in `needed`. None when one of them is not a plain file any longer."""
    files: dict[str, bytes] = {}
    for rel, _, _, _ in listing:
        if rel in files or rel.startswith("static/"):
            continue
        owner = _owner(rel, records)  # a record's file?
        if owner is not None and owner not in needed:
            continue
        data = read_one(where, rel)
        if data is None:
            return None
        files[rel] = data
    return Tree(where, files)


def _others(
    where: Layout, listing: Listing, content: Content, project: Path, store: RecordStore, addresses: set[str]
) -> dict[str, Record] | None:
    """The records (by address) of an index page to make again that were not edited: most from the parsed cache
    (a record edited by an earlier quick build is parsed); None when one of them is gone or has a problem."""
    if not addresses:
        return {}
    files = {}
    for rel, _, _, _ in listing:
        if rel.endswith((".yaml", ".md")) and _owner(rel, addresses) is not None:
            data = read_one(where, rel)
            if data is None:
                return None
            files[rel.removeprefix("content/")] = data
    load_records(project, store)
    found: dict[str, Record] = {}
    for coll in content.config.collections:
        jobs = record_jobs(files, coll, content.schemas.get(coll.name), [])
        for record, problems in parse_records(jobs, 1, store):
            if record is None or problems:
                return None
            found[record.address] = record
    return found if found.keys() == addresses else None


def _site(content: Content, snap: dict[str, Any], edited: list[str]) -> Site:
    """The site as the snapshot knows it, with the content read now: enough for the edited records' pages."""
    targets = _Targets(snap["targets"])
    refs = [Ref(*r) for address in edited if address in snap["refs"] for r in marshal.loads(snap["refs"][address])]  # backlinks
    site = Site(content, targets, refs, data_pages=snap["data_pages"])
    site.dates = snap["dates"]  # the snapshot's: its records' and collections' dates do not change
    return site


def _pages(site: Site, edited: list[str], parts: dict[str, int]) -> list[Page]:
    """The edited records' pages and the index pages (`parts`) that list those whose rows changed, as
    `plan_pages` plans them."""
    pages: dict[str, Page] = {}
    for address in edited:
        name = address.split("/")[0]
        coll = site.content.config.collection(name)
        assert coll is not None
        if address in parts:
            index = Page(index_path(name, parts[address]), "collection.html", "collection", name, parts[address])
            pages.setdefault(output_file(index.path), index)
        page = Page(site.targets[address].path, coll.template, "record", address)
        pages.setdefault(output_file(page.path), page)
    return list(pages.values())


class _Targets(dict[str, Target]):
    """Every address's target, made when first looked up: the pages to render look up a few of 36,000."""

    def __init__(self, plain: dict[str, bytes]) -> None:
        super().__init__()
        self.plain = plain  # address -> its path and title, marshalled

    def __missing__(self, address: str) -> Target:
        path, title = marshal.loads(self.plain[address])
        target = self[address] = Target(path, title)
        return target

    def __contains__(self, address: object) -> bool:
        return address in self.plain

    def __iter__(self) -> Iterator[str]:
        return iter(self.plain)

    def __len__(self) -> int:
        return len(self.plain)


class _Window(Sequence[Record]):
    """A collection's records in index order, of which only those on the pages to render are known."""

    def __init__(self, count: int, known: list[tuple[int, Record]]) -> None:
        self.size, self.known = count, dict(known)

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | Sequence[Record]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        if index not in self.known:
            raise IndexError(f"record {index} of the index is not known to the quick path")
        return self.known[index]

    def __iter__(self) -> Iterator[Record]:
        return (self[i] for i in range(self.size))


def _downloads(out: Path, site: Site, urls: Urls, snap: dict[str, Any], records: list[Record]) -> dict[str, bytes] | None:
    """The edited records' own files, and their collections' files and the dataset with each record's last piece
    replaced by its new one. The last piece is read from the record's own file (its piece, with the licence and
    the sources it cites, which its face keeps); its CSV row runs to the next record's. None when a last piece is
    not found exactly once."""
    files: dict[str, bytes] = {}
    for record in records:
        own, (json_path, csv_path) = record_path(site, record), collection_paths(record.collection)
        try:
            for path in (own, json_path, csv_path, DATASET):
                files[path] = files[path] if path in files else (out / path).read_bytes()
        except OSError:
            return None
        text, row = made_piece(site, record, urls)
        made = own_file(site, record, text)
        tail = made[len(text) - 1 :]  # what the record's own file adds to its piece: the same before the edit
        if not files[own].endswith(tail) or len(files[own]) <= len(tail):
            return None
        last = files[own][: -len(tail)] + b"}"
        start, end = _csv_bounds(site, urls, snap["stored"][record.collection], record.address)
        changed = (
            _replace(files[json_path], last, text),
            _replace(files[DATASET], last, text),
            _replace_row(files[csv_path], start, end, row),
        )
        if None in changed:
            return None
        files[json_path], files[DATASET], files[csv_path] = changed  # type: ignore[assignment]
        files[own] = made
    return files


def _replace(data: bytes, old: bytes, new: bytes) -> bytes | None:
    """`data` with `old` replaced by `new`, when it is there exactly once."""
    start = data.find(old)
    if start < 0 or data.find(old, start + 1) >= 0:
        return None
    view = memoryview(data)  # slices without copies: the dataset is megabytes
    return b"".join((view[:start], new, view[start + len(old) :]))


def _replace_row(data: bytes, start: bytes, end: bytes, row: bytes) -> bytes | None:
    """A CSV file with the row that begins `start` (up to the one that begins `end`, b'' when it is the last)
    replaced by `row`; None unless each of them is there exactly once."""
    if not data.endswith(b"\n") or any(m and data.count(m) != 1 for m in (start, end)):
        return None
    first = data.find(start) + 1  # past the newline before the row
    after = data.find(end) + 1 if end else len(data)  # past the row's own newline
    view = memoryview(data)
    return b"".join((view[:first], row, view[after:])) if first < after else None


def _csv_bounds(site: Site, urls: Urls, stored: list[str], address: str) -> tuple[bytes, bytes]:
    """How a record's CSV row opens (a newline, its address and URL) and how the next one's does (b'': none)."""
    place = stored.index(address)

    def opening(a: str) -> bytes:
        return b"\n" + csv_line([a, urls.absolute(site.targets[a].path)])[:-1] + b","

    return opening(address), opening(stored[place + 1]) if place + 1 < len(stored) else b""


def keep(project: Path, rebuilt: Rebuilt, key: str, output_key: str) -> None:
    """Once the output is written: what the next build starts from (the notes and the fingerprints)."""
    rebuilt.woven.finish(project, output_key, rebuilt.kept, rebuilt.inputs)
    save_pages(project, key, rebuilt.pages)
