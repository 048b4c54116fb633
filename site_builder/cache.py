"""What a build keeps in .site-builder-cache/ for the next one, each result under a key of everything it was made
from; a result whose key does not match is never used, and deleting the folder is always safe.

- **The build key** (`manifest.bin`): like git's index, the manifest maps each file (by its path on disk) and its
  (size, mtime) to its content hash, so an unchanged project is recognised from `stat` alone. The key also covers
  the theme's files, the engine's code, the build options and the git commit (page dates come from history).
  Every file here is `marshal` data: plain values, quick to read and write, and loading it cannot run code.
- **Parsed content** (`parsed.bin`, and `parsed-data.bin` for the data files and the schemas found sound): each
  record (as its own marshal data, unmarshalled when looked up), keyed by its fact file, its Markdown, its schema
  and the engine → its values, facts and the links and citations of its Markdown; each data file (sources,
  timeline, glossary, charts) and its schema → its entries' ids, their reading order (the Unicode Collation
  Algorithm, the slowest part of reading sources, is not run again) and each entry's own marshal data. Only
  what parsed without a problem is kept (a problem is always worked out again, with its position). It is
  rewritten only when an entry came or went.
- **Pages** (`pages.bin`): what each page and download of the output was made from (fingerprint.py); **notes**
  (`notes.bin`): how each record page's Markdown was woven into it, and each Markdown file's hash (splice.py).
  Both are trusted only for the output whose marker carries the same key.
- **The snapshot** (`records.bin`): what the rest of the site reads of each record and the site around it, for
  the quick path of record edits (record_edits.py); trusted only for an output whose pages say they follow it.
- **Compiled templates** (`templates/`): Jinja's own bytecode cache, each checked against its template's source, and
  for each page template whether it shows `body` once (`body-once-*`, under a hash of the engine and every template).
- **Download pieces** (`pieces.bin`): each record as it appears in its collection's JSON and CSV and in the
  dataset, keyed by its fact file, its address and URL, its schema and the engine; a fact edit makes one record's
  piece again, not 10,000 (downloads.py).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import marshal
import os
import re
import stat
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from . import __version__
from .content import Fact, Item, LazyItems, ParsedRecord, Record, RecordJob
from .schema import schema_problems
from .theme import theme_files
from .tree import Layout, Listing, input_paths, layout, read_file
from .yamlfile import Located

CACHE_DIR = ".site-builder-cache"
MANIFEST = "manifest.bin"
FEW_HASHES = 32  # files whose hashes the manifest need not keep: they are worked out again


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


PROSE = re.compile(r"content/[^/]+/[^/]+\.md")  # where a record's Markdown may be (splice.py's files)
FACTS = re.compile(r"content/[^/]+/[^/]+\.yaml")  # where a record's fact file may be (record_edits.py's files)


@dataclass(frozen=True)
class Key:
    """A build's key (`value`), a hash of everything it reads; the same hash of all but the Markdown files directly in
    a content folder (`rest`), and those files' content hashes (`prose`): what splice.py's quick path compares; the
    same hash of all but those and the YAML files directly in a content folder (`base`), and the YAML files' hashes
    (`facts`): what record_edits.py's quick path compares."""

    value: str
    rest: str
    prose: dict[str, str]
    base: str = ""
    facts: dict[str, str] = field(default_factory=dict)


def build_key(
    project: Path | Layout,
    options: dict[str, object],
    content: Path | None = None,
    listing: Listing | None = None,
    read: dict[str, bytes] | None = None,
) -> Key:
    """A hash of everything a build reads: file contents (the theme's too), engine version, options and the git commit.
    `listing`: the input files, as tree.list_inputs found them (else they are found here). The bytes of each file
    it reads to hash (by path) go into `read`, if given: a cold build reads the tree next."""
    where = layout(project, content)
    cache = where.root / CACHE_DIR
    old: dict[str, list[object]] = _load(cache / MANIFEST)
    manifest: dict[str, list[object]] = {}
    head = hashlib.sha256(json.dumps([engine_digest(), options, _git_head(where.root)], sort_keys=True).encode())
    if where.theme is None:  # a theme that is not on disk (a zipped install) has no stamps: hash its bytes
        for rel, data in sorted(theme_files().items()):
            head.update(f"{rel}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    whole, rest, base = head.copy(), head.copy(), head.copy()
    prose: dict[str, str] = {}
    facts: dict[str, str] = {}
    fresh = 0  # hashes worked out now, not taken from `old`
    for rel, path, st in input_paths(where, listing):  # a theme file, then the project's own of the same name, if any
        size, mtime = st.st_size, st.st_mtime_ns
        entry = old.get(path)
        if type(entry) is list and len(entry) == 3 and entry[0] == size and entry[1] == mtime and type(entry[2]) is str:
            content_hash = entry[2]
            manifest[path] = entry  # the same entry (20,000 lists not made again)
        else:
            if stat.S_ISREG(st.st_mode) or os.path.isfile(path):  # a link to a file is read too
                data = read_file(path, size)
                content_hash = hashlib.sha256(data).hexdigest()
                if read is not None:
                    read[path] = data
            else:  # a link to a folder, say: the build reports it; here its target is what counts
                content_hash = hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()
            manifest[path], fresh = [size, mtime, content_hash], fresh + 1
        line = f"{rel}\0{content_hash}\n".encode()
        whole.update(line)
        record = rel.startswith("content/") and rel.count("/") == 2  # where a record's files may be
        if record and PROSE.fullmatch(rel):
            prose[rel] = content_hash
            continue
        rest.update(line)
        if record and FACTS.fullmatch(rel):
            facts[rel] = content_hash
        else:
            base.update(line)
    # The hashes worked out now are kept for the next build, unless they are a few (an edit or two): the next build
    # hashes those few files again (a millisecond) rather than this one rewriting 20,000 entries (20 ms).
    if (fresh > FEW_HASHES or manifest.keys() != old.keys()) and manifest != old:
        _save(cache, manifest)
    return Key(whole.hexdigest(), rest.hexdigest(), prose, base.hexdigest(), facts)


def _git_head(project: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _load(path: Path) -> dict[str, Any]:
    try:
        data = marshal.loads(path.read_bytes())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError, EOFError, TypeError):
        return {}


def _save(cache: Path, manifest: dict[str, list[object]]) -> None:
    with contextlib.suppress(OSError):
        cache.mkdir(exist_ok=True)
        (cache / ".gitignore").write_text("*\n")
    _write(cache, MANIFEST, manifest)


def _write(cache: Path, name: str, value: Any) -> None:
    """Put `value` in the cache as marshal data, atomically (a file beside it, renamed); a cache that cannot be
    written only costs speed."""
    try:
        cache.mkdir(exist_ok=True)
        tmp = cache / f"{name}.{os.getpid()}.tmp"
        tmp.write_bytes(marshal.dumps(value))
        os.replace(tmp, cache / name)
    except (OSError, ValueError):
        pass


PAGES = "pages.bin"


@dataclass
class Fingerprints:
    """Output file → hash of everything it is made from (`files`); and, kept for the next build, the two halves of
    each record page's: what every record page of an edition reads from the whole site (`sitewide`, by edition
    folder), and what the page alone reads (`own`, by output file). When both are what they were, the page's
    fingerprint is the one it had: nine pages in ten at 10,000 records are not hashed again after an edit."""

    files: dict[str, str] = field(default_factory=dict)
    sitewide: dict[str, str] = field(default_factory=dict)
    own: dict[str, str] = field(default_factory=dict)


@dataclass
class Pages:
    """What the cache knows of the pages in the output: their fingerprints; for the quick prose path (splice.py)
    the key of every input but the Markdown (`rest`) and what renders every record's Markdown alike (`shared`); for
    the quick path of record edits (record_edits.py) the key of the full build whose snapshot the output follows
    (`snapshot`, '' for none), the records that path has made pages for since (`touched`) and the rows of those
    records as their index pages show them (`rows`, each a `record_edits.row` hash)."""

    fingerprints: Fingerprints = field(default_factory=Fingerprints)
    rest: str = ""
    shared: bytes = b""
    snapshot: str = ""
    touched: tuple[str, ...] = ()
    rows: dict[str, str] = field(default_factory=dict)


def previous_pages(project: Path, output_key: str | None) -> Pages:
    """What the build that made the current output left (nothing if the output is another's)."""
    try:
        data = marshal.loads((project / CACHE_DIR / PAGES).read_bytes())
        if not output_key or data["key"] != output_key:
            return Pages()
        sections = [data[name] for name in ("pages", "sitewide", "own")]
        if not all(isinstance(s, dict) and all(isinstance(v, str) for v in s.values()) for s in sections):
            return Pages()
        rest, shared, snapshot, touched, rows = (data[k] for k in ("rest", "shared", "snapshot", "touched", "rows"))
        plain = isinstance(rest, str) and isinstance(shared, bytes) and isinstance(snapshot, str)
        if not plain or not (isinstance(touched, tuple) and all(isinstance(t, str) for t in touched)):
            return Pages()
        if not (isinstance(rows, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in rows.items())):
            return Pages()
        return Pages(Fingerprints(*sections), rest, shared, snapshot, touched, rows)
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return Pages()


def save_pages(project: Path, key: str, pages: Pages) -> None:
    """Remember what made each page of the output just written (under its key)."""
    fp = pages.fingerprints
    kept = {
        "key": key,
        "pages": fp.files,
        "sitewide": fp.sitewide,
        "own": fp.own,
        "rest": pages.rest,
        "shared": pages.shared,
        "snapshot": pages.snapshot,
        "touched": pages.touched,
        "rows": pages.rows,
    }
    _write(project / CACHE_DIR, PAGES, kept)


NOTES = "notes.bin"
Note = tuple[str, str, str, bytes]  # output file ('' for none), its Markdown, the Markdown's hash, how it was woven in


class Records:
    """A cache file of marshal records after a header, written as they come (megabytes that are never held in
    memory) into `name.<pid>.tmp`; `commit` puts it in place of `name`, `drop` forgets it. A failed write makes it
    `lost`: it then writes nothing more and commits nothing."""

    def __init__(self, folder: Path, name: str, header: Any) -> None:
        self.folder, self.name, self.header = folder, name, header
        self.tmp = folder / f"{name}.{os.getpid()}.tmp"
        self.file: BinaryIO | None = None
        self.lost = False

    def add(self, record: Any) -> None:
        try:
            data = marshal.dumps(record)
        except ValueError:  # a value marshal cannot write: nothing more is written, nothing committed
            self.drop()
            self.lost = True
            return
        self.add_blob(data)

    def add_blob(self, data: bytes | memoryview) -> None:
        """A record that is marshal data already."""
        self.add_blobs((data,))

    def add_blobs(self, blobs: Iterable[bytes | memoryview]) -> None:
        """Records that are marshal data already, written at once (notes kept from the last build: 10,000 writes
        cost more than one)."""
        if self.lost:
            return
        try:
            self._open().write(b"".join(framed(data) for data in blobs))
        except (OSError, ValueError):  # a cache that cannot be written only costs speed
            self.drop()
            self.lost = True

    def tell(self) -> int:
        """Where the next record goes, for `read`; -1 once lost."""
        if not self.lost:
            try:
                return self._open().tell()
            except (OSError, ValueError):
                self.drop()
                self.lost = True
        return -1

    def read(self, start: int, count: int) -> Iterator[Any]:
        """`count` records written from `start` (a `tell`) on, read back."""
        assert self.file is not None
        self.file.flush()
        with open(self.tmp, "rb") as f:
            f.seek(start)
            for blob, _ in zip(_frames(f), range(count), strict=False):
                yield marshal.loads(blob)

    def commit(self) -> None:
        if self.file is None or self.lost:
            return
        try:
            self.file.close()
            os.replace(self.tmp, self.folder / self.name)
            _forget_abandoned(self.folder, self.name)
        except OSError:
            pass
        finally:
            self.file = None

    def drop(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
                self.tmp.unlink(missing_ok=True)
            self.file = None

    def _open(self) -> BinaryIO:
        if self.file is None:
            self.folder.mkdir(exist_ok=True)
            self.file = open(self.tmp, "wb")  # noqa: SIM115 (closed by commit or drop)
            self.file.write(framed(marshal.dumps(self.header)))
        return self.file


MAX_RECORD = 1 << 40  # the longest record a `Records` file is read for


def framed(data: bytes | memoryview) -> bytes:
    """One record of a `Records` file: its length, then its marshal data (read back whole, then unmarshalled:
    `marshal.load` from a file reads in small pieces, three times slower)."""
    return len(data).to_bytes(8, "little") + data


def _frames(f: BinaryIO) -> Iterator[bytes]:
    """The records of a `Records` file from where `f` stands, as bytes, up to its end or where it is cut short."""
    while len(head := f.read(8)) == 8:
        size = int.from_bytes(head, "little")
        data = f.read(size) if size <= MAX_RECORD else b""  # a file of another layout may give any length
        if len(data) < size:
            return
        yield data


def read_records(path: Path, header: object) -> Iterator[Any]:
    """The records of a cache file `Records` wrote with `header`, one by one (none when the header differs, the
    file is missing or unreadable; up to where it is cut short)."""
    try:
        with open(path, "rb") as f:
            frames = _frames(f)
            first = next(frames, None)
            if first is None or marshal.loads(first) != header:
                return
            yield from map(marshal.loads, frames)
    except (OSError, ValueError, TypeError, EOFError):
        return


def read_blobs(path: Path, header: object) -> list[memoryview]:
    """The records of a cache file `Records` wrote with `header`, as marshal data, read whole (none when the header
    differs, or the file is missing, unreadable or cut short)."""
    try:
        data = memoryview(path.read_bytes())
    except OSError:
        return []
    frames, start = [], 0
    while start + 8 <= len(data):
        end = start + 8 + int.from_bytes(data[start : start + 8], "little")
        if end > len(data):
            return []
        frames.append(data[start + 8 : end])
        start = end
    try:
        ours = start == len(data) and bool(frames) and marshal.loads(frames[0]) == header
    except (ValueError, EOFError, TypeError):
        ours = False
    return frames[1:] if ours else []


class NoteWriter(Records):
    """Notes of record pages, written into the cache as they come, the build's key first. Until `commit` (and if
    the build fails) the notes of the output's build stay."""

    def __init__(self, project: Path, key: str) -> None:
        super().__init__(project / CACHE_DIR, NOTES, (FORMAT, key))


def _forget_abandoned(folder: Path, name: str) -> None:
    """Delete what builds that were stopped (Ctrl-C, a kill) left half-written: `name.<pid>.tmp` of a process that
    is gone (a build running beside this one keeps its own)."""
    for tmp in folder.glob(f"{name}.*.tmp"):
        pid = tmp.name[len(name) + 1 : -len(".tmp")]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            tmp.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, and is another user's
        return True
    return True


def read_notes(project: Path, key: str | None) -> list[tuple[Note, memoryview]]:
    """The notes the build with `key` left, each with its marshal data as the file holds it (a note kept as it was
    is written again from that data, not made anew); none if the cache holds another build's or is damaged."""
    found = []
    try:
        for data in read_blobs(project / CACHE_DIR / NOTES, (FORMAT, key)) if key else ():
            note = marshal.loads(data)
            if not (isinstance(note, tuple) and len(note) == 4):
                return []
            found.append((note, data))
    except (ValueError, EOFError, TypeError):
        return []
    return found


PARSED = "parsed.bin"
PARSED_DATA = "parsed-data.bin"
FORMAT = 3  # the layout of an entry and of a file of records; an older file is ignored


class RecordStore:
    """The entries read from the cache, and the ones this build used or made (what is saved)."""

    def __init__(self, entries: dict[str, Any], lazy: bool = False) -> None:
        self.entries = entries
        self.lazy = lazy  # a data file's entries are made when first read (`LazyItems`)
        self.used: dict[str, Any] = {}
        self.changed = False
        self._keys: dict[RecordJob, str] = {}

    def key(self, job: RecordJob) -> str:
        known = self._keys.get(job)
        if known is None:
            collection, slug, yaml_bytes, md_bytes, schema_json = job
            h = hashlib.blake2b(f"{engine_digest()}\0{collection}\0{slug}\0{schema_json}\0".encode(), digest_size=20)
            h.update(yaml_bytes)
            h.update(b"\0md\0" + md_bytes if md_bytes is not None else b"\0no md\0")
            known = self._keys[job] = h.hexdigest()
        return known

    def get(self, job: RecordJob) -> ParsedRecord | None:
        """The record parsed from exactly these files before, if the cache has it."""
        entry = self.entries.get(self.key(job))
        if entry is None:
            return None
        try:
            return (_record(job, marshal.loads(entry)), ())
        except (KeyError, TypeError, ValueError, EOFError, AttributeError):  # not an entry this code wrote: parse the files
            return None

    def keep(self, job: RecordJob, parsed: ParsedRecord) -> None:
        """Remember a record this build has (parsed now or taken from the cache) for the next build."""
        record, problems = parsed
        if record is None or problems:
            return
        self._use(self.key(job), lambda: _entry(record))

    def items(self, name: str, data: bytes, schema_json: str) -> Sequence[Item] | None:
        """The entries of a data file parsed from exactly these bytes before, if the cache has them. They are kept
        as their ids, their reading order and each entry's own marshal data: a quick build (`lazy`) unmarshals
        only the entries it reads (a few of 26,000 sources)."""
        key = _items_key(name, data, schema_json)
        entry = self.entries.get(key)
        try:
            ids, ranks, values = marshal.loads(entry)  # type: ignore[arg-type]
            lists = type(ids) is type(ranks) is type(values) is list and len(ids) == len(ranks) == len(values)
            if not lists or not all(type(v) is bytes for v in values) or sorted(ranks) != list(range(len(values))):
                return None
            loaded = None if self.lazy else [marshal.loads(v) for v in values]
            if loaded is not None and not all(isinstance(v, dict) for v in loaded):
                return None
        except (TypeError, ValueError, EOFError):  # not an entry this code wrote: parse the file
            return None
        self._use(key, lambda: entry)
        doc = Located(None, "", f"content/{name}")
        doc.keep_bytes(data)
        if loaded is None:
            return LazyItems(values, ranks, doc, [str(i) for i in ids])
        return tuple(Item(value, doc.path, doc, i, rank=rank) for i, (value, rank) in enumerate(zip(loaded, ranks, strict=True)))

    def keep_items(self, name: str, data: bytes, schema_json: str, items: tuple[Item, ...]) -> None:
        """Remember a data file whose every entry parsed without a problem."""
        with contextlib.suppress(ValueError):  # a value marshal cannot write: the file is parsed again next time
            kept = ([str(i.get("id")) for i in items], [i.rank for i in items], [marshal.dumps(i.data) for i in items])
            self._use(_items_key(name, data, schema_json), lambda: marshal.dumps(kept))

    def schema_problems(self, schema: dict[str, Any]) -> list[str]:
        """What is wrong with a collection's schema (schema.schema_problems); a schema found sound before is not
        checked again (the check imports jsonschema and reads its metaschema: a tenth of a second)."""
        text = json.dumps(schema, sort_keys=True)
        key = "schema:" + hashlib.blake2b(f"{engine_digest()}\0{text}".encode(), digest_size=20).hexdigest()
        if key in self.entries:
            self._use(key, lambda: True)
            return []
        problems = schema_problems(schema)
        if not problems:
            self._use(key, lambda: True)
        return problems

    def _use(self, key: str, make: Any) -> None:
        if key in self.entries:
            self.used[key] = self.entries[key]
        elif key not in self.used:
            self.used[key] = make()
            self.changed = True

    def forget_keys(self) -> None:
        """Drop the per-build index of keys (a few MB at 10,000 records) once every record is kept."""
        self._keys.clear()


def _items_key(name: str, data: bytes, schema_json: str) -> str:
    h = hashlib.blake2b(f"{engine_digest()}\0items\0{name}\0{schema_json}\0".encode(), digest_size=20)
    h.update(data)
    return "items:" + h.hexdigest()


def load_parsed(project: Path, records: bool = True, lazy: bool = False) -> RecordStore:
    """The parsed content an earlier build kept (none when unreadable or from another format): the data files'
    entries and the schemas found sound, and (unless not `records`) the records. Each record's entry is kept as
    its own marshal data, read when it is looked up: a quick build that needs a hundred of 10,000 reads those."""
    store = RecordStore(_entries(project / CACHE_DIR / PARSED_DATA), lazy)
    if records:
        load_records(project, store)
    return store


def load_records(project: Path, store: RecordStore) -> None:
    """Add the records' entries to a store loaded without them: each a key, then the entry's marshal data (a
    `Records` file, read whole; an entry is unmarshalled when it is looked up)."""
    frames = read_blobs(project / CACHE_DIR / PARSED, FORMAT)
    try:
        keys = [marshal.loads(k) for k in frames[::2]]
    except (ValueError, EOFError, TypeError):
        return
    if len(frames) % 2 == 0 and all(type(k) is str for k in keys):
        store.entries.update(zip(keys, frames[1::2], strict=True))


def _entries(path: Path) -> dict[str, Any]:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    ours = isinstance(data, tuple) and len(data) == 2 and data[0] == FORMAT and isinstance(data[1], dict)
    return data[1] if ours else {}


def save_parsed(project: Path, store: RecordStore) -> None:
    """Write the entries this build used, when they differ from what was read: the data files' and schemas' apart
    from the records' (megabytes a quick build need not read)."""
    if not store.changed and store.used.keys() == store.entries.keys():
        return
    data = {k: v for k, v in store.used.items() if k.startswith(("items:", "schema:"))}
    _write(project / CACHE_DIR, PARSED_DATA, (FORMAT, data))
    records = Records(project / CACHE_DIR, PARSED, FORMAT)  # written as they come: 8 MB at 10,000 records
    for key, entry in store.used.items():
        if key not in data:
            try:
                blob = marshal.dumps(entry) if isinstance(entry, dict) else entry
            except ValueError:  # a value marshal cannot write: the record is parsed again next time
                continue
            records.add_blobs((marshal.dumps(key), blob))
    records.commit()


def _entry(record: Record) -> dict[str, Any]:
    raw = record.doc.value if record.doc is not None else record.data
    facts = [[list(at), list(f.sources), f.status, f.note, list(f.origin)] for at, f in record.facts.items()]
    scanned = (
        record.scanned if record.scanned is not None else tuple((m.kind, m.target, m.line, m.col) for m in record.mentions())
    )
    return {"data": record.data, "facts": facts, "scan": scanned, **({"raw": raw} if raw is not record.data else {})}


def _record(job: RecordJob, entry: Any) -> Record:
    collection, slug, yaml_bytes, md_bytes, _ = job
    path = f"content/{collection}/{slug}.yaml"
    data = entry["data"]
    doc = Located(entry.get("raw", data), "", path)
    doc.keep_bytes(yaml_bytes)
    facts = {tuple(at): Fact(tuple(sources), status, note, tuple(origin)) for at, sources, status, note, origin in entry["facts"]}
    record = Record(collection, slug, data, facts, path, doc)
    if md_bytes is not None:
        record.md_bytes, record.md_path = md_bytes, f"content/{collection}/{slug}.md"
        record.scanned = tuple((str(kind), str(target), int(line), int(col)) for kind, target, line, col in entry["scan"])
    return record


PIECES = "pieces.bin"
Piece = tuple[bytes, bytes]  # a record as JSON (its collection's and the dataset's), and as its CSV row


def piece_key(address: str, url: str, schema_json: str, fact_file: bytes) -> str:
    """What a record's download piece is made from: its fact file's bytes, its address and URL, its collection's
    schema (which types its values and names the CSV's columns) and the engine."""
    h = hashlib.blake2b(f"{engine_digest()}\0{address}\0{url}\0{schema_json}\0".encode(), digest_size=20)
    h.update(fact_file)
    return h.hexdigest()


class PieceStore:
    """Each record's download piece: taken from what an earlier build kept in `project`'s cache (read when first
    asked for) or made, and written as it comes into the cache file the next build reads, so that a collection's
    files and the dataset can be put together from them again (`replay`) without holding 10,000 of them in memory.
    Without a project (an in-memory build, given the pieces of the one before), or when the cache cannot be
    written, they are held in memory instead, and `kept` are those the next build may take."""

    def __init__(self, project: Path | None = None, entries: dict[str, Piece] | None = None) -> None:
        self.file = Records(project / CACHE_DIR, PIECES, FORMAT) if project is not None else None
        self._entries: dict[str, Piece] | None = entries if project is None else None
        self.memory: list[Piece] | None = None if project is not None else []
        self.kept: dict[str, Piece] = {}  # held in memory: the pieces with a key, for the next in-memory build
        self.count = 0  # pieces with a key, written
        self.changed = False  # a piece was made, not found
        self.complete = False  # every record's piece was asked for: what was written may replace the file

    @property
    def entries(self) -> dict[str, Piece]:
        if self._entries is None:
            self._entries = _load_pieces(self.file.folder / PIECES) if self.file is not None else {}
        return self._entries

    def piece(self, key: str, make: Callable[[], Piece]) -> Piece:
        """The piece with this key (made by `make` when not kept; '' for a record whose piece is never kept)."""
        piece = self.entries.get(key) if key else None
        if piece is None:
            piece = make()
            self.changed = self.changed or bool(key)
        if self.memory is not None:
            self.memory.append(piece)
            if key:
                self.kept[key] = piece
        elif self.file is not None:
            self.file.add((key, *piece))
            self.count += bool(key)
        return piece

    def position(self) -> int:
        """Where the next piece goes: give it to `replay` to read the pieces from there."""
        if self.memory is not None:
            return len(self.memory)
        return self.file.tell() if self.file is not None else -1

    def replay(self, start: int, count: int) -> Iterator[Piece] | None:
        """`count` pieces from `start` (a `position`), in order; None if some were lost (a write failed)."""
        if self.memory is not None:
            return itertools.islice(self.memory, start, start + count)
        if self.file is None or self.file.lost or start < 0:
            return None
        return ((text, row) for _, text, row in self.file.read(start, count))

    def save(self) -> None:
        """Put the pieces written in place of the cache's, once every record's was asked for and one differs."""
        if self.file is None:
            return
        if self.complete and (self.changed or self.count != len(self.entries)):
            self.file.commit()
        else:
            self.file.drop()


def _load_pieces(path: Path) -> dict[str, Piece]:
    """Key → piece, as a build wrote them (none when unreadable or from another format)."""
    entries: dict[str, Piece] = {}
    for entry in read_records(path, FORMAT):
        if not (type(entry) is tuple and len(entry) == 3):
            return {}
        key, text, row = entry
        if type(key) is not str or type(text) is not bytes or type(row) is not bytes:
            return {}
        if key:
            entries[key] = (text, row)
    return entries
