"""Parsed records kept between builds, in .site-builder-cache/records.json: a fresh `build` after an edit parses
and validates only the fact files that changed.

An entry is keyed by a hash of everything a parsed record is made from: its fact file, its Markdown file, its
collection's schema and the engine's own code. Only records that parsed without a problem are kept (a problem is
always worked out again, with its position). A cache that cannot be read or written only costs time; deleting it
is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .cache import CACHE_DIR, engine_digest
from .content import Fact, ParsedRecord, Record, RecordJob
from .yamlfile import Located

RECORDS = "records.json"


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
        key = self.key(job)
        if key in self.entries:
            self.used[key] = self.entries[key]
        else:
            self.used[key] = _entry(record)
            self.changed = True

    def forget_keys(self) -> None:
        """Drop the per-build index of keys (a few MB at 10,000 records) once every record is kept."""
        self._keys.clear()


def load(project: Path) -> RecordStore:
    try:
        data = json.loads((project / CACHE_DIR / RECORDS).read_bytes())
    except (OSError, ValueError):
        data = {}
    return RecordStore(data if isinstance(data, dict) else {})


def save(project: Path, store: RecordStore) -> None:
    """Write the records this build used, when they differ from what was read."""
    if not store.changed and store.used.keys() == store.entries.keys():
        return
    try:
        cache = project / CACHE_DIR
        cache.mkdir(exist_ok=True)
        tmp = cache / f"{RECORDS}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(store.used, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, cache / RECORDS)
    except OSError:
        pass


def _entry(record: Record) -> dict[str, Any]:
    raw = record.doc.value if record.doc is not None else record.data
    facts = [[list(at), list(f.sources), f.status, f.note, list(f.origin)] for at, f in record.facts.items()]
    return {"data": record.data, "facts": facts, **({"raw": raw} if raw is not record.data else {})}


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
    return record
