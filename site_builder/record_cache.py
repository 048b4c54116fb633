"""Parsed content kept between builds, in .site-builder-cache/parsed.bin: a fresh `build` after an edit parses and
validates only the files that changed.

Two kinds of entry, each keyed by a hash of everything it is made from and of the engine's own code:

- a record: its fact file, its Markdown file and its collection's schema → its values, facts and the links and
  citations of its Markdown (`markup.scan`);
- a data file (sources, timeline, glossary, charts) and its schema → its entries, and their reading order (the
  Unicode Collation Algorithm, the slowest part of reading sources, is not run again).

Only what parsed without a problem is kept (a problem is always worked out again, with its position). The file is
`marshal` data (plain values only: loading it cannot run code) and is rewritten only when an entry came or went. A
cache that cannot be read or written only costs time; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path
from typing import Any

from .cache import CACHE_DIR, engine_digest
from .content import Fact, Item, ParsedRecord, Record, RecordJob
from .markup import Mention
from .yamlfile import Located

PARSED = "parsed.bin"
FORMAT = 2  # the layout of an entry; an older file is ignored


class RecordStore:
    """The entries read from the cache, and the ones this build used or made (what is saved)."""

    def __init__(self, entries: dict[str, Any]) -> None:
        self.entries = entries
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
            return (_record(job, entry), ())
        except (KeyError, TypeError, ValueError, AttributeError):  # not an entry this code wrote: parse the files
            return None

    def keep(self, job: RecordJob, parsed: ParsedRecord) -> None:
        """Remember a record this build has (parsed now or taken from the cache) for the next build."""
        record, problems = parsed
        if record is None or problems:
            return
        self._use(self.key(job), lambda: _entry(record))

    def items(self, name: str, data: bytes, schema_json: str) -> tuple[Item, ...] | None:
        """The entries of a data file parsed from exactly these bytes before, if the cache has them."""
        key = _items_key(name, data, schema_json)
        entry = self.entries.get(key)
        try:
            values, ranks = entry  # type: ignore[misc]
            if not all(isinstance(v, dict) for v in values) or sorted(ranks) != list(range(len(values))):
                return None
        except (TypeError, ValueError):  # not an entry this code wrote: parse the file
            return None
        self._use(key, lambda: entry)
        doc = Located(values, "", f"content/{name}")
        doc.keep_bytes(data)
        return tuple(Item(value, doc.path, doc, i, rank=rank) for i, (value, rank) in enumerate(zip(values, ranks, strict=True)))

    def keep_items(self, name: str, data: bytes, schema_json: str, items: tuple[Item, ...]) -> None:
        """Remember a data file whose every entry parsed without a problem."""
        self._use(_items_key(name, data, schema_json), lambda: ([i.data for i in items], [i.rank for i in items]))

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


def load(project: Path) -> RecordStore:
    try:
        data = marshal.loads((project / CACHE_DIR / PARSED).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        data = None
    ok = isinstance(data, tuple) and len(data) == 2 and data[0] == FORMAT and isinstance(data[1], dict)
    return RecordStore(data[1] if ok else {})


def save(project: Path, store: RecordStore) -> None:
    """Write the entries this build used, when they differ from what was read."""
    if not store.changed and store.used.keys() == store.entries.keys():
        return
    try:
        cache = project / CACHE_DIR
        cache.mkdir(exist_ok=True)
        tmp = cache / f"{PARSED}.{os.getpid()}.tmp"
        tmp.write_bytes(marshal.dumps((FORMAT, store.used)))
        os.replace(tmp, cache / PARSED)
    except (OSError, ValueError):
        pass


def _entry(record: Record) -> dict[str, Any]:
    raw = record.doc.value if record.doc is not None else record.data
    facts = [[list(at), list(f.sources), f.status, f.note, list(f.origin)] for at, f in record.facts.items()]
    scanned = [[m.kind, m.target, m.line, m.col] for m in record.mentions()] if record.md_path else []
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
        record.scanned = tuple(Mention(kind, target, line, col) for kind, target, line, col in entry["scan"])
    return record
