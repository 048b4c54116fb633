"""Other editions of the site: translated prose and labels laid over the one set of facts.

A translation file sits beside what it translates, with the language's prefix before the extension:
`companies/catl.zh.md` (front matter: the record's text fields; body: its prose), `pages/about.zh.md`,
`home.zh.md`, `site.zh.yaml`, `timeline.zh.yaml`, `glossary.zh.yaml`, `sources.zh.yaml`, `charts.zh.yaml` (entries
by id) and `schemas/<name>.zh.yaml` (field titles). Facts, numbers, dates, links and citations are never
translated: they come from the one fact file. What has no translation is shown in the default language.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import markup, yamlfile
from . import schema as schemas
from .config import Collection, Language, NavItem, SiteConfig
from .content import FRONT_MATTER, Content, Document, Item, Record, document, language_suffix, term_id
from .errors import SiteError, did_you_mean
from .labels import known_labels

DATA_FILES = ("timeline", "glossary", "sources", "charts")
_TEXT_KEYS = {
    "timeline": ("title", "text"),
    "glossary": ("term", "expansion", "definition", "aliases"),
    "sources": ("note",),
    "charts": ("title", "description", "unit", "note", "series", "categories"),
}


@dataclass
class Translation:
    """Everything translated into one language, as read from its files."""

    language: Language
    site: dict[str, Any] = field(default_factory=dict)
    records: dict[str, tuple[dict[str, Any], bytes, str]] = field(default_factory=dict)  # address -> (texts, body, path)
    documents: dict[str, Document] = field(default_factory=dict)  # 'home', 'pages/<slug>'
    items: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # 'timeline' -> id -> texts
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)  # collection -> titles and descriptions


def read_translations(files: dict[str, bytes], config: SiteConfig, errors: list[SiteError]) -> list[Translation]:
    """The translation files of every language but the first, parsed and checked."""
    found = []
    for language in config.languages[1:]:
        t = Translation(language)
        p = language.prefix
        for name, data in sorted(files.items()):
            if language_suffix(name, {p}) != p:
                continue
            path = f"content/{name}"
            original = name.replace(f".{p}.", ".")
            if name == f"site.{p}.yaml":
                t.site = _mapping(data, path, errors)
            elif name.split("/")[0] == "schemas":
                owners = [c for c in config.collections if c.schema_file == original]
                t.schemas.update({c.name: _mapping(data, path, errors) for c in owners})
                if not owners:
                    errors.append(
                        SiteError(path, "this file translates no collection's schema", f"no collection uses {original}")
                    )
            elif "/" not in name and name.removesuffix(f".{p}.yaml") in DATA_FILES:
                kind = name.removesuffix(f".{p}.yaml")
                t.items[kind] = _entries(data, path, kind, errors)
            elif name == f"home.{p}.md" or name.startswith("pages/"):
                slug = "home" if name.startswith("home.") else name[6:].removesuffix(f".{p}.md")
                doc = document(files, name, slug, errors)
                if doc is not None:
                    t.documents["home" if slug == "home" else f"pages/{slug}"] = doc
            elif name.endswith(f".{p}.md") and name.split("/")[0] in {c.name for c in config.collections}:
                texts, body = _front_matter(data, path, errors)
                t.records[original.removesuffix(".md")] = (texts, body, path)
            else:
                errors.append(
                    SiteError(path, "this file translates nothing", f"a translation sits beside its original: {original}")
                )
        found.append(t)
    return found


def _mapping(data: bytes, path: str, errors: list[SiteError]) -> dict[str, Any]:
    try:
        doc = yamlfile.load(yamlfile.decode(data, path), path)
    except SiteError as exc:
        errors.append(exc)
        return {}
    if doc.value is None:
        return {}
    if not isinstance(doc.value, dict):
        errors.append(SiteError(path, "a translation file must be a mapping", "see docs/languages.md"))
        return {}
    return doc.value


def _entries(data: bytes, path: str, kind: str, errors: list[SiteError]) -> dict[str, dict[str, Any]]:
    try:
        doc = yamlfile.load(yamlfile.decode(data, path), path)
    except SiteError as exc:
        errors.append(exc)
        return {}
    entries: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(doc.value if isinstance(doc.value, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            errors.append(SiteError(path, "each entry needs the id of the entry it translates", "add 'id: …'", *doc.mark((i,))))
            continue
        for key in sorted(set(entry) - {"id", *_TEXT_KEYS[kind]}):
            hint = did_you_mean(key, _TEXT_KEYS[kind]) or f"only these are translated: {', '.join(_TEXT_KEYS[kind])}"
            errors.append(SiteError(path, f"'{key}' is not translated here", hint, *doc.key_mark((i, key))))
        entries[entry["id"]] = entry
    return entries


def _front_matter(data: bytes, path: str, errors: list[SiteError]) -> tuple[dict[str, Any], bytes]:
    """A translated record's texts (front matter) and its prose, with the front matter's lines left blank so that
    positions in the prose are those of the file."""
    try:
        text = yamlfile.decode(data, path)
    except SiteError as exc:
        errors.append(exc)
        return {}, b""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, data
    try:
        meta = yamlfile.load("\n" + (match.group(1) or ""), path).value
    except SiteError as exc:
        errors.append(exc)
        meta = {}
    if not isinstance(meta, dict):
        errors.append(SiteError(path, "front matter must be a mapping", "write 'title: …' between the --- lines"))
        meta = {}
    body = "\n" * text.count("\n", 0, match.end()) + text[match.end() :]
    return meta, body.encode("utf-8")


def localise(content: Content, t: Translation, errors: list[SiteError], missing: list[SiteError]) -> Content:
    """The content of one edition: its translations laid over the facts; whatever is not translated stays as it is
    (and is listed in `missing`)."""
    config = _config(content.config, t, errors)
    absent: set[str] = set()  # addresses shown (at least in part) in the first language
    records = {
        name: [_record(r, t, content.schemas.get(name, {}), errors, missing, absent) for r in rs]
        for name, rs in content.records.items()
    }
    pages = [_document(d, f"pages/{d.slug}", t, missing, absent) for d in content.pages]
    home = _document(content.home, "home", t, missing, absent) if content.home else None
    local = dataclasses.replace(
        content,
        config=config,
        schemas={c: _schema(s, t.schemas.get(c, {})) for c, s in content.schemas.items()},
        records=records,
        pages=pages,
        home=home,
        sources=_items(content.sources, t.items.get("sources", {}), "sources"),
        timeline=_items(content.timeline, t.items.get("timeline", {}), "timeline"),
        glossary=_items(content.glossary, t.items.get("glossary", {}), "glossary"),
        charts=_items(content.charts, t.items.get("charts", {}), "charts"),
        language_name=t.language.name,
        untranslated=frozenset(absent),
        heading_ids=_heading_ids(content, t),
    )
    known = {r.address for r in content.all_records()}
    for address, (_, _, path) in t.records.items():
        if address not in known:
            hint = did_you_mean(address, known) or "a translation sits beside the fact file it translates"
            errors.append(SiteError(path, f"there is no record {address} to translate", hint))
    documents = {f"pages/{d.slug}" for d in content.pages} | ({"home"} if content.home else set())
    for address, doc in t.documents.items():
        if address not in documents:
            errors.append(SiteError(doc.path, f"there is no page {address} to translate", did_you_mean(address, documents)))
    for kind in DATA_FILES:
        known = {term_id(i) for i in getattr(local, kind)}
        for ident in t.items.get(kind, {}):
            if ident not in known:
                errors.append(
                    SiteError(
                        f"content/{kind}.{t.language.prefix}.yaml", f"no entry '{ident}' to translate", did_you_mean(ident, known)
                    )
                )
    return local


def _heading_ids(content: Content, t: Translation) -> dict[str, list[str]]:
    """The anchors of the original's headings, for each translated record and page: #links work in every language."""
    found = {r.address: markup.heading_ids(r.md_text) for r in content.all_records() if r.address in t.records}
    docs = [(f"pages/{d.slug}", d) for d in content.pages] + ([("home", content.home)] if content.home else [])
    found.update({address: markup.heading_ids(d.body) for address, d in docs if address in t.documents})
    return found


def _config(config: SiteConfig, t: Translation, errors: list[SiteError]) -> SiteConfig:
    s = t.site
    nav = s.get("navigation", {}) if isinstance(s.get("navigation"), dict) else {}
    colls = s.get("collections", {}) if isinstance(s.get("collections"), dict) else {}
    labels = {str(k): str(v) for k, v in (s.get("labels") or {}).items()} if isinstance(s.get("labels"), dict) else {}
    for label in labels:
        if label not in known_labels():
            path = f"content/site.{t.language.prefix}.yaml"
            errors.append(
                SiteError(path, f"unknown label {label!r}", did_you_mean(label, known_labels()) or "see docs/content.md")
            )
    return dataclasses.replace(
        config,
        title=str(s.get("title") or config.title),
        description=str(s.get("description") or config.description),
        author=str(s.get("author") or config.author),
        publisher=str(s.get("publisher") or config.publisher),
        language=t.language.code,
        labels=labels,
        navigation=tuple(NavItem(str(nav.get(n.link, n.title)), n.link) for n in config.navigation),
        collections=tuple(_collection(c, colls.get(c.name)) for c in config.collections),
    )


def _collection(c: Collection, given: Any) -> Collection:
    if not isinstance(given, dict):
        return c
    texts: dict[str, Any] = {
        k: str(given[k]) for k in ("title", "singular", "plural", "description") if isinstance(given.get(k), str)
    }
    return dataclasses.replace(c, **texts)


def _record(
    record: Record, t: Translation, schema: dict[str, Any], errors: list[SiteError], missing: list[SiteError], absent: set[str]
) -> Record:
    found = t.records.get(record.address)
    if found is None:
        original = record.md_path or record.yaml_path
        missing.append(SiteError(original, f"no {t.language.name} translation", f"write {_translation_of(original, t)}", 0))
        absent.add(record.address)
        return record
    given, body, path = found
    notes = given["notes"] if isinstance(given.get("notes"), dict) else {}
    texts = {k: v for k, v in given.items() if k not in ("notes", "sources", "updated")}
    for key in sorted(set(given) & {"sources", "updated"}):
        errors.append(SiteError(path, f"'{key}' is not translated", f"it comes from the fact file: remove '{key}:' here"))
    if not body.strip() and record.md_text.strip():  # the fields are translated, the prose not yet
        hint = f"write it below the front matter, from {record.md_path}"
        missing.append(SiteError(path, f"the prose is not translated into {t.language.name}", hint, 0))
        absent.add(record.address)
    data = _overlay(record.data, texts, (), path, errors, schema, schema)
    facts = {
        at: dataclasses.replace(f, note=str(notes[_dotted(at)])) if _dotted(at) in notes else f for at, f in record.facts.items()
    }
    if not body.strip():
        return dataclasses.replace(record, data=data, facts=facts)
    return dataclasses.replace(record, data=data, facts=facts, md_bytes=body, md_path=path, scanned=None)


def _dotted(at: tuple[str | int, ...]) -> str:
    return ".".join(map(str, at))


def _overlay(
    value: Any, texts: Any, at: tuple[str | int, ...], path: str, errors: list[SiteError], schema: Any, root: dict[str, Any]
) -> Any:
    """`value` with its text leaves replaced by those of `texts` (same shape); anything else is an error."""
    schema = schemas.resolve(schema, root) if isinstance(schema, dict) else {}
    if isinstance(value, dict) and isinstance(texts, dict):
        out = dict(value)
        for key, text in texts.items():
            if key not in value:
                errors.append(SiteError(path, f"'{_dotted((*at, key))}' is not in the fact file", "translate only fields it has"))
            else:
                out[key] = _overlay(value[key], text, (*at, key), path, errors, schemas.subschema(schema, key, root), root)
        return out
    if isinstance(value, list) and isinstance(texts, list):
        item = schemas.subschema(schema, 0, root)
        return [
            _overlay(v, texts[i], (*at, i), path, errors, item, root) if i < len(texts) and texts[i] is not None else v
            for i, v in enumerate(value)
        ]
    is_text = not any(k in schema for k in ("x-ref", "format", "enum", "pattern", "const"))
    if isinstance(value, str) and isinstance(texts, str) and is_text:
        return texts
    where = _dotted(at) or "(top level)"
    errors.append(
        SiteError(
            path,
            f"'{where}' is not text in the fact file",
            "only text is translated: numbers, dates and links come from the fact file",
        )
    )
    return value


def _document(doc: Document, address: str, t: Translation, missing: list[SiteError], absent: set[str]) -> Document:
    found = t.documents.get(address)
    if found is None:
        missing.append(SiteError(doc.path, f"no {t.language.name} translation", f"write {_translation_of(doc.path, t)}", 0))
        absent.add(address)
        return doc
    meta = {**doc.meta, **{k: v for k, v in found.meta.items() if k in ("title", "description")}}
    figures = found.meta.get("key_figures")
    if isinstance(figures, list) and isinstance(doc.meta.get("key_figures"), list):
        meta["key_figures"] = [
            {**f, **{k: str(g[k]) for k in ("value", "label") if isinstance(g, dict) and k in g}}
            for f, g in zip(doc.meta["key_figures"], figures + [None] * len(doc.meta["key_figures"]), strict=False)
        ]
    return dataclasses.replace(doc, meta=meta, body=found.body, body_line=found.body_line, path=found.path)


def _translation_of(path: str, t: Translation) -> str:
    """Where the translation of a file goes: content/companies/catl.md → content/companies/catl.zh.md."""
    stem, _, ext = path.rpartition(".")
    return f"{stem}.{t.language.prefix}.{'md' if ext == 'yaml' else ext}"


def stale(content: Content, local: Content, t: Translation) -> list[SiteError]:
    """Translations older than their original: the original's last commit is newer than the translation's."""
    dates = content.dates
    found = []
    pairs = [
        (r.md_path or r.yaml_path, other.md_path) for r, other in zip(content.all_records(), local.all_records(), strict=True)
    ]
    pairs += [(d.path, other.path) for d, other in zip(content.pages, local.pages, strict=True)]
    if content.home and local.home:
        pairs.append((content.home.path, local.home.path))
    for original, translation in pairs:
        if translation != original and dates.get(original, "") > dates.get(translation, "9999"):
            found.append(
                SiteError(
                    translation,
                    f"may be out of date: {original} changed on {dates[original]}, after this translation ({dates[translation]})",
                    "update the translation, then commit it",
                    0,
                )
            )
    return found


def _items(items: Sequence[Item], texts: dict[str, dict[str, Any]], kind: str) -> list[Item]:
    out = []
    for item in items:
        ident = term_id(item)  # its id (a glossary term without one: its name)
        found = texts.get(ident)
        if not found:
            out.append(item)
            continue
        data = dict(item.data)
        for k in _TEXT_KEYS[kind]:
            if k == "series" and isinstance(found.get(k), list):
                data[k] = [{**s, "name": str(n)} for s, n in zip(data.get(k, []), found[k], strict=False)] + data.get(k, [])[
                    len(found[k]) :
                ]
            elif k in found and (k in data or k in ("expansion", "aliases")):
                data[k] = found[k]
        if kind == "glossary":
            data["id"] = ident  # the anchor stays the same in every language
        out.append(dataclasses.replace(item, data=data))
    return out


def _schema(schema: dict[str, Any], texts: dict[str, Any]) -> dict[str, Any]:
    """A schema with the titles and descriptions of its fields in another language."""
    if not texts:
        return schema
    out = copy.deepcopy(schema)
    _titles(out, texts)
    return out


def _titles(schema: Any, texts: Any) -> None:
    if not isinstance(schema, dict) or not isinstance(texts, dict):
        return
    for key in ("title", "description"):
        if isinstance(texts.get(key), str):
            schema[key] = texts[key]
    for key in ("properties", "$defs"):
        for name, sub in (texts.get(key) or {}).items() if isinstance(texts.get(key), dict) else []:
            if isinstance(schema.get(key), dict) and name in schema[key]:
                _titles(schema[key][name], sub)
    if isinstance(texts.get("items"), dict):
        _titles(schema.get("items"), texts["items"])
