"""Cross-check the content: every address and source id resolves; derive backlinks and citations."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from . import markup
from .config import Language
from .content import Content, Document, Item, Record, term_id
from .errors import SiteError, did_you_mean
from .parts import Part, split_data_pages, split_like
from .schema import resolve as resolve_ref
from .schema import subschema
from .updated import page_dates
from .yamlfile import Path_

DATA_PAGES = ("timeline", "glossary", "bibliography", "charts", "search")  # in the order they are planned


def data_pages(content: Content) -> dict[str, str]:
    """The data pages the site publishes (only those it has data for), with their titles in its language."""
    _ = content.config.interface.gettext
    data = {"timeline": bool(content.timeline), "glossary": bool(content.glossary), "charts": bool(content.charts)}
    data["bibliography"] = bool(content.sources) or content.sources_unreadable  # unreadable: reported once, not as a missing page
    titles = {"timeline": _("Timeline"), "glossary": _("Glossary"), "bibliography": _("Sources"), "charts": _("Charts")}
    return {a: titles.get(a, _("Search")) for a in DATA_PAGES if a == "search" or data[a]}


@dataclass(frozen=True, slots=True)  # slots: there are thousands of these
class Target:
    """Where an address leads: a site path (maybe with #fragment) and a title for link text."""

    path: str
    title: str


@dataclass(frozen=True, slots=True)  # slots: there are thousands of these
class Ref:
    """One record or page pointing at another: through a field (its label) or the text."""

    source: str
    target: str
    via: str


@dataclass
class Site:
    """The content with every cross-reference resolved."""

    content: Content
    targets: dict[str, Target]
    refs: list[Ref] = field(default_factory=list)
    cited_by: dict[str, list[str]] = field(default_factory=dict)
    parts: dict[str, list[Part]] = field(default_factory=dict)
    data_pages: dict[str, str] = field(default_factory=dict)  # published data page -> its title

    @cached_property
    def language(self) -> Language:
        """The edition this site is: its language, and the URL folder it is published under."""
        config = self.content.config
        return next((lang for lang in config.languages if lang.code == config.language), config.languages[0])

    @property
    def prefix(self) -> str:
        """The folder of this edition's pages: '' for the first language, 'zh/' for one with prefix zh."""
        return self.language.folder

    @cached_property
    def dates(self) -> dict[str, str]:
        """When each page's content last changed (address → YYYY-MM-DD), worked out once per build."""
        return page_dates(self.content)

    def backlinks(self, address: str) -> list[Ref]:
        """Refs that point at `address`, de-duplicated, in a stable order."""
        return self._incoming.get(address, [])

    @cached_property
    def _incoming(self) -> dict[str, list[Ref]]:
        """Every target's backlinks, indexed once (a scan per page would make the build quadratic)."""
        found: dict[str, dict[tuple[str, str], Ref]] = {}
        for r in self.refs:
            target = r.target.split("#")[0]
            if r.source != target:
                found.setdefault(target, {})[(r.source, r.via)] = r
        return {target: [refs[k] for k in sorted(refs)] for target, refs in found.items()}


def resolve(
    content: Content, like: Site | None = None, keep_scans: bool = False
) -> tuple[Site, list[SiteError], list[SiteError]]:
    """Resolve every reference; return the site, the errors and the warnings. An edition in another language is
    resolved `like` the first: its data pages are split into the same parts, at the same addresses. Each record's
    scanned links are let go once read, unless `keep_scans` (serve: its next build reads them again)."""
    parts = split_like(content, like.parts, like.language.code) if like is not None else split_data_pages(content)
    published = data_pages(content)
    targets, errors = _targets(content, parts, published)
    site = Site(content, targets, parts=parts, data_pages=published)
    sources = content.sources_by_id
    cites = _Cites(sources, errors, content.broken_sources, content.sources_unreadable)

    finders = {name: _RefFinder(schema) for name, schema in content.schemas.items()}
    for record in content.all_records():
        _record_links(site, record, finders.get(record.collection) or _RefFinder({}), site.refs, errors, cites)
        if not keep_scans:
            record.scanned = None  # read once: about 9 MiB at 10,000 records, let go before pages are made

    for doc, address in _documents(content):
        _markdown(site, address, markup.scan(doc.body), doc.path, doc.body_line, site.refs, errors, cites)
        for i, src in enumerate(doc.meta.get("sources", [])):
            cites.add(src, address, _fixed, doc.path, *doc.marks.get(("sources", i), (1, 1)))
        for n, fig in enumerate(doc.meta.get("key_figures", [])):
            for src in fig.get("sources", []):
                cites.add(src, address, _fixed, doc.path, *doc.marks.get(("key_figures", n, "sources"), (1, 1)))

    for kind, items in (("timeline", content.timeline), ("glossary", content.glossary), ("charts", content.charts)):
        for item in items:
            _item_refs(site, kind, item, errors, cites)

    for i, nav in enumerate(content.config.navigation):
        if nav.link.split("#")[0] not in targets:
            line, col = content.config.marks.get(("navigation", i, "link"), (1, 1))
            errors.append(_unknown("content/site.yaml", "navigation link", nav.link, targets, line, col))
    if content.config.methodology and content.config.methodology not in targets:
        line, col = content.config.marks.get(("methodology",), (1, 1))
        errors.append(_unknown("content/site.yaml", "methodology page", content.config.methodology, targets, line, col))

    site.cited_by = {src: list(users) for src, users in cites.users.items()}
    warnings = [
        SiteError(s.path, f"source '{ident}' is not cited anywhere", "cite it with [@" + ident + "] or remove it", *s.mark("id"))
        for ident, s in sources.items()
        if ident not in site.cited_by
    ]
    return site, errors, warnings


def record_links(site: Site, record: Record) -> tuple[list[Ref], list[str], list[SiteError]]:
    """What one record links to and cites (as `resolve` finds them), against `site`'s addresses and its content's
    sources; and the errors. Its refs, in order, and the ids of the sources it cites, in the order first cited."""
    refs, errors = list[Ref](), list[SiteError]()
    cites = _Cites(site.content.sources_by_id, errors, site.content.broken_sources, site.content.sources_unreadable)
    _record_links(site, record, _RefFinder(site.content.schemas.get(record.collection, {})), refs, errors, cites)
    return refs, list(cites.users), errors


def _record_links(
    site: Site, record: Record, finder: _RefFinder, refs: list[Ref], errors: list[SiteError], cites: _Cites
) -> None:
    """A record's refs (its reference fields, then its text's links) added to `refs`; its citations to `cites`."""
    schema = site.content.schemas.get(record.collection, {})
    targets = site.targets
    for at, kind, value in finder.refs(record.data, schema, ()):
        address = _normalise(value, kind)
        if address not in targets or address.count("/") != 1:
            errors.append(_unknown(record.yaml_path, "reference", value, _choices(targets, kind), *record.mark(at)))
        else:
            refs.append(Ref(record.address, address, _field_title(schema, at[0])))
    for fact in record.facts.values():
        for i, src in enumerate(fact.sources):
            cites.add(src, record.address, _where, record.yaml_path, record.source_mark, fact, i)
    record_sources = record.data.get("sources", [])
    for i, src in enumerate(record_sources if isinstance(record_sources, list) else []):
        if not isinstance(src, str):
            continue  # the schema check has already reported it
        cites.add(src, record.address, _where, record.yaml_path, record.mark, ("sources", i))
    if record.md_path:
        _markdown(site, record.address, record.mentions(), record.md_path, 1, refs, errors, cites)


class _Cites:
    """Citations as they are found: each source id checked at once; where it stands is worked out (by calling
    `where(*args)`) only for an unknown id, so nothing is kept per citation but who cites what."""

    def __init__(
        self, sources: Mapping[str, Item], errors: list[SiteError], broken: Set[str] = frozenset(), unreadable: bool = False
    ) -> None:
        self.sources, self.errors, self.broken = sources, errors, broken  # broken: ids of entries already reported
        self.unreadable = unreadable  # the whole file could not be read (reported): no id is known, none is blamed
        self.users: dict[str, dict[str, None]] = {}  # source id -> citing addresses, in the order first seen

    def add(self, src: str, address: str, where: Callable[..., tuple[str, int, int]], *args: Any) -> None:
        if src in self.sources:
            self.users.setdefault(src, {})[address] = None
        elif src not in self.broken and not self.unreadable:
            path, line, col = where(*args)
            self.errors.append(_unknown(path, "source id", src, self.sources, line, col))


def _where(path: str, mark: Callable[..., tuple[int, int]], *args: Any) -> tuple[str, int, int]:
    return (path, *mark(*args))


def _fixed(path: str, line: int, col: int) -> tuple[str, int, int]:
    return (path, line, col)


def _targets(
    content: Content, parts: dict[str, list[Part]], published: dict[str, str]
) -> tuple[dict[str, Target], list[SiteError]]:
    """Every address of the site, and an error for every two that claim one URL."""
    targets: dict[str, Target] = {"home": Target("", content.home.title if content.home else content.config.title)}
    owners: dict[str, str] = {"": "content/home.md"}
    errors: list[SiteError] = []

    def claim(address: str, path: str, title: str, owner: str) -> None:
        if path in owners:
            errors.append(
                SiteError(
                    owner,
                    f"two pages would be published at /{path}: this one and {owners[path]}",
                    "change one of their slugs or the collection's url pattern",
                )
            )
        owners.setdefault(path, owner)
        targets[address] = Target(path, title)

    for coll in content.config.collections:
        claim(coll.name, f"{coll.name}/", coll.title, "content/site.yaml")
        for record in content.records.get(coll.name, []):
            claim(record.address, coll.url.format(slug=record.slug).lstrip("/"), record.title, record.yaml_path)
    for address in content.broken:  # known to exist, so references to them are not errors
        targets[address] = Target(f"{address}/", address)
    for page in content.pages:
        claim(f"pages/{page.slug}", f"{page.slug}/", page.title, page.path)
    part_title = content.config.interface.gettext("%(page)s: %(part)s")  # 'Timeline: 2019'
    for address, title in published.items():
        claim(address, f"{address}/", title, "content/site.yaml")
        for part in parts.get(address, []):
            if part.path != f"{address}/":
                claim(f"{address}/{part.path}", part.path, part_title % {"page": title, "part": part.label}, "content/site.yaml")
    for part in parts["glossary"]:
        for term in part.items:
            targets[f"glossary/{term_id(term)}"] = Target(f"{part.path}#{term_id(term)}", str(term.get("term")))
    for part in parts["bibliography"]:
        for src in part.items:
            targets[f"sources/{src.get('id')}"] = Target(f"{part.path}#{src.get('id')}", str(src.get("title")))
    for chart in content.charts:
        targets[f"charts/{chart.get('id')}"] = Target(f"charts/#{chart.get('id')}", str(chart.get("title")))
    return targets, errors


def _documents(content: Content) -> Iterator[tuple[Document, str]]:
    if content.home:
        yield content.home, "home"
    for page in content.pages:
        yield page, f"pages/{page.slug}"


def _markdown(
    site: Site,
    address: str,
    mentions: Iterable[markup.Mention],
    path: str,
    first_line: int,
    refs: list[Ref],
    errors: list[SiteError],
    cites: _Cites,
) -> None:
    for m in mentions:
        line = first_line + m.line - 1
        if m.kind == "cite":
            cites.add(m.target, address, _fixed, path, line, m.col)
        elif m.target.split("#")[0] not in site.targets:
            errors.append(_unknown(path, "link target", m.target, site.targets, line, m.col))
        else:
            refs.append(Ref(address, m.target.split("#")[0], "text"))


def _item_refs(site: Site, kind: str, item: Item, errors: list[SiteError], cites: _Cites) -> None:
    for link in item.get("links", []):
        if link.split("#")[0] not in site.targets:
            errors.append(_unknown(item.path, "link target", link, site.targets, *item.mark("links")))
        elif kind == "timeline":
            site.refs.append(Ref("timeline", link.split("#")[0], "timeline"))
    for i, src in enumerate(item.get("sources", [])):
        cites.add(src, kind, _where, item.path, item.mark, "sources", i)
    for key in ("title", "text", "definition", "note"):
        if isinstance(item.get(key), str):
            line, col = item.mark(key)
            for m in markup.scan(item.get(key)):
                if m.kind == "cite":
                    cites.add(m.target, kind, _fixed, item.path, line, col)
                elif m.target.split("#")[0] not in site.targets:
                    errors.append(_unknown(item.path, "link target", m.target, site.targets, line, col))


class _RefFinder:
    """Finds the reference fields (`x-ref`) of a collection's records, walking only the parts of a record whose
    schema has one somewhere below: most fields cannot hold a reference, and walking them all is slow."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.anywhere = "x-ref" in json.dumps(root)
        self.memo: dict[int, tuple[Any, bool]] = {}  # id(schema) -> (schema, may hold a reference); keeps it alive

    def may_ref(self, schema: dict[str, Any]) -> bool:
        known = self.memo.get(id(schema))
        if known is None:
            text = json.dumps(schema)
            known = self.memo[id(schema)] = (schema, self.anywhere and ("x-ref" in text or "$ref" in text))
        return bool(known[1])

    def refs(self, value: Any, schema: dict[str, Any], at: Path_) -> Iterator[tuple[Path_, str, Any]]:
        """(path, x-ref kind, value) for every reference field in a record."""
        if not self.may_ref(schema):
            return
        root = self.root
        schema = resolve_ref(schema, root)
        kind = schema.get("x-ref")
        if kind and isinstance(value, str):
            yield at, str(kind), value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from self.refs(item, subschema(schema, key, root), (*at, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from self.refs(item, subschema(schema, i, root), (*at, i))


def _normalise(value: str, kind: str) -> str:
    return value if "/" in value or kind == "any" else f"{kind}/{value}"


def _choices(targets: dict[str, Target], kind: str) -> list[str]:
    return [a for a in targets if a.startswith(f"{kind}/") or kind == "any"] or list(targets)


def _field_title(schema: dict[str, Any], key: str | int) -> str:
    """A top-level field's title in the schema (its name when it has none): what backlinks say it is."""
    return str(subschema(schema, key, schema).get("title") or key)


def _unknown(path: str, what: str, value: str, choices: Any, line: int, col: int) -> SiteError:
    names = list(choices)
    hint = did_you_mean(value, names)
    if not hint and "/" not in value:  # a bare slug: compare it with the slugs
        hint = did_you_mean(value, {n.split("/", 1)[1] for n in names if "/" in n})
    if not hint:
        prefix = value.split("/")[0] + "/"
        same = [n for n in names if n.startswith(prefix)]
        hint = f"known: {', '.join(sorted(same)[:8])}" if same else "check the spelling"
    return SiteError(path, f"unknown {what} '{value}'", hint, line, col)
