"""Build the context each template displays: pure functions of the resolved site and one page."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from html import escape
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from . import charts, display, downloads, labels, markup
from .citations import Citations
from .collation import reading
from .config import Collection, SiteConfig
from .content import Document, Item, Record, term_id
from .errors import SiteError
from .feed import FEED
from .labels import Labels
from .markup import Hooks, flag_html
from .pages import Page, index_pages, index_path, on_page, versions, window
from .resolve import Site
from .splice import Call, Prose, mentions, recording
from .urls import Urls

ChartRenderer = Callable[[dict[str, Any]], str]


class Views:
    """Site-wide look-ups shared by every page's context."""

    def __init__(
        self,
        site: Site,
        urls: Urls,
        chart_html: ChartRenderer,
        noting: bool = False,
        order: dict[str, Sequence[Record]] | None = None,
    ) -> None:
        self.site, self.urls, self.chart_html = site, urls, chart_html
        self._hrefs: dict[str, str] = {}
        self.noting = noting  # note how each record page's prose is woven in (splice.py)
        # Each collection's records in index order, sorted when first needed (not once a page); given by the quick
        # path of record edits, which knows the order without all the records (record_edits.py).
        self.index_order: dict[str, Sequence[Record]] = dict(order or {})
        content = site.content
        self.sources = content.sources_by_id
        self.charts = {str(c.get("id")): c for c in content.charts}
        self.flag_href = self.href(content.config.methodology) if content.config.methodology else ""
        self.labels = content.config.interface
        _ = self.labels.gettext
        self.status_words = {"unconfirmed": _("unconfirmed"), "weak": _("weak source")}  # a marker's word
        self.flags = {
            status: flag_html(status, self.flag_href, self.status_words[status], title)
            for status, title in (
                ("unconfirmed", _("Unconfirmed: no source we could check confirms this")),
                ("weak", _("Weakly sourced: only a secondary or mirrored page supports this")),
            )
        }
        explained = _("%(expansion)s: %(definition)s")  # a glossary link's title
        self.glossary = _glossary_patterns(content.glossary, self.href, self.title, explained)
        self.collection_titles = {c.name: c.title for c in content.config.collections}
        self.dates = site.dates
        self.records = content.records_by_address  # by address: a scan per page is quadratic

    def href(self, address: str) -> str:
        """The URL of an address, keeping any #fragment (each made once: a page asks for about sixteen, and the
        collection, home and source pages for the same ones on every page)."""
        made = self._hrefs.get(address)
        if made is None:
            base, _, fragment = address.partition("#")
            path = self.site.targets[base].path
            made = self._hrefs[address] = self.urls.href(self.site.prefix + path + (f"#{fragment}" if fragment else ""))
        return made

    def title(self, address: str) -> str:
        return self.site.targets[address.split("#")[0]].title

    def context(self, page: Page) -> tuple[dict[str, Any], Prose | None]:
        """Everything `page`'s template needs; and for a record page with Markdown (when noting) how its prose was
        rendered."""
        made = PageContext(self, page)
        return made.build(), made.prose


class PageContext:
    """The context of one page; owns the page's citation numbering."""

    def __init__(self, views: Views, page: Page) -> None:
        self.v, self.page = views, page
        self.citations = Citations(views.sources, views.flags.__getitem__)
        self.prose: Prose | None = None
        self._ = views.labels.gettext

    # Hooks for Markdown and display nodes.
    def link(self, address: str, kind: str = "any") -> tuple[str, str]:
        address = address if "/" in address or kind == "any" else f"{kind}/{address}"
        return self.v.href(address), self.v.title(address)

    def hooks(self, glossary: bool = True) -> Hooks:
        return Hooks(
            link=self.link,
            cite=self.citations.html,
            flag=self.v.flags.__getitem__,
            charts=self.chart,
            glossary=self.v.glossary if glossary else [],
        )

    def chart(self, chart_id: str) -> str | None:
        data = self.v.charts.get(chart_id)
        return None if data is None else self.v.chart_html(self.chart_context(data, f"chart-{chart_id}"))

    def markdown(
        self,
        text: str,
        glossary: bool = True,
        source: str = "content/site.yaml",
        address: str = "",
        noted: list[Call] | None = None,
    ) -> markup.Rendered:
        hooks = self.hooks(glossary)
        hooks.heading_ids = self.v.site.content.heading_ids.get(address, [])
        if noted is not None:
            hooks = recording(hooks, noted)
        try:
            rendered = markup.render(text, hooks, self.v.site.content.config.allow_html)
        except ValueError as exc:
            raise SiteError(source, f"this Markdown is too complex to render: {exc}", "simplify it") from None
        except KeyError as exc:  # a reference the line-by-line check could not see (its Markdown is unusual)
            raise SiteError(
                source, f"unknown link target or source id {exc.args[0]!r}", "check the [[…]] and [@…] in this file"
            ) from None
        return markup.Rendered(Markup(rendered.html), rendered.toc)

    def inline(self, text: str, source: str = "content/site.yaml") -> Markup:
        try:
            return Markup(markup.render_inline(text, self.hooks(glossary=False)))
        except ValueError as exc:
            raise SiteError(source, f"this Markdown is too complex to render: {exc}", "simplify it") from None

    def listed(self, items: list[str]) -> str:
        """Items as a list in the page's language: 'a, b' ('a、b' in Chinese)."""
        return self.v.labels.list_separator.join(items)

    def marks(self, sources: tuple[str, ...] | list[str], status: str = "", note: str = "") -> Markup:
        """Citation numbers and the one marker the fact earns, to follow a value; then its note."""
        html = self.citations.html(list(sources), status)
        if note:
            html += f' <span class="fact-note" data-pagefind-ignore>({escape(note)})</span>'
        return Markup(html)

    def build(self) -> dict[str, Any]:
        body: dict[str, Any] = getattr(self, f"_{self.page.kind}")()
        return {"site": self._site(), "page": self._meta(body), **body, "references": self._references()}

    # Common parts.
    def _site(self) -> dict[str, Any]:
        config = self.v.site.content.config
        current = self.page.address.split("/")[0]
        return {
            "title": config.title,
            "description": config.description,
            "language": config.language,
            "author": config.author,
            "publisher": config.publisher,
            "licence": {"name": config.licence_name, "url": config.licence_url},
            "home": self.v.urls.href(self.v.site.prefix),
            "feed": self.v.urls.href(self.v.site.prefix + FEED),
            "search": self.v.urls.href(self.v.site.prefix + "search/"),
            "css": self.v.urls.href("static/style.css"),
            "favicon": self.v.urls.href("static/favicon.svg"),
            "methodology": self.v.flag_href,
            "languages": self._languages(),
            "nav": [
                {
                    "title": n.title,
                    "href": self.v.href(n.link),
                    "current": n.link.split("/")[0] == current or n.link == self.page.address,
                }
                for n in config.navigation
            ],
        }

    def _meta(self, body: dict[str, Any]) -> dict[str, Any]:
        config = self.v.site.content.config
        title = body.get("title", config.title)
        updated = self.v.dates.get(self.page.address, "")
        meta = {
            "kind": self.page.kind,
            "path": self.page.path,
            "title": title,
            "full_title": title if self.page.kind == "home" else f"{title} · {config.title}",
            "description": _plain(body.get("description") or config.description),
            "canonical": self.v.urls.absolute(self.page.path),
            "og_type": "article" if self.page.kind in ("record", "page") else "website",
            "updated": {"iso": updated, "text": self.v.labels.date(updated)} if updated else None,
            "downloads": self._downloads(),
            "searchable": self.page.kind not in ("search", "404"),
            "untranslated": self._("This page has not been translated yet: it is shown in %(language)s.")
            % {"language": self.v.site.content.config.languages[0].name}
            if self.page.address in self.v.site.content.untranslated
            else "",
        }
        meta["search_terms"] = search_terms(title) if meta["searchable"] else ""
        meta["cite"] = citation(config, self.v.labels, title, meta["canonical"], updated, self.page.path)
        meta["jsonld"] = self._jsonld(meta, body)
        return meta

    def _languages(self) -> list[dict[str, Any]]:
        """This page in every language of the site (none when it has one): for the switcher and hreflang."""
        site = self.v.site
        languages = site.content.config.languages
        if len(languages) < 2 or self.page.kind == "404":
            return []
        return [
            {
                "code": lang.code,
                "name": lang.name,
                "href": self.v.urls.href(path),
                "absolute": self.v.urls.absolute(path),
                "current": lang == site.language,
            }
            for lang, path in versions(self.page, languages)
        ]

    def _downloads(self) -> list[dict[str, str]]:
        kind, address = self.page.kind, self.page.address
        files: list[tuple[str, str]] = []
        if kind == "record":
            record = self._find_record(address)
            files.append((self._("This record (JSON)"), downloads.record_path(self.v.site, record)))
        elif kind == "collection":
            json_path, csv_path = downloads.collection_paths(address)
            files += [(self._("This table (CSV)"), csv_path), (self._("This table (JSON)"), json_path)]
        if kind in ("record", "collection", "home", "bibliography"):
            files.append((self._("Everything: facts and sources (JSON)"), downloads.DATASET))
        return [{"label": label, "href": self.v.urls.href(path)} for label, path in files]

    def _jsonld(self, meta: dict[str, Any], body: dict[str, Any]) -> Markup:
        config = self.v.site.content.config
        kind = self.page.kind
        if kind == "record":
            coll = config.collection(self.page.address.split("/")[0])
            schema_type = coll.jsonld_type if coll else "Thing"
        else:
            schema_type = {"home": "WebSite", "page": "Article", "collection": "CollectionPage"}.get(kind, "WebPage")
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": schema_type,
            "name": meta["title"],
            "description": meta["description"],
            "url": meta["canonical"],
        }
        if schema_type == "Article":
            data["headline"] = meta["title"]
            data["author"] = {"@type": "Person", "name": config.author} if config.author else None
            data["publisher"] = {"@type": "Organization", "name": config.publisher} if config.publisher else None
        if meta["updated"]:
            data["dateModified"] = meta["updated"]["iso"]
        if config.licence_url:
            data["license"] = config.licence_url
        if kind != "home":
            data["isPartOf"] = {"@type": "WebSite", "name": config.title, "url": self.v.urls.absolute(self.v.site.prefix)}
        clean = {k: v for k, v in data.items() if v is not None}
        text = json.dumps(clean, ensure_ascii=False, sort_keys=True)
        # Inside <script>, any '<' could open '<!--' or '</script>': write it (and '>', '&') as JSON escapes.
        return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))

    def _find_record(self, address: str) -> Record:
        return self.v.records[address]

    def _references(self) -> list[dict[str, Any]]:
        refs = []
        for ref in self.citations.references():
            src = ref.source
            refs.append({**self._source(src), "number": ref.number, "backrefs": ref.backrefs})
        return refs

    def _source(self, src: Item) -> dict[str, Any]:
        return {
            "id": src.get("id"),
            "title": src.get("title"),
            "publisher": src.get("publisher"),
            "author": src.get("author"),
            "published": self.v.labels.date(src.get("published")) if src.get("published") else "",
            "accessed": self.v.labels.date(src.get("accessed")) if src.get("accessed") else "",
            "url": src.get("url"),
            "archive_url": src.get("archive_url"),
            "language": src.get("language", ""),
            "language_name": self._language_name(str(src.get("language", ""))),
            "weak": src.get("reliability") == "weak",
            "note": src.get("note"),
            "href": self.v.href(f"sources/{src.get('id')}"),
        }

    def _language_name(self, code: str) -> str:
        """A source's language in the site's language, when it is not the site's own ('' when it is)."""
        site = self.v.labels.locale
        if not code or code.split("-")[0].lower() == site.language:
            return ""
        try:
            return str(labels.locale_of(code).get_display_name(site)) if labels.knows(code) else code
        except (ValueError, TypeError):
            return code

    def _backlinks(self, address: str) -> list[dict[str, Any]]:
        """Pages that link here, each once, grouped by collection; the fields they link through, if any."""
        groups: dict[str, dict[str, list[str]]] = {}  # group title -> source address -> fields
        for ref in self.v.site.backlinks(address):
            coll = ref.source.split("/")[0]
            group = self.v.collection_titles.get(coll, self._("Other pages"))
            fields = groups.setdefault(group, {}).setdefault(ref.source, [])
            if ref.via not in ("text", "timeline") and ref.via not in fields:
                fields.append(ref.via)
        return [
            {
                "title": g,
                "links": [
                    {
                        "href": self.v.href(source),
                        "title": self.v.title(source),
                        "via": self.listed(fields),  # the fields that link here ('' for the text)
                    }
                    for source, fields in sources.items()
                ],
            }
            for g, sources in groups.items()
        ]

    def _document(self, doc: Document) -> dict[str, Any]:
        address = "home" if doc.slug == "home" else f"pages/{doc.slug}"
        rendered = self.markdown(doc.body, glossary=doc.meta.get("glossary_links", True), source=doc.path, address=address)
        return {
            "title": doc.title,
            "description": doc.meta.get("description", ""),
            "body": rendered.html,
            "toc": rendered.toc,
            "page_sources": self.marks(doc.meta.get("sources", [])),
        }

    # One method per page kind.
    def _home(self) -> dict[str, Any]:
        content = self.v.site.content
        doc = content.home
        figures = [
            {"value": f["value"], "label": f["label"], "marks": self.marks(f.get("sources", []), f.get("status", ""))}
            for f in (doc.meta.get("key_figures", []) if doc else [])
        ]
        body = (
            self._document(doc)
            if doc
            else {
                "title": content.config.title,
                "description": content.config.description,
                "body": Markup(""),
                "toc": [],
                "page_sources": Markup(""),
            }
        )
        ways = [
            {
                "title": c.title,
                "href": self.v.href(c.name),
                "count": len(content.records.get(c.name, [])),
                "description": self.inline(c.description) if c.description else "",
            }
            for c in content.config.collections
        ]
        return {**body, "key_figures": figures, "collections": ways}

    def _collection(self) -> dict[str, Any]:
        content = self.v.site.content
        coll = content.config.collection(self.page.address)
        assert coll is not None
        schema = content.schemas.get(coll.name, {})
        order = self.v.index_order
        if coll.name not in order:
            order[coll.name] = sort_records(content.records.get(coll.name, []), coll.sort, self.v.site.language.code)
        records = order[coll.name]
        listed = on_page(records, coll.page_size, self.page.part)
        columns = [display.node_label(schema, c) for c in coll.columns]
        rows = [
            {
                "href": self.v.href(r.address),
                "title": r.title,
                "summary": r.data.get("summary", ""),
                "cells": [self._cell(r, c, schema) for c in coll.columns],
            }
            for r in listed
        ]
        return {
            **self._paging(coll, len(records), len(rows)),
            "description": self.markdown(coll.description).html if coll.description else "",
            "columns": columns,
            "rows": rows,
            "singular": coll.singular,
            "plural": coll.plural,
        }

    def _paging(self, coll: Collection, count: int, shown: int) -> dict[str, Any]:
        """An index page's title, its caption (how many records; which of them, when split) and its pager: previous,
        next and page-number links (None when the index is one page)."""
        number, part, total = self.v.labels.number, self.page.part, index_pages(count, coll.page_size)
        noun = coll.singular if count == 1 else coll.plural
        if total < 2:
            return {
                "title": coll.title,
                "count": self._("%(count)s %(noun)s") % {"count": number(count), "noun": noun},
                "pager": None,
            }

        def href(n: int) -> str:
            return self.v.urls.href(self.v.site.prefix + index_path(coll.name, n))

        first = part * coll.page_size + 1
        title = self._("%(title)s, page %(number)s of %(count)s")
        caption = self._("%(first)s–%(last)s of %(count)s %(noun)s")
        return {
            "title": title % {"title": coll.title, "number": number(part + 1), "count": number(total)},
            "count": caption % {"first": number(first), "last": number(first + shown - 1), "count": number(count), "noun": noun},
            "pager": {
                "prev": href(part - 1) if part > 0 else "",
                "next": href(part + 1) if part < total - 1 else "",
                "pages": [
                    {"label": number(n + 1), "href": href(n), "current": n == part}
                    if n is not None
                    else {"label": "…", "href": "", "current": False}
                    for n in window(part, total)
                ],
            },
        }

    def _cell(self, record: Record, key: str, schema: dict[str, Any]) -> dict[str, Any]:
        if key not in record.data:
            return {"kind": "text", "text": "", "href": "", "lang": "", "marks": Markup(""), "datetime": "", "value": ""}
        return display.node(record.data[key], display.prop(schema, key), schema, _MarkersOnly(self, record), (key,))

    def _record(self) -> dict[str, Any]:
        content = self.v.site.content
        record = self._find_record(self.page.address)
        coll = content.config.collection(record.collection)
        assert coll is not None
        schema = content.schemas.get(record.collection, {})
        infobox = display.infobox(record.data, schema, _RecordMarks(self, record))
        record_sources = self.marks(record.data.get("sources", []))
        rendered = self._prose(record) if record.md_text else markup.Rendered(Markup(""), [])
        return {
            "title": record.title,
            "description": record.data.get("summary", ""),
            "summary": record.data.get("summary", ""),
            "collection": {"title": coll.title, "singular": coll.singular, "href": self.v.href(coll.name)},
            "infobox": infobox,
            "record_sources": record_sources,
            "body": rendered.html,
            "toc": rendered.toc,
            "backlinks": self._backlinks(record.address),
        }

    def _prose(self, record: Record) -> markup.Rendered:
        """The record's Markdown, rendered; when noting, with the questions it asked on the way (splice.py)."""
        if not self.v.noting:
            return self.markdown(record.md_text, source=record.md_path, address=record.address)
        calls: list[Call] = []
        rendered = self.markdown(record.md_text, source=record.md_path, address=record.address, noted=calls)
        digest = hashlib.sha256(record.md_bytes).hexdigest()
        several = len(self.v.site.content.config.languages) > 1
        anchors = markup.heading_ids(record.md_text) if several else None
        self.prose = Prose(
            record.md_path,
            digest,
            self.v.site.prefix,
            calls,
            str(rendered.html),
            rendered.toc,
            mentions(record.md_text),
            anchors,
            spliceable=not self.v.site.content.heading_ids.get(record.address),  # anchors are the original's
        )
        return rendered

    def _page(self) -> dict[str, Any]:
        slug = self.page.address.split("/", 1)[1]
        doc = next(p for p in self.v.site.content.pages if p.slug == slug)
        return {**self._document(doc), "backlinks": self._backlinks(self.page.address)}

    def _timeline(self) -> dict[str, Any]:
        events = self._part_items()
        years: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            date = str(event.get("date"))
            years.setdefault(date[:4], []).append(
                {
                    "id": event_id(event),
                    "date": date,
                    "when": self.v.labels.date(date),
                    "approx": event.get("approx", False),
                    "title": self.inline(event.get("title"), source=event.path),
                    "text": self.markdown(event.get("text"), source=event.path).html if event.get("text") else "",
                    "links": [{"href": self.v.href(a), "title": self.v.title(a)} for a in event.get("links", [])],
                    "marks": self.marks(event.get("sources", []), event.get("status", "")),
                }
            )
        return {
            **self._part_heading(self._("The events of the story in date order, each with its sources.")),
            "years": [{"year": y, "events": e} for y, e in years.items()],
        }

    def _glossary(self) -> dict[str, Any]:
        terms = self._part_items()
        return {
            **self._part_heading(self._("The terms of the story, explained.")),
            "terms": [
                {
                    "id": term_id(t),
                    "term": t.get("term"),
                    "expansion": t.get("expansion"),
                    "definition": self.markdown(t.get("definition"), glossary=False, source=t.path).html,
                    "links": [{"href": self.v.href(a), "title": self.v.title(a)} for a in t.get("links", [])],
                    "marks": self.marks(t.get("sources", [])),
                }
                for t in terms
            ],
        }

    def _bibliography(self) -> dict[str, Any]:
        sources = self._part_items()
        return {
            **self._part_heading(self._("Every source this site cites, with the pages that cite it.")),
            "sources": [
                {
                    **self._source(s),
                    "cited_by": [
                        {"href": self.v.href(a), "title": self.v.title(a)} for a in self.v.site.cited_by.get(str(s.get("id")), [])
                    ],
                }
                for s in sources
            ],
        }

    def _part_items(self) -> tuple[Item, ...]:
        return self.v.site.parts[self.page.kind][self.page.part].items

    def _part_heading(self, description: str) -> dict[str, Any]:
        """Title, description and the list of parts, for a data page split into several."""
        title = self.v.site.data_pages[self.page.address]
        parts = self.v.site.parts[self.page.kind]
        current = parts[self.page.part]
        return {
            "title": self._("%(page)s: %(part)s") % {"page": title, "part": current.label}
            if len(parts) > 1 and current.label
            else title,
            "description": description,
            "parts": [
                {"label": p.label, "href": self.v.urls.href(self.v.site.prefix + p.path), "current": p.index == self.page.part}
                for p in parts
            ]
            if len(parts) > 1
            else [],
        }

    def _charts(self) -> dict[str, Any]:
        return {
            "title": self.v.site.data_pages["charts"],
            "description": self._("Every chart on this site, with its numbers and sources."),
            "charts": [Markup(self.v.chart_html(self.chart_context(c, str(c.get("id"))))) for c in self.v.site.content.charts],
        }

    def _search(self) -> dict[str, Any]:
        content = self.v.site.content
        browse = [{"href": self.v.href(c.name), "title": c.title} for c in content.config.collections]
        browse += [{"href": self.v.href(a), "title": t} for a, t in self.v.site.data_pages.items() if a != "search"]
        return {
            "title": self.v.site.data_pages["search"],
            "description": self._("Search %(site)s.") % {"site": content.config.title},
            "browse": browse,
            "search": {
                "bundle": self.v.urls.href("pagefind/"),
                "ui_js": self.v.urls.href("pagefind/pagefind-ui.js"),
                "ui_css": self.v.urls.href("pagefind/pagefind-ui.css"),
                "script": self.v.urls.href("static/search.js"),
            },
        }

    def _404(self) -> dict[str, Any]:
        return {"title": self._("Page not found"), "description": self._("There is no page at this address.")}

    def chart_context(self, data: Item, dom_id: str) -> dict[str, Any]:
        chart = dataclasses.replace(
            charts.Chart.from_data(data.data),
            point=self._("%(series)s, %(category)s: %(value)s %(unit)s"),
            flagged=self._("%(series)s (%(status)s)"),
            statuses=tuple(self.v.status_words.items()),
        )
        return {
            "id": dom_id,
            "title": chart.title,
            "description": chart.description,
            "unit": chart.unit,
            "svg": Markup(charts.svg(chart, dom_id)),
            "category_heading": self._("Year") if charts.by_year(chart) else self._("Category"),
            "series": [s[0] for s in chart.series],
            "legend": [{"name": name, "marks": self.marks([], status)} for name, _, status in chart.series],
            "rows": charts.table_rows(chart),
            "note": self.inline(data.get("note")) if data.get("note") else "",
            "marks": self.marks(data.get("sources", [])),
        }


class _NoMarks:
    """Display-node context for index tables: links, but no citations."""

    def __init__(self, ctx: PageContext) -> None:
        self.ctx = ctx
        self.labels = ctx.v.labels

    def link(self, value: str, kind: str) -> tuple[str, str]:
        return self.ctx.link(value, kind)

    def marks(self, at: tuple[str | int, ...]) -> Markup:
        return Markup("")

    def fact(self, at: tuple[str | int, ...]) -> display.Provenance | None:
        return None

    def note(self, at: tuple[str | int, ...]) -> Markup:
        return Markup("")

    def fact_marks(self, fact: display.Provenance) -> Markup:
        return self.ctx.marks(*fact)


class _RecordMarks(_NoMarks):
    """Display-node context for a record's infobox: each value followed by its citations and markers."""

    def __init__(self, ctx: PageContext, record: Record) -> None:
        super().__init__(ctx)
        self.record = record

    def marks(self, at: tuple[str | int, ...]) -> Markup:
        fact = self.record.facts.get(at)
        return self.ctx.marks(fact.sources, fact.status, fact.note) if fact else Markup("")

    def fact(self, at: tuple[str | int, ...]) -> display.Provenance | None:
        fact = self.record.facts.get(at)
        return (fact.sources, fact.status) if fact else None

    def note(self, at: tuple[str | int, ...]) -> Markup:
        fact = self.record.facts.get(at)
        return self.ctx.marks((), "", fact.note) if fact and fact.note else Markup("")


class _MarkersOnly(_RecordMarks):
    """Display-node context for index tables: each value with the marker its record's page shows, no citations."""

    def marks(self, at: tuple[str | int, ...]) -> Markup:
        fact = self.record.facts.get(at)
        status = self.ctx.citations.status(fact.sources, fact.status) if fact else ""
        return Markup(self.ctx.v.flags[status]) if status else Markup("")


def sort_records(records: list[Record], sort: str, language: str = "") -> list[Record]:
    """Records ordered by a field ('-field' for descending); missing values last; ties by slug. Text is ordered as
    a reader of the edition's `language` looks it up (Chinese by pinyin)."""
    field_name, reverse = sort.lstrip("-"), sort.startswith("-")

    def key(r: Record) -> tuple[int, str, float]:
        v = r.data.get(field_name)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (0, "", -float(v) if reverse else float(v))
        return (0 if v is not None else 1, reading(str(v), language).lower() if v is not None else "", 0.0)

    ordered = sorted(records, key=lambda r: r.slug)
    ordered = sorted(ordered, key=key)
    if reverse and not any(isinstance(r.data.get(field_name), (int, float)) for r in records):
        present = [r for r in ordered if r.data.get(field_name) is not None][::-1]
        ordered = present + [r for r in ordered if r.data.get(field_name) is None]
    return ordered


def event_id(event: Item) -> str:
    """A stable anchor for a timeline event: its id, else its date and the first words of its title."""
    if event.get("id"):
        return str(event.get("id"))
    words = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\[\[[^|\]]*\|?|\]\]|\[@[^\]]*\]", "", str(event.get("title"))).lower()).strip("-")
    return f"{event.get('date')}-{'-'.join(words.split('-')[:5])}"


def _plain(text: str) -> str:
    """Text for meta tags and JSON-LD: HTML (a rendered description) loses its tags; plain text stays as it is."""
    return text.striptags() if isinstance(text, Markup) else text


def _brief(text: str, limit: int = 120) -> str:
    """The first sentence of a definition, cut at a word under `limit` columns (a Chinese, Japanese or Korean
    character takes two): a hover title, not the entry."""
    first = re.split(r"(?<=[.!?])\s|(?<=[。！？])", text.strip(), maxsplit=1)[0]
    width, cut = 0, len(first)
    for i, char in enumerate(first):
        width += 2 if _CJK.match(char) else 1
        if width > limit:
            cut = i
            break
    if cut == len(first):
        return first
    head = first[:cut]
    return (head.rsplit(" ", 1)[0] if " " in head and not _CJK.match(head[-1]) else head).rstrip(",;:，；：") + "…"


def _glossary_patterns(
    terms: list[Item], href: Callable[[str], str], title_of: Callable[[str], str], explained: str
) -> list[tuple[re.Pattern[str], str, str, str]]:
    patterns = []
    for term in terms:
        ident = term_id(term)
        names = sorted({str(term.get("term")), *map(str, term.get("aliases", []))}, key=len, reverse=True)
        flags = 0 if any(c.isupper() for n in names for c in n[1:]) else re.I
        pattern = re.compile("|".join(map(_bounded, names)), flags)
        plain = markup.plain(str(term.get("definition")), title_of)
        title = explained % {"expansion": term.get("expansion"), "definition": plain} if term.get("expansion") else plain
        patterns.append((pattern, ident, href(f"glossary/{ident}"), _brief(title)))
    return patterns


EXAMPLE_HOST = re.compile(r"(^|\.)example(\.github\.io|\.com|\.org|\.net)?$", re.I)


_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]")


def _bounded(name: str) -> str:
    """A pattern for a glossary name as a whole word; Chinese, Japanese and Korean text has no spaces between
    words, so a name that starts or ends with such a character is matched there without a word boundary."""
    head = "" if _CJK.match(name[:1]) else r"(?<![\w-])"
    tail = "" if _CJK.match(name[-1:]) else r"(?![\w-])"
    return head + re.escape(name) + tail


def search_terms(title: str) -> str:
    """Extra words for the search index, for a title in Chinese, Japanese or Korean: the index splits such text into
    words one way (jieba) and the reader's browser splits the query another (ICU), so 宁德时代 is found only if the
    page also holds its pieces: every run of one to four characters of the title, between markers search.js hides."""
    runs = re.findall(f"{_CJK.pattern}+", title)
    pieces = dict.fromkeys(run[i : i + n] for run in runs for n in range(1, 5) for i in range(len(run) - n + 1))
    return f"⁂ {' '.join(pieces)} ⁂" if pieces else ""


def citation(config: SiteConfig, labels: Labels, title: str, url: str, updated: str, path: str) -> dict[str, str]:
    """How to cite a page: a short line, a full reference and BibTeX, naming this version's date. A site whose
    base URL is on a reserved example domain (RFC 2606) is not published yet: its citations give no address."""
    _ = labels.gettext
    if EXAMPLE_HOST.search(urlsplit(url).hostname or ""):
        url = ""
    who = config.author or config.publisher or config.title
    when = labels.date(updated) if updated else _("undated")
    key = re.sub(r"[^a-z0-9]+", "-", f"{config.title.split()[0]} {path or 'home'}".lower()).strip("-")
    year = updated[:4] if updated else ""
    bibtex = "\n".join(
        [
            f"@misc{{{key},",
            f"  title = {{{{{title}}}}},",
            f"  author = {{{{{who}}}}},",
            *([f"  howpublished = {{\\url{{{url}}}}},"] if url else []),
            *([f"  publisher = {{{{{config.publisher}}}}},"] if config.publisher else []),
            *([f"  year = {{{year}}},", f"  note = {{Version of {updated}}},"] if updated else []),
            "}",
        ]
    )
    return {
        "inline": f"{who}, “{title}”, {config.title}, {when}.",
        "full": f"{who}. “{title}.” {config.title}{', ' + config.publisher if config.publisher else ''}. "
        + (_("Version of %(date)s.") % {"date": when} if updated else _("Undated version."))
        + (f" {url}" if url else ""),
        "bibtex": bibtex,
    }
