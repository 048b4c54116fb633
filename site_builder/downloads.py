"""The site's data as files readers can download: each record, each collection (CSV, JSON), the whole dataset."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .content import Record
from .resolve import Site
from .urls import Urls

DATASET = "data/dataset.json"


def record_path(site: Site, record: Record) -> str:
    """Where a record's JSON lives: beside its page, as index.json."""
    return site.targets[record.address].path + "index.json"


def collection_paths(name: str) -> tuple[str, str]:
    """Where a collection's JSON and CSV live."""
    return f"{name}/index.json", f"{name}/index.csv"


class Stream:
    """A file's bytes made piece by piece while it is written (and made again if it is read twice): a download of
    many megabytes is never held whole, nor in pieces."""

    def __init__(self, make: Callable[[], Iterator[bytes]]) -> None:
        self.make = make

    def __iter__(self) -> Iterator[bytes]:
        return self.make()


Data = bytes | list[bytes] | Stream  # a file's bytes, in pieces, or made as it is written (never joined in memory)


def data_files(site: Site, urls: Urls, keep: frozenset[str] = frozenset()) -> Iterator[tuple[str, Data]]:
    """Every download: JSON per record, JSON and CSV per collection, and the whole dataset (one at a time); files
    named in `keep` are unchanged since the last build and are not made again."""
    content = site.content
    sources = content.sources_by_id
    licence = {"name": content.config.licence_name, "url": content.config.licence_url}
    # Each record is serialised once for its own file and its collection's (JSON is compositional: the bytes are
    # those of serialising the whole structure, without holding it all as objects), and again, as it is written,
    # for the dataset, so that no more than one collection's records are held at a time.
    for coll in content.config.collections:
        records = content.records.get(coll.name, [])
        json_path, csv_path = collection_paths(coll.name)
        whole = json_path not in keep  # the collection's records are needed as one list
        texts = []
        for r in records:
            path = record_path(site, r)
            if not whole and path in keep:
                continue
            data = record_json(site, r, urls)
            if whole:
                texts.append(_dumps(data).encode())
            if path not in keep:
                cited = {s: sources[s].data for s in sorted(_cited(r)) if s in sources}
                yield path, _json({**data, "licence": licence, "bibliography": cited})
        if json_path not in keep:
            head = {"collection": coll.name, "title": coll.title, "licence": licence}
            yield json_path, list(_object([*_fields(head), ("records", _array(texts))]))
        del texts
        if csv_path not in keep:
            yield csv_path, _csv(content.schemas.get(coll.name, {}), records, site, urls)
    if DATASET not in keep:
        yield DATASET, Stream(lambda: _dataset(site, urls, licence))


def _dataset(site: Site, urls: Urls, licence: dict[str, str]) -> Iterator[bytes]:
    """The whole dataset's bytes, piece by piece: each record and entry is serialised as it is written."""
    content = site.content
    head = {"title": content.config.title, "url": urls.absolute(""), "licence": licence}
    collections = [
        (c.name, _array(_dumps(record_json(site, r, urls)).encode() for r in content.records.get(c.name, [])))
        for c in content.config.collections
    ]
    lists = {"sources": content.sources, "timeline": content.timeline, "glossary": content.glossary, "charts": content.charts}
    rest = [(name, _array(_dumps(i.data).encode() for i in items)) for name, items in lists.items()]
    yield from _object([*_fields(head), ("collections", _object(collections, newline=False)), *rest])


def joined(data: Data) -> bytes:
    """A file's bytes in one piece."""
    return data if isinstance(data, bytes) else b"".join(data)


def record_json(site: Site, record: Record, urls: Urls) -> dict[str, Any]:
    """A record as data: its fields with each cited or flagged value kept as a fact object."""
    return {
        "id": record.address,
        "url": urls.absolute(site.targets[record.address].path),
        "data": _rewrap(record, record.data, ()),
    }


def _rewrap(record: Record, value: Any, at: tuple[str | int, ...]) -> Any:
    if isinstance(value, dict):
        inner: Any = {k: _rewrap(record, v, (*at, k)) for k, v in value.items()}
    elif isinstance(value, list):
        inner = [_rewrap(record, v, (*at, i)) for i, v in enumerate(value)]
    else:
        inner = value
    fact = record.facts.get(at)
    if fact is None:
        return inner
    wrapped: dict[str, Any] = {"value": inner}
    if fact.sources:
        wrapped["sources"] = list(fact.sources)
    if fact.status:
        wrapped["status"] = fact.status
    if fact.note:
        wrapped["note"] = fact.note
    return wrapped


def _cited(record: Record) -> set[str]:
    return set(record.data.get("sources", [])) | {s for f in record.facts.values() for s in f.sources}


def _json(data: Any) -> bytes:
    return (_dumps(data) + "\n").encode("utf-8")


def _dumps(data: Any) -> str:
    # Compact: pretty-printing forces Python's slow JSON encoder, and every record is written three times.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _fields(data: dict[str, Any]) -> list[tuple[str, Iterable[bytes]]]:
    return [(k, [_dumps(v).encode()]) for k, v in data.items()]


def _array(texts: Iterable[bytes]) -> Iterator[bytes]:
    """A JSON array of serialised values, piece by piece: the texts themselves, with commas between."""
    yield b"["
    for n, text in enumerate(texts):
        if n:
            yield b","
        yield text
    yield b"]"


def _object(fields: Sequence[tuple[str, Iterable[bytes]]], newline: bool = True) -> Iterator[bytes]:
    """A JSON object, piece by piece, from keys and already serialised values (which can be megabytes)."""
    yield b"{"
    for n, (key, value) in enumerate(fields):
        yield (b"," if n else b"") + _dumps(key).encode() + b":"
        yield from value
    yield b"}\n" if newline else b"}"


def _csv(schema: dict[str, Any], records: list[Record], site: Site, urls: Urls) -> list[bytes]:
    """One row per record: scalar fields as they are, lists joined with '; ', nested values as JSON."""
    fields = [k for k in schema.get("properties", {}) if k not in ("sources",)]
    out = _Pieces()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "url", *fields, "sources"])
    for r in records:
        row = [r.address, urls.absolute(site.targets[r.address].path)]
        for key in fields:
            value = r.data.get(key, "")
            if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
                row.append("; ".join(map(str, value)))
            elif isinstance(value, (dict, list)):
                row.append(json.dumps(value, ensure_ascii=False))
            else:
                row.append("" if value is None else str(value))
        row.append("; ".join(sorted(_cited(r))))
        writer.writerow(row)
    return out.pieces


class _Pieces:
    """A file-like target for the csv module that keeps each row encoded, as a piece: the file is never one copy."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def write(self, text: str) -> int:
        self.pieces.append(text.encode("utf-8"))
        return len(text)
