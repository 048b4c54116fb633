"""What each page (and download) is made from, as a hash: a file whose hash is unchanged need not be made again.

A fingerprint covers the site-wide inputs every page may read (engine version, options, templates,
site.yaml, schemas, sources, glossary, charts, the set of addresses) and the page's own: its files, the
title and path of everything it links to, its backlinks, and its date; a page of a collection's index covers
exactly the records it lists. tests/test_incremental.py checks that an incremental build is byte-identical to a
cold one after every kind of edit.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import cache
from .cache import Fingerprints, engine_digest
from .content import Record
from .downloads import DATASET, collection_paths, record_path
from .labels import LOCALES
from .pages import Page, index_pages, on_page
from .resolve import Site
from .tree import Tree
from .urls import output_file
from .views import sort_records

SITE_WIDE = ("content/site.yaml", "content/sources.yaml", "content/glossary.yaml", "content/charts.yaml")


def fingerprints(
    sites: list[Site], pages: list[Page], tree: Tree, options: dict[str, object], previous: Fingerprints | None = None
) -> Fingerprints:
    """Every page's (of every edition) and download's fingerprint; record pages whose halves are unchanged since
    `previous` keep theirs."""
    digest = _Digests(tree.files)  # a fact file is read by its page, its collection's page and its downloads
    result = Fingerprints(data_fingerprints(sites[0], tree, options, digest))
    for site in sites:
        mine = [p for p in pages if p.language == site.language.prefix]
        page_fingerprints(site, mine, tree, options, digest, previous, result)
    return result


@functools.cache  # the shipped catalogs do not change while the engine runs
def catalogs_digest(locales: Path = LOCALES) -> str:
    """The shipped label catalogs' hash (cache.catalogs_digest): a changed label is a changed page, whichever
    engine made the cache a build starts from."""
    return cache.catalogs_digest(locales)


class _Digests:
    """The hash of each input file, worked out once per build."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files: dict[str, bytes] = files
        self.known: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self.known:
            self.known[name] = hashlib.sha256(self.files.get(name, b"")).hexdigest()
        return self.known[name]


def page_fingerprints(
    site: Site,
    pages: list[Page],
    tree: Tree,
    options: dict[str, object],
    digest: _Digests | None = None,
    previous: Fingerprints | None = None,
    into: Fingerprints | None = None,
) -> dict[str, str]:
    """Output file → hash of everything its page reads (also added to `into`, with the halves of record pages')."""
    content = site.content
    files = tree.files
    digest = digest or _Digests(files)
    shared = _hash(
        [
            engine_digest(),
            catalogs_digest(),
            options,
            sorted(site.targets),
            [(k, digest(k)) for k in sorted(files) if k.startswith(("templates/", "content/schemas/")) or k in SITE_WIDE],
            # An edition also reads its translated settings, data files and schema titles, and the other editions'
            # addresses (its language switcher and alternates).
            [(k, digest(f"content/{k}")) for k in sorted(content.translated_files) if not k.endswith(".md")],
            [lang.code for lang in content.config.languages],
            sorted(content.untranslated),
        ]
    )
    dates = site.dates
    outgoing: dict[str, set[str]] = {}
    for ref in site.refs:
        outgoing.setdefault(ref.source, set()).add(ref.target)
    records = content.records_by_address
    # Pages that gather many records (home, data pages) are few: they depend on every title and path.
    every_target = _text_hash(x for a in sorted(site.targets) for x in (a, site.targets[a].path, site.targets[a].title))
    indexes = _Indexes(site, outgoing, digest, every_target)
    cited = site.cited_by
    every_citation = _text_hash(x for s in sorted(cited) for x in (s, str(len(cited[s])), *cited[s]))
    # What a record page reads from the whole site: the shared inputs, every title and path, every link.
    every_link = (x for r in site.refs for x in (r.source, r.target, r.via))
    sitewide = _text_hash(itertools.chain((shared, every_target), every_link))
    into = into if into is not None else Fingerprints()
    into.sitewide[site.prefix] = sitewide
    same_site = previous is not None and previous.sitewide.get(site.prefix) == sitewide
    result = {}
    for page in pages:
        own: list[Any] = [page.path, page.part, dates.get(page.address, "")]
        address = page.address
        if page.kind == "record":
            own += [digest(name) for name in _files(site, records[address])]
            file, own_hash = output_file(page.path), _text_hash(map(str, own))
            into.own[file] = own_hash
            if same_site and previous is not None and previous.own.get(file) == own_hash and file in previous.files:
                result[file] = previous.files[file]
                continue
        elif page.kind == "collection":
            own.append(indexes.page(address, page.part))
        elif page.kind in ("page", "home"):
            doc = content.home if page.kind == "home" else next(p for p in content.pages if f"pages/{p.slug}" == address)
            own.append(digest(doc.path) if doc else "")
            own.append([(c.name, len(content.records.get(c.name, []))) for c in content.config.collections])
        else:
            own += [digest("content/timeline.yaml"), every_target]
            if page.kind == "bibliography":
                own.append(every_citation)
        links = sorted(outgoing.get(address, set()))
        own.append([(a, site.targets[a].path, site.targets[a].title) for a in links if a in site.targets])
        own.append([(r.source, r.via, site.targets[r.source].title) for r in site.backlinks(address) if r.source in site.targets])
        result[output_file(page.path)] = _hash([shared, own])
    into.files |= result
    return result


class _Indexes:
    """What each page of a collection's index reads: how many records there are and the records it lists (their
    files, and the titles and paths of them and of what they link to), not the other pages' records; so an edit to
    one record renders only the index page that lists it."""

    def __init__(self, site: Site, outgoing: dict[str, set[str]], digest: _Digests, every_target: str) -> None:
        self.site, self.outgoing, self.digest, self.every_target = site, outgoing, digest, every_target
        self.ordered: dict[str, list[Record]] = {}

    def page(self, name: str, part: int) -> list[Any]:
        coll = self.site.content.config.collection(name)
        assert coll is not None
        records = self.site.content.records.get(name, [])
        if index_pages(len(records), coll.page_size) > 1 and name not in self.ordered:  # which records a page lists
            self.ordered[name] = sort_records(records, coll.sort, self.site.language.code)
        listed = on_page(self.ordered.get(name, records), coll.page_size, part)
        linked = self.every_target if "[[" in coll.description else ""  # a description that links may name anything
        return [len(records), linked, [self._row(r) for r in listed]]

    def _row(self, record: Record) -> list[Any]:
        targets = self.site.targets
        links = sorted({record.address} | self.outgoing.get(record.address, set()))
        return [
            [self.digest(f) for f in _files(self.site, record, prose=False)],
            [(a, targets[a].path, targets[a].title) for a in links if a in targets],
        ]


def _files(site: Site, record: Record, prose: bool = True) -> list[str]:
    """The files a record's page (or, without its prose, its index row) is made from; in a translated edition also
    its translation file, which may translate fields and give no text (its Markdown is then the first language's)."""
    files = [record.yaml_path, record.md_path] if prose else [record.yaml_path]
    if site.language.prefix:
        files.append(f"content/{record.collection}/{record.slug}.{site.language.prefix}.md")
    return files


def data_fingerprints(site: Site, tree: Tree, options: dict[str, object], digest: _Digests | None = None) -> dict[str, str]:
    """Download file → hash of what downloads.py makes it from: a record's JSON reads its fact file, its path, the
    licence (site.yaml) and the sources it cites; a collection's JSON and CSV read all its records and its schema;
    the dataset reads everything."""
    content = site.content
    digest = digest or _Digests(tree.files)
    base = [engine_digest(), options, digest("content/site.yaml")]
    each = _hash([*base, digest("content/sources.yaml")])  # what every record's file reads beside its own
    result, collections = {}, []
    for coll in content.config.collections:
        records = content.records.get(coll.name, [])
        rows = [(r.address, site.targets[r.address].path, digest(r.yaml_path)) for r in records]
        for r, row in zip(records, rows, strict=True):
            result[record_path(site, r)] = _text_hash((each, *row))
        whole = _hash([*base, digest(f"content/{coll.schema_file}"), coll.name, rows])
        result.update(dict.fromkeys(collection_paths(coll.name), whole))
        collections.append(whole)
    data_files = [digest(f"content/{name}.yaml") for name in ("sources", "timeline", "glossary", "charts")]
    result[DATASET] = _hash([*base, data_files, collections])
    return result


def _text_hash(texts: Iterable[str]) -> str:
    """A hash of many short texts, in order (each after its length, so that no two lists give the same input), fed
    a thousand at a time: tens of thousands of titles are never one string. The refs of a resolved site come in the same order
    for the same content: a new order is a change, to be safe."""
    h, batch = hashlib.blake2b(digest_size=20), []
    for t in texts:
        batch.append(f"{len(t)}:{t}")
        if len(batch) == 1024:  # one update for each text cost twice as much
            h.update("".join(batch).encode())
            batch.clear()
    h.update("".join(batch).encode())
    return h.hexdigest()


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
