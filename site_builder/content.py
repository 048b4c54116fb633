"""Parse the content tree into plain values: records, sources, timeline, glossary, charts, pages."""

from __future__ import annotations

import functools
import json
import marshal
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from . import markup, yamlfile
from . import schema as schemas
from .collation import collation_key
from .config import SLUG, Collection, SiteConfig, parse_config
from .errors import SiteError, did_you_mean
from .parallel import map_ordered
from .tree import Tree
from .yamlfile import Located, Mark, Path_

if TYPE_CHECKING:
    from .cache import RecordStore

FACT_KEYS = {"value", "sources", "status", "note"}
STATUSES = ("unconfirmed", "weak")


@dataclass(frozen=True, slots=True)  # slots: there are thousands of these
class Fact:
    """How one value is sourced: its sources and, when unconfirmed or weak, a status."""

    sources: tuple[str, ...] = ()
    status: str = ""
    note: str = ""
    origin: Path_ = ()  # where the fact object stands in the YAML document


@dataclass(slots=True)
class Record:
    """One record of a collection: its facts (YAML) and its narrative (Markdown)."""

    collection: str
    slug: str
    data: dict[str, Any]
    facts: dict[Path_, Fact]
    yaml_path: str
    doc: Located | None = None
    md_bytes: bytes = b""  # the Markdown file as read (shared with the tree, not copied), checked to be UTF-8
    md_path: str = ""
    scanned: tuple[tuple[str, str, int, int], ...] | None = None  # markup.scan of the Markdown, as plain tuples

    @property
    def md_text(self) -> str:
        return self.md_bytes.decode("utf-8-sig")

    def mentions(self) -> tuple[markup.Mention, ...]:
        """The links and citations of the record's Markdown, in order (scanned once, when it was parsed)."""
        if self.scanned is None:
            return tuple(markup.scan(self.md_text))
        return tuple(markup.Mention(*m) for m in self.scanned)

    @property
    def address(self) -> str:
        return f"{self.collection}/{self.slug}"

    @property
    def title(self) -> str:
        return str(self.data.get("title", self.slug))

    def mark(self, at: Path_) -> Mark:
        """Where the value at `at` (a path in `data`, fact objects unwrapped) starts in the YAML file."""
        return self.doc.mark(original_path(self.doc.value, at, True)) if self.doc else (1, 1)

    def key_mark(self, at: Path_) -> Mark:
        """Where the key leading to `at` stands."""
        return self.doc.key_mark(original_path(self.doc.value, at, False)) if self.doc else (1, 1)

    def source_mark(self, fact: Fact, index: int) -> Mark:
        """Where a fact's index-th source id stands."""
        return self.doc.mark((*fact.origin, "sources", index)) if self.doc else (1, 1)


def term_id(term: Item) -> str:
    """A glossary term's anchor, the same in every language: its id, or its name made into a slug."""
    return str(term.get("id") or re.sub(r"[^a-z0-9]+", "-", str(term.get("term")).lower()).strip("-"))


def is_fact(value: Any) -> bool:
    """A fact object: a mapping with a value and, at most, sources, a status and a note."""
    return isinstance(value, dict) and "value" in value


def original_path(raw: Any, at: Path_, into_last: bool) -> Path_:
    """The path in the YAML document of `at`, a path in the unwrapped data (fact objects add a 'value' step)."""
    path: list[str | int] = []
    for step in at:
        while is_fact(raw):
            path.append("value")
            raw = raw["value"]
        path.append(step)
        try:
            raw = raw[step]
        except (KeyError, IndexError, TypeError):
            return tuple(path)
    while into_last and is_fact(raw):
        path.append("value")
        raw = raw["value"]
    return tuple(path)


@dataclass(frozen=True, slots=True)  # slots: there are thousands of these
class Item:
    """An entry of a data file (a source, event, term or chart) with where its fields start."""

    data: dict[str, Any]
    path: str
    doc: Located | None = field(default=None, compare=False, repr=False)
    index: int = 0
    valid: bool = True  # False: the entry has problems (reported); it is kept only so that its id is known
    rank: int = 0  # its place when its file is read in order (sources by title, terms by name): see `_ranks`

    def mark(self, key: str | int = "", *more: str | int) -> Mark:
        """Where the entry (or one of its fields, or a part of one) starts in its file."""
        if self.doc is None:
            return (1, 1)
        return self.doc.mark((self.index, key, *more) if key != "" else (self.index,))

    def get(self, key: str, default: Any = "") -> Any:
        return self.data.get(key, default)


class DamagedCache(Exception):
    """An entry of the parsed cache, read when first needed, is not what this code writes: the build that read it
    steps aside for the full build, which parses the file again."""


class LazyItems(Sequence[Item]):
    """A data file's entries as the parsed cache keeps them (each one's marshal data, its id and its reading order),
    each made an `Item` when first read: a quick build (record_edits.py) reads the few sources an edited record
    cites, of 26,000 at 10,000 records."""

    def __init__(self, values: list[bytes], ranks: list[int], doc: Located, ids: list[str]) -> None:
        self.values, self.ranks, self.doc, self.ids = values, ranks, doc, ids
        self.made: dict[int, Item] = {}

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | Sequence[Item]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError(index)
        if i not in self.made:
            try:
                value = marshal.loads(self.values[i])
            except (ValueError, EOFError, TypeError):
                value = None
            if not isinstance(value, dict):
                raise DamagedCache(f"{self.doc.path}: entry {i} in the parsed cache is not a mapping")
            self.made[i] = Item(value, self.doc.path, self.doc, i, rank=self.ranks[i])
        return self.made[i]

    def by_id(self) -> Mapping[str, Item]:
        """The entries by id (the last of a repeated id, as a dict of them would), made when looked up."""
        return _ById(self, {ident: i for i, ident in enumerate(self.ids)})


class _ById(Mapping[str, Item]):
    def __init__(self, entries: LazyItems, places: dict[str, int]) -> None:
        self.entries, self.places = entries, places

    def __getitem__(self, key: str) -> Item:
        return self.entries[self.places[key]]

    def __contains__(self, key: object) -> bool:
        return key in self.places

    def __iter__(self) -> Iterator[str]:
        return iter(self.places)

    def __len__(self) -> int:
        return len(self.places)


@dataclass(frozen=True)
class Document:
    """A Markdown file with YAML front matter: a free page or the home page."""

    slug: str
    path: str
    meta: dict[str, Any]
    body: str
    body_line: int
    marks: dict[Path_, Mark] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.slug))


@dataclass
class Content:
    """Everything the content tree says, parsed but not yet cross-checked."""

    config: SiteConfig
    schemas: dict[str, dict[str, Any]]
    schema_files: dict[str, str]
    records: dict[str, list[Record]]
    sources: Sequence[Item]
    timeline: list[Item]
    glossary: list[Item]
    charts: list[Item]
    pages: list[Document]
    home: Document | None
    broken: dict[str, str] = field(default_factory=dict)  # address -> fact file, for records that did not parse
    broken_sources: set[str] = field(default_factory=set)  # ids of sources whose entries have problems (reported)
    sources_unreadable: bool = False  # sources.yaml as a whole could not be read (reported): no id can be checked
    translated_files: dict[str, bytes] = field(default_factory=dict)  # translation files (name in content/ -> bytes)
    language_name: str = ""  # for an edition in another language: that language's name
    untranslated: frozenset[str] = frozenset()  # addresses shown in the first language because no translation exists
    heading_ids: dict[str, list[str]] = field(default_factory=dict)  # address -> its headings' anchors, in translations
    dates: dict[str, str] = field(default_factory=dict)  # content file -> last commit date

    def all_records(self) -> list[Record]:
        return [r for c in self.config.collections for r in self.records.get(c.name, [])]

    @functools.cached_property
    def sources_by_id(self) -> Mapping[str, Item]:
        if isinstance(self.sources, LazyItems):
            return self.sources.by_id()
        return {str(s.get("id")): s for s in self.sources}

    @functools.cached_property
    def records_by_address(self) -> dict[str, Record]:
        return {r.address: r for r in self.all_records()}


_S = {"type": "string"}
_IDS = {"type": "array", "items": {"type": "string"}}
_ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}
_STATUS = {"enum": list(STATUSES)}
_DATE = {"type": "string", "format": "date"}


def _list_of(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    item = {"type": "object", "additionalProperties": False, "required": required, "properties": props}
    return {"type": "array", "items": item}


SOURCES_SCHEMA = _list_of(
    {
        "id": _ID,
        "title": _S,
        "publisher": _S,
        "author": _S,
        "published": _DATE,
        "url": {"type": "string", "format": "uri"},
        "accessed": _DATE,
        "language": _S,
        "archive_url": {"type": "string", "format": "uri"},
        "reliability": {"enum": ["weak"]},
        "note": _S,
    },
    ["id", "title"],
)
TIMELINE_SCHEMA = _list_of(
    {
        "id": _ID,
        "date": _DATE,
        "approx": {"type": "boolean"},
        "title": _S,
        "text": _S,
        "links": _IDS,
        "sources": _IDS,
        "status": _STATUS,
    },
    ["date", "title"],
)
GLOSSARY_SCHEMA = _list_of(
    {"term": _S, "id": _ID, "expansion": _S, "definition": _S, "aliases": _IDS, "links": _IDS, "sources": _IDS},
    ["term", "definition"],
)
_SERIES = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "values"],
    "properties": {"name": _S, "values": {"type": "array", "items": {"type": ["number", "null"]}}, "status": _STATUS},
}
CHARTS_SCHEMA = _list_of(
    {
        "id": _ID,
        "title": _S,
        "description": _S,
        "kind": {"enum": ["bar", "line"]},
        "unit": _S,
        "categories": {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1},
        "series": {"type": "array", "items": _SERIES, "minItems": 1},
        "sources": _IDS,
        "note": _S,
    },
    ["id", "title", "description", "categories", "series"],
)
PAGE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title"],
    "properties": {
        "title": _S,
        "description": _S,
        "sources": _IDS,
        "glossary_links": {"type": "boolean"},
        "updated": _DATE,
        "key_figures": _list_of({"value": _S, "label": _S, "sources": _IDS, "status": _STATUS}, ["value", "label"]),
    },
}


def parse_content(
    tree: Tree, base_url: str | None = None, workers: int = 1, store: RecordStore | None = None
) -> tuple[Content | None, list[SiteError]]:
    """Parse and validate every content file (records on `workers` cores, those in `store` taken from it);
    return all problems, not just the first."""
    files = tree.under("content")
    errors: list[SiteError] = []
    site = _load(files, "site.yaml", errors, required=True)
    if site is None:
        return None, errors
    config, problems = parse_config(site, "content/site.yaml", base_url)
    if config is None:
        return None, errors + problems
    prefixes = {lang.prefix for lang in config.languages[1:]}
    translated = {n: files.pop(n) for n in list(files) if language_suffix(n, prefixes)}  # read by translations.py
    schema_map, schema_files = {}, {}
    for coll in config.collections:
        loaded = _load_schema(files, coll, errors, store)
        if loaded is not None:
            schema_map[coll.name], schema_files[coll.name] = loaded, coll.schema_file
    jobs = [job for coll in config.collections for job in record_jobs(files, coll, schema_map.get(coll.name), errors)]
    lists: dict[str, Sequence[Item]] = {}
    broken_sources: set[str] = set()
    list_errors: list[SiteError] = []

    def read_lists() -> None:  # while the workers parse the records: sources.yaml alone is a second at 10,000 records
        lists["sources"] = _items(files, "sources.yaml", SOURCES_SCHEMA, list_errors, store, required=True, broken=broken_sources)
        for name, schema in (("timeline", TIMELINE_SCHEMA), ("glossary", GLOSSARY_SCHEMA), ("charts", CHARTS_SCHEMA)):
            lists[name] = _items(files, f"{name}.yaml", schema, list_errors, store)

    parsed = parse_records(jobs, workers, store, meanwhile=read_lists)
    errors += list_errors
    content = Content(
        config=config,
        schemas=schema_map,
        schema_files=schema_files,
        records={coll.name: [] for coll in config.collections},
        sources=lists["sources"],
        timeline=list(lists["timeline"]),
        glossary=list(lists["glossary"]),
        charts=list(lists["charts"]),
        pages=[d for name in sorted(files) if (d := _page(files, name, errors)) is not None],
        home=document(files, "home.md", "home", errors) if "home.md" in files else None,
        dates=dict(tree.dates),
        broken_sources=broken_sources,
        translated_files=translated,
    )
    # A YAML mistake in sources.yaml (a bad indent, a repeated key) loses the whole file: it is reported once, and no
    # citation is blamed for it.
    content.sources_unreadable = not content.sources and any(e.path == "content/sources.yaml" for e in list_errors)
    for (coll_name, slug, *_), (record, found) in zip(jobs, parsed, strict=True):
        errors.extend(found)
        if record is not None:
            content.records[coll_name].append(record)
        elif SLUG.match(slug):
            content.broken[f"{coll_name}/{slug}"] = f"content/{coll_name}/{slug}.yaml"
    errors += _stray_files(files, config)
    return content, errors


def language_suffix(name: str, prefixes: set[str]) -> str:
    """The language prefix a content file name carries ('companies/catl.zh.md' → 'zh'), or ''."""
    parts = name.rsplit("/", 1)[-1].split(".")
    return parts[-2] if len(parts) >= 3 and parts[-2] in prefixes else ""


def _load(files: dict[str, bytes], name: str, errors: list[SiteError], required: bool = False, path: str = "") -> Located | None:
    path = path or f"content/{name}"
    if name not in files:
        if required:
            errors.append(SiteError(path, "file is missing", f"create {path}"))
        return None
    try:
        return yamlfile.load(yamlfile.decode(files[name], path), path)
    except SiteError as exc:
        errors.append(exc)
        return None


def _load_schema(
    files: dict[str, bytes], coll: Collection, errors: list[SiteError], store: RecordStore | None = None
) -> dict[str, Any] | None:
    doc = _load(files, coll.schema_file, errors)
    path = f"content/{coll.schema_file}"
    if doc is None:
        if coll.schema_file not in files:
            errors.append(
                SiteError(
                    "content/site.yaml",
                    f"schema file {path} of collection '{coll.name}' is missing",
                    f"create {path} or fix 'schema:'",
                )
            )
        return None
    if not isinstance(doc.value, dict):
        errors.append(SiteError(path, "a schema must be a mapping", "start with 'type: object' and 'properties:'"))
        return None
    problems = store.schema_problems(doc.value) if store is not None else schemas.schema_problems(doc.value)
    errors.extend(SiteError(path, p, "see the JSON Schema reference") for p in problems)
    return None if problems else schemas.record_schema(doc.value)


RecordJob = tuple[str, str, bytes, bytes | None, str]  # collection, slug, YAML, Markdown (or None), schema as JSON


def record_jobs(
    files: dict[str, bytes], coll: Collection, schema: dict[str, Any] | None, errors: list[SiteError]
) -> list[RecordJob]:
    """What each record of a collection is parsed from; files that cannot be records are reported."""
    prefix = coll.name + "/"
    schema_json = json.dumps(schema, sort_keys=True) if schema is not None else ""  # once per collection, not per record
    names = sorted(n for n in files if n.startswith(prefix) and "/" not in n[len(prefix) :])
    stems = {n[len(prefix) :].rsplit(".", 1)[0] for n in names if n.endswith(".yaml")}
    jobs: list[RecordJob] = []
    for name in names:
        stem, _, ext = name[len(prefix) :].rpartition(".")
        path = f"content/{name}"
        if ext == "md" and stem not in stems:
            errors.append(
                SiteError(path, "Markdown file without a fact file", f"create {prefix}{stem}.yaml with at least 'title:'")
            )
        elif ext not in ("yaml", "md"):
            errors.append(
                SiteError(path, f"unexpected file in collection '{coll.name}'", "records are <slug>.yaml and <slug>.md")
            )
        elif ext == "yaml":
            jobs.append((coll.name, stem, files[name], files.get(f"{prefix}{stem}.md"), schema_json))
    return jobs


ParsedRecord = tuple["Record | None", tuple[SiteError, ...]]

# A record is a pure function of its two files and its schema. The results of the last build are remembered, so
# a long-running `serve` parses and validates only the records whose files changed since its previous build.
_last_parsed: dict[RecordJob, ParsedRecord] = {}


def parse_records(
    jobs: list[RecordJob], workers: int, store: RecordStore | None = None, meanwhile: Callable[[], object] | None = None
) -> list[ParsedRecord]:
    """Every job's record and problems, in order; the new ones parsed on `workers` cores, while this process does
    `meanwhile` (parallel.map_ordered)."""
    global _last_parsed
    known = dict(_last_parsed)
    if store is not None:
        known.update((job, hit) for job in jobs if job not in known and (hit := store.get(job)) is not None)
    todo = [job for job in jobs if job not in known]
    parse = _parse_record if workers < 2 else _parse_record_lean
    found = list(map_ordered(parse, todo, workers, meanwhile=meanwhile))  # meanwhile is done even if todo is empty
    known.update((job, _restore_texts(job, parsed)) for job, parsed in zip(todo, found, strict=True))
    _last_parsed = {job: known[job] for job in jobs}
    if store is not None:
        for job in jobs:
            store.keep(job, known[job])
        store.forget_keys()
    return [known[job] for job in jobs]


def _parse_record(job: RecordJob) -> ParsedRecord:
    errors: list[SiteError] = []
    record = _read_record(*job, errors)
    return record, tuple(errors)


def _parse_record_lean(job: RecordJob) -> ParsedRecord:
    """`_parse_record` without the texts the parent already has: sending them back costs more than decoding."""
    record, errors = _parse_record(job)
    if record is not None:
        record.md_bytes = b""
        if record.doc is not None:
            record.doc.keep_bytes(b"")
    return record, errors


def _restore_texts(job: RecordJob, parsed: ParsedRecord) -> ParsedRecord:
    record = parsed[0]
    if record is not None and record.doc is not None and not record.doc.text:
        record.doc.keep_bytes(job[2])
    if record is not None and record.md_path and not record.md_bytes and job[3]:
        record.md_bytes = job[3]
    return parsed


def _read_record(
    collection: str, slug: str, yaml_bytes: bytes, md_bytes: bytes | None, schema_json: str, errors: list[SiteError]
) -> Record | None:
    path = f"content/{collection}/{slug}.yaml"
    if not SLUG.match(slug):
        errors.append(
            SiteError(
                path,
                f"bad slug '{slug}': use lower-case letters, digits and hyphens",
                f"rename the file to {re.sub('[^a-z0-9-]+', '-', slug.lower()).strip('-') or 'record'}.yaml",
            )
        )
        return None
    doc = _load({"fact file": yaml_bytes}, "fact file", errors, path=path)
    if doc is None:
        return None
    if not isinstance(doc.value, dict):
        errors.append(SiteError(path, "a fact file must be a mapping of fields", "start with 'title: …'"))
        return None
    doc.keep_bytes(yaml_bytes)
    record = Record(collection, slug, {}, {}, path, doc)
    record.data = _unwrap(doc.value, (), (), doc, record, errors)
    if schema_json:
        errors.extend(schemas.validate_json(record.data, schema_json, path, record.mark, record.key_mark))
        record.data = schemas.read_years(record.data, schema_json)
    if md_bytes is not None:
        md_path = f"content/{collection}/{slug}.md"
        try:
            text = yamlfile.decode(md_bytes, md_path)
            record.md_bytes, record.md_path = md_bytes, md_path
            # Here, on the parsing workers, and kept with the parsed record; tuples cross between processes quicker.
            record.scanned = tuple((m.kind, m.target, m.line, m.col) for m in markup.scan(text))
        except SiteError as exc:
            errors.append(exc)
    return record


def _unwrap(value: Any, at: Path_, orig: Path_, doc: Located, record: Record, errors: list[SiteError]) -> Any:
    """Replace fact objects by their values, noting their sources and flags by path."""
    if is_fact(value) and at:
        extra = sorted(set(value) - FACT_KEYS)
        for key in extra:
            errors.append(
                SiteError(
                    record.yaml_path,
                    f"unknown key '{key}' in a fact object",
                    did_you_mean(key, FACT_KEYS) or "a fact object has value, sources, status, note",
                    *doc.key_mark((*orig, key)),
                )
            )
        record.facts[at] = _fact(value, orig, doc, record.yaml_path, errors)
        return _unwrap(value["value"], at, (*orig, "value"), doc, record, errors)
    # Parts without fact objects are kept as they are, not copied: a record is held once in memory, not twice.
    if isinstance(value, dict):
        out = {k: _unwrap(v, (*at, k), (*orig, k), doc, record, errors) for k, v in value.items()}
        return value if all(out[k] is v for k, v in value.items()) else out
    if isinstance(value, list):
        items = [_unwrap(v, (*at, i), (*orig, i), doc, record, errors) for i, v in enumerate(value)]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _fact(obj: dict[str, Any], orig: Path_, doc: Located, path: str, errors: list[SiteError]) -> Fact:
    sources, status, note = obj.get("sources", []), obj.get("status", ""), obj.get("note", "")
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        errors.append(
            SiteError(
                path, "'sources' of a fact must be a list of source ids", "write sources: [id, …]", *doc.mark((*orig, "sources"))
            )
        )
        sources = []
    if status not in ("", *STATUSES):
        errors.append(
            SiteError(
                path,
                f"unknown status {status!r}",
                did_you_mean(str(status), STATUSES) or "use unconfirmed or weak",
                *doc.mark((*orig, "status")),
            )
        )
        status = ""
    if not isinstance(note, str):
        errors.append(SiteError(path, "'note' must be text", "quote it", *doc.mark((*orig, "note"))))
        note = ""
    return Fact(tuple(sources), status, note, orig)


def _items(
    files: dict[str, bytes],
    name: str,
    schema: dict[str, Any],
    errors: list[SiteError],
    store: RecordStore | None = None,
    required: bool = False,
    broken: set[str] | None = None,
) -> Sequence[Item]:
    """The entries of a list file that have no problem (from `store`, when it has this file: made when first read,
    if the store says so); the ids of those that have one go into `broken`."""
    data, schema_json = files.get(name), json.dumps(schema, sort_keys=True)
    kept = store.items(name, data, schema_json) if store is not None and data is not None else None
    if kept is not None:
        return kept if isinstance(kept, LazyItems) else list(kept)
    items, found = _parse_items(name, data, schema_json, required)
    errors.extend(found)
    if store is not None and data is not None and items and not found:
        store.keep_items(name, data, schema_json, items)
    if broken is not None:
        broken.update(
            i.data["id"] for i in items if not i.valid and isinstance(i.data, dict) and isinstance(i.data.get("id"), str)
        )
    return [i for i in items if i.valid]


@functools.lru_cache(maxsize=64)  # like _parse_record: serve re-reads only the data files that changed
def _parse_items(
    name: str, data: bytes | None, schema_json: str, required: bool
) -> tuple[tuple[Item, ...], tuple[SiteError, ...]]:
    errors: list[SiteError] = []
    doc = _load({name: data} if data is not None else {}, name, errors, required)
    path = f"content/{name}"
    if doc is None or doc.value is None:
        return (), tuple(errors)
    if not isinstance(doc.value, list):
        return (), tuple(errors + schemas.validate_json(doc.value, schema_json, path, doc.mark, doc.key_mark))
    # Each entry is checked on its own: one bad entry is reported once, and the others still load.
    item_json = json.dumps(json.loads(schema_json)["items"], sort_keys=True)
    doc.keep_bytes(data or b"")
    valid = []
    for i, entry in enumerate(doc.value):
        found = schemas.validate_json(entry, item_json, path, _at(doc.mark, i), _at(doc.key_mark, i))
        errors.extend(found)
        valid.append(not found)
    ranks = _ranks(name, [entry if ok else {} for entry, ok in zip(doc.value, valid, strict=True)])
    items = [Item(entry, path, doc, i, valid[i], ranks[i]) for i, entry in enumerate(doc.value)]
    _check_unique_ids([i for i in items if i.valid], errors)
    if name == "charts.yaml":
        _check_series_lengths([i for i in items if i.valid], errors)
    return tuple(items), tuple(errors)


def _ranks(name: str, entries: list[Any]) -> list[int]:
    """Each entry's place in reading order: sources by title (then id) and glossary terms by name, both by the
    Unicode Collation Algorithm (worked out here, once per file, and kept with the parsed file); others as written."""
    field = {"sources.yaml": "title", "glossary.yaml": "term"}.get(name)
    if field is None:
        return list(range(len(entries)))
    keys = [(collation_key(str(e.get(field, ""))), str(e.get("id", "")) if field == "title" else "") for e in entries]
    order = sorted(range(len(entries)), key=keys.__getitem__)
    ranks = [0] * len(entries)
    for place, i in enumerate(order):
        ranks[i] = place
    return ranks


def _at(mark: Callable[[Path_], Mark], index: int) -> Callable[[Path_], Mark]:
    """A position finder for one entry of a list file, from the file's own."""
    return lambda path: mark((index, *path))


def _check_series_lengths(charts: list[Item], errors: list[SiteError]) -> None:
    for chart in charts:
        wanted = len(chart.get("categories", []))
        for n, series in enumerate(chart.get("series", [])):
            if len(series["values"]) != wanted:
                errors.append(
                    SiteError(
                        chart.path,
                        f"series '{series['name']}' has {len(series['values'])} values for {wanted} categories",
                        "give one value per category (null where there is none)",
                        *chart.mark("series", n, "values"),
                    )
                )


def _check_unique_ids(items: list[Item], errors: list[SiteError]) -> None:
    first: dict[str, Item] = {}
    for item in items:
        ident = item.get("id")
        if ident and ident in first:  # positions are worked out only now: they cost a second, careful parse
            errors.append(
                SiteError(
                    item.path,
                    f"duplicate id '{ident}' (first on line {first[ident].mark('id')[0]})",
                    "give each entry its own id",
                    *item.mark("id"),
                )
            )
        elif ident:
            first[ident] = item


FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.S)


def _page(files: dict[str, bytes], name: str, errors: list[SiteError]) -> Document | None:
    if not name.startswith("pages/") or "/" in name[6:]:
        return None
    slug, _, ext = name[6:].rpartition(".")
    path = f"content/{name}"
    if ext != "md":
        errors.append(SiteError(path, "unexpected file in pages/", "free pages are <slug>.md"))
        return None
    if not SLUG.match(slug):
        errors.append(SiteError(path, f"bad slug '{slug}'", "use lower-case letters, digits and hyphens"))
        return None
    return document(files, name, slug, errors)


def document(files: dict[str, bytes], name: str, slug: str, errors: list[SiteError]) -> Document | None:
    path = f"content/{name}"
    try:
        text = yamlfile.decode(files[name], path)
    except SiteError as exc:
        errors.append(exc)
        return None
    match = FRONT_MATTER.match(text)
    if not match:
        errors.append(SiteError(path, "missing front matter", "start the file with '---', 'title: …', '---'"))
        return None
    try:
        doc = yamlfile.load("\n" + (match.group(1) or ""), path)
    except SiteError as exc:
        errors.append(exc)
        return None
    meta = doc.value if isinstance(doc.value, dict) else {}
    if not isinstance(doc.value, dict):
        errors.append(SiteError(path, "front matter must be a mapping", "write 'title: …' between the --- lines"))
        return None
    problems = schemas.validate(meta, PAGE_SCHEMA, path, doc.mark, doc.key_mark)
    errors.extend(problems)
    body_line = text.count("\n", 0, match.end()) + 1
    return None if problems else Document(slug, path, meta, text[match.end() :], body_line, dict(doc.marks))


def _stray_files(files: dict[str, bytes], config: SiteConfig) -> list[SiteError]:
    known_dirs = {c.name for c in config.collections} | {"pages", "schemas"}
    known_files = {"site.yaml", "sources.yaml", "timeline.yaml", "glossary.yaml", "charts.yaml", "home.md"}
    errors = []
    for name in sorted(files):
        top = name.split("/", 1)[0]
        if "/" in name and top not in known_dirs:
            errors.append(
                SiteError(
                    f"content/{name}",
                    f"folder '{top}' is not a declared collection",
                    did_you_mean(top, known_dirs) or "declare it under 'collections:' in site.yaml",
                )
            )
        elif "/" not in name and name not in known_files:
            errors.append(
                SiteError(
                    f"content/{name}",
                    "unexpected file in content/",
                    did_you_mean(name, known_files) or f"known files: {', '.join(sorted(known_files))}",
                )
            )
    return errors
