"""What each page (and download) is made from, as a hash: a file whose hash is unchanged need not be made again.

A fingerprint covers the site-wide inputs every page may read (engine version, options, templates,
site.yaml, schemas, sources, glossary, charts, the set of addresses) and the page's own: its files, the
title and path of everything it links to, its backlinks, and its date. tests/test_incremental.py
checks that an incremental build is byte-identical to a cold one after every kind of edit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .cache import engine_digest
from .downloads import DATASET, collection_paths, record_path
from .pages import Page
from .resolve import Site
from .tree import Tree
from .urls import output_file

SITE_WIDE = ("content/site.yaml", "content/sources.yaml", "content/glossary.yaml", "content/charts.yaml")


def fingerprints(site: Site, pages: list[Page], tree: Tree, options: dict[str, object]) -> dict[str, str]:
    """Output file → hash of everything it is made from, for every page and download."""
    return page_fingerprints(site, pages, tree, options) | data_fingerprints(site, tree, options)


def page_fingerprints(site: Site, pages: list[Page], tree: Tree, options: dict[str, object]) -> dict[str, str]:
    """Output file → hash of everything its page reads."""
    content = site.content
    files = tree.files
    shared = _hash(
        [
            engine_digest(),
            options,
            sorted(site.targets),
            [
                (k, _digest(v))
                for k, v in sorted(files.items())
                if k.startswith(("templates/", "content/schemas/")) or k in SITE_WIDE
            ],
        ]
    )
    dates = site.dates
    outgoing: dict[str, set[str]] = {}
    for ref in site.refs:
        outgoing.setdefault(ref.source, set()).add(ref.target)
    records = content.records_by_address
    # Pages that gather many records (indexes, home, data pages) are few: they depend on every title and path.
    every_target = _hash([(a, t.path, t.title) for a, t in sorted(site.targets.items())])
    every_citation = _hash(sorted(site.cited_by.items()))
    result = {}
    for page in pages:
        own: list[Any] = [page.path, page.part, dates.get(page.address, "")]
        address = page.address
        if page.kind == "record":
            record = records[address]
            own += [_digest(files.get(record.yaml_path, b"")), _digest(files.get(record.md_path, b""))]
        elif page.kind == "collection":
            own += [(r.address, _digest(files.get(r.yaml_path, b""))) for r in content.records.get(address, [])]
            own.append(every_target)
        elif page.kind in ("page", "home"):
            doc = content.home if page.kind == "home" else next(p for p in content.pages if f"pages/{p.slug}" == address)
            own.append(_digest(files.get(doc.path, b"")) if doc else "")
            own.append([(c.name, len(content.records.get(c.name, []))) for c in content.config.collections])
        else:
            own += [_digest(files.get("content/timeline.yaml", b"")), every_target]
            if page.kind == "bibliography":
                own.append(every_citation)
        links = sorted(outgoing.get(address, set()))
        own.append([(a, site.targets[a].path, site.targets[a].title) for a in links if a in site.targets])
        own.append([(r.source, r.via, site.targets[r.source].title) for r in site.backlinks(address) if r.source in site.targets])
        result[output_file(page.path)] = _hash([shared, own])
    return result


def data_fingerprints(site: Site, tree: Tree, options: dict[str, object]) -> dict[str, str]:
    """Download file → hash of what downloads.py makes it from: a record's JSON reads its fact file, its path, the
    licence (site.yaml) and the sources it cites; a collection's JSON and CSV read all its records and its schema;
    the dataset reads everything."""
    content, files = site.content, tree.files

    def digest(name: str) -> str:
        return _digest(files.get(name, b""))

    base = [engine_digest(), options, digest("content/site.yaml")]
    sources = digest("content/sources.yaml")
    result, collections = {}, []
    for coll in content.config.collections:
        records = content.records.get(coll.name, [])
        rows = [(r.address, site.targets[r.address].path, digest(r.yaml_path)) for r in records]
        for r, row in zip(records, rows, strict=True):
            result[record_path(site, r)] = _hash([*base, sources, row])
        whole = _hash([*base, digest(f"content/{coll.schema_file}"), coll.name, rows])
        result.update(dict.fromkeys(collection_paths(coll.name), whole))
        collections.append(whole)
    data_files = [digest(f"content/{name}.yaml") for name in ("sources", "timeline", "glossary", "charts")]
    result[DATASET] = _hash([*base, data_files, collections])
    return result


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
