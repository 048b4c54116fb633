"""The quick rebuild for the most common save in `serve`: an edit to the prose of records, nothing else.

A record's Markdown reaches exactly one output: its own page. What it contributes to the rest of the site is
its links and citations (backlinks, "cited by", unknown-target errors). So when only record Markdown files
changed, and each still links to and cites the same things in the same order, every other file of the previous
build is still right: the edited pages are rendered again and nothing else is touched. Anything else (a new
file, a fact file, a template, a changed link) returns None and the full incremental build runs instead.
tests/test_incremental.py checks the result against a cold build, byte for byte.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .cache import Fingerprints, Piece
from .content import Record
from .pages import Page
from .render import render_pages
from .resolve import Site
from .splice import mentions
from .tree import Tree
from .urls import Urls


@dataclass(frozen=True)
class State:
    """What an in-memory build was made from, kept for the next one."""

    tree: Tree
    site: Site
    pages: list[Page]
    options: tuple[str | None, bool]  # base_url, strict
    pieces: dict[str, Piece] = field(default_factory=dict)  # each record's download piece (cache.PieceStore)
    fingerprints: Fingerprints | None = None  # with the halves of record pages' (fingerprint.py)


def rebuild_prose(state: State, tree: Tree, options: tuple[str | None, bool]) -> tuple[State, dict[str, bytes]] | None:
    """The new state and the re-rendered pages, when only record prose changed (without its links); else None."""
    old = state.tree
    if len(state.site.content.config.languages) > 1:  # an edit may show in other editions too (untranslated prose)
        return None
    if options != state.options or tree.files.keys() != old.files.keys() or tree.dates != old.dates:
        return None
    changed = [name for name, data in tree.files.items() if data is not old.files[name] and data != old.files[name]]
    by_md = {r.md_path: r for r in state.site.content.records_by_address.values() if r.md_path}
    edited: dict[str, Record] = {}
    for name in changed:
        record = by_md.get(name)
        if record is None:
            return None
        try:
            text = tree.files[name].decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        if mentions(text) != mentions(record.md_text):
            return None
        edited[record.address] = dataclasses.replace(record, md_bytes=tree.files[name], scanned=None)
    site = _with_records(state.site, edited)
    pages = [p for p in state.pages if p.kind == "record" and p.address in edited]
    urls = Urls(site.content.config.base_url)
    files = dict(render_pages(site, pages, tree.under("templates"), urls))
    return dataclasses.replace(state, tree=tree, site=site, options=options), files


def _with_records(site: Site, edited: dict[str, Record]) -> Site:
    """The site with some records replaced; everything derived from links and citations is shared, not redone."""
    if not edited:
        return site
    content = site.content
    records = {name: [edited.get(r.address, r) for r in rs] for name, rs in content.records.items()}
    new_content = dataclasses.replace(content, records=records)
    new_content.records_by_address = {**content.records_by_address, **edited}
    new_content.sources_by_id = content.sources_by_id
    new = dataclasses.replace(site, content=new_content)
    for derived in ("dates", "_incoming"):  # cached properties that do not read the prose
        if derived in vars(site):
            vars(new)[derived] = vars(site)[derived]
    return new
