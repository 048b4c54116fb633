"""The site's data as files readers can download: each record, each collection (CSV, JSON), the whole dataset."""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .cache import Piece, PieceStore, piece_key
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


def data_files(
    site: Site, urls: Urls, keep: frozenset[str] = frozenset(), pieces: PieceStore | None = None
) -> Iterator[tuple[str, Data]]:
    """Every download: JSON per record, JSON and CSV per collection, and the whole dataset (one at a time); files
    named in `keep` are unchanged since the last build and are not made again. Each record is made into its
    piece once (its JSON and its CSV row), or taken from `pieces` when an earlier build made it from the same
    fact file; the record's own file, its collection's files and the dataset are put together from it."""
    content = site.content
    licence = _licence(site)
    store = pieces if pieces is not None else PieceStore()
    dataset = DATASET not in keep  # every record's piece is needed
    again: dict[str, Callable[[], Iterator[Piece]]] = {}  # each collection's pieces, once more
    for coll in content.config.collections:
        records = content.records.get(coll.name, [])
        json_path, csv_path = collection_paths(coll.name)
        whole = dataset or json_path not in keep or csv_path not in keep
        schema = content.schemas.get(coll.name, {})
        schema_json, fields = json.dumps(schema, sort_keys=True, default=str), _csv_fields(schema)
        start = store.position()  # the collection's pieces follow one another from here
        for r in records:
            path = record_path(site, r)
            if not whole and path in keep:
                continue
            piece = _piece(site, r, urls, schema_json, fields, store)
            if path not in keep:
                yield path, own_file(site, r, piece[0])
        again[coll.name] = functools.partial(_read_back, site, urls, store, start, records, schema_json, fields)
        if json_path not in keep:
            head = {"collection": coll.name, "title": coll.title, "licence": licence}
            yield json_path, Stream(functools.partial(_collection_json, head, again[coll.name]))
        if csv_path not in keep:
            yield csv_path, Stream(functools.partial(_collection_csv, ["id", "url", *fields, "sources"], again[coll.name]))
    if dataset:
        store.complete = True
        yield DATASET, Stream(lambda: _dataset(site, urls, licence, again))


def own_file(site: Site, record: Record, text: bytes) -> bytes:
    """A record's own file: its piece's JSON (`text`) with the licence and the sources it cites."""
    sources = site.content.sources_by_id
    cited = {s: sources[s].data for s in sorted(_cited(record)) if s in sources}
    return _extended(text, {"licence": _licence(site), "bibliography": cited})


def made_piece(site: Site, record: Record, urls: Urls) -> Piece:
    """A record's piece, made now."""
    schema = site.content.schemas.get(record.collection, {})
    return _piece(site, record, urls, json.dumps(schema, sort_keys=True, default=str), _csv_fields(schema), PieceStore())


def _licence(site: Site) -> dict[str, str]:
    config = site.content.config
    return {"name": config.licence_name, "url": config.licence_url}


def _read_back(
    site: Site, urls: Urls, store: PieceStore, start: int, records: list[Record], schema_json: str, fields: list[str]
) -> Iterator[Piece]:
    """A collection's pieces once more, in order, as its own files are written: read back from the store (a
    collection's pieces are never all held in memory), or made again if the store lost them."""
    kept = store.replay(start, len(records))
    if kept is not None:
        return kept
    return (_piece(site, r, urls, schema_json, fields, PieceStore()) for r in records)


def _collection_json(head: dict[str, Any], pieces: Callable[[], Iterator[Piece]]) -> Iterator[bytes]:
    yield from _object([*_fields(head), ("records", _array(t for t, _ in pieces()))])


def _collection_csv(header: list[str], pieces: Callable[[], Iterator[Piece]]) -> Iterator[bytes]:
    yield csv_line(header)
    yield from (row for _, row in pieces())


def _piece(site: Site, record: Record, urls: Urls, schema_json: str, fields: list[str], store: PieceStore) -> Piece:
    """A record as it appears in its collection's JSON and the dataset, and as its CSV row; from `store` when an
    earlier build made it from this very fact file (a record not read from a file is made each time)."""
    url = urls.absolute(site.targets[record.address].path)
    fact_file = record.doc.raw if record.doc is not None else b""
    key = piece_key(record.address, url, schema_json, fact_file) if fact_file else ""
    return store.piece(key, lambda: (_dumps(record_json(site, record, urls)).encode(), csv_line(_csv_row(record, url, fields))))


def _extended(text: bytes, more: dict[str, Any]) -> bytes:
    """A serialised JSON object with more fields after its own, as one file: the bytes of serialising the whole."""
    return text[:-1] + b"".join(b"," + _dumps(k).encode() + b":" + _dumps(v).encode() for k, v in more.items()) + b"}\n"


def _dataset(
    site: Site, urls: Urls, licence: dict[str, str], pieces: dict[str, Callable[[], Iterator[Piece]]]
) -> Iterator[bytes]:
    """The whole dataset's bytes, piece by piece: each collection's records as made for its own files (`pieces`),
    and each entry of the data files serialised as it is written."""
    content = site.content
    head = {"title": content.config.title, "url": urls.absolute(""), "licence": licence}
    collections = [(c.name, _array(t for t, _ in pieces[c.name]())) for c in content.config.collections]
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
        "data": _rewrap(record, record.data, (), _holding_facts(record)),
    }


def _holding_facts(record: Record) -> set[tuple[str | int, ...]]:
    """Every path at or above one of the record's facts: the values below any other are written as they are."""
    return {at[:n] for at in record.facts for n in range(len(at) + 1)}


def _rewrap(record: Record, value: Any, at: tuple[str | int, ...], holding: set[tuple[str | int, ...]]) -> Any:
    if at not in holding:
        return value
    if isinstance(value, dict):
        inner: Any = {k: _rewrap(record, v, (*at, k), holding) for k, v in value.items()}
    elif isinstance(value, list):
        inner = [_rewrap(record, v, (*at, i), holding) for i, v in enumerate(value)]
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


def _csv_fields(schema: dict[str, Any]) -> list[str]:
    """A collection's CSV columns between id and url and its sources: the schema's fields."""
    return [k for k in schema.get("properties", {}) if k not in ("sources",)]


def _csv_row(record: Record, url: str, fields: list[str]) -> list[str]:
    """Scalar fields as they are, lists joined with '; ', nested values as JSON."""
    row = [record.address, url]
    for key in fields:
        value = record.data.get(key, "")
        if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
            row.append("; ".join(map(str, value)))
        elif isinstance(value, (dict, list)):
            row.append(json.dumps(value, ensure_ascii=False))
        else:
            row.append("" if value is None else str(value))
    row.append("; ".join(sorted(_cited(record))))
    return row


def csv_line(row: list[str]) -> bytes:
    """One CSV line, quoted as the csv module quotes it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue().encode("utf-8")
