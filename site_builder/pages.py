"""Plan the pages: which page is published where, from which template, about what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from .config import Language
from .parts import own_parts
from .resolve import Site

T = TypeVar("T")


@dataclass(frozen=True, slots=True)  # slots: there are thousands of these
class Page:
    """A page to render: its site path, template and the address it shows."""

    path: str
    template: str
    kind: str
    address: str
    part: int = 0  # which part of a data page (or page of a collection's index) split into several
    language: str = ""  # the prefix of the edition the page belongs to ('' for the first language)


def plan_pages(sites: list[Site]) -> list[Page]:
    """Every HTML page of every edition of the site, in a stable order."""
    return [page for site in sites for page in _edition_pages(site)]


def _edition_pages(site: Site) -> list[Page]:
    content = site.content
    pre, lang = site.prefix, site.language.prefix
    pages = [Page(pre, "home.html", "home", "home", language=lang)]
    for coll in content.config.collections:
        records = content.records.get(coll.name, [])
        for n in range(index_pages(len(records), coll.page_size)):
            pages.append(Page(pre + index_path(coll.name, n), "collection.html", "collection", coll.name, n, lang))
        for record in records:
            pages.append(Page(pre + site.targets[record.address].path, coll.template, "record", record.address, language=lang))
    for page in content.pages:
        pages.append(Page(f"{pre}{page.slug}/", "page.html", "page", f"pages/{page.slug}", language=lang))
    for address in site.data_pages:
        for part in site.parts.get(address, []):
            pages.append(Page(pre + part.path, f"{address}.html", address, address, part.index, language=lang))
        if address not in site.parts:
            pages.append(Page(f"{pre}{address}/", f"{address}.html", address, address, language=lang))
    if not pre:
        pages.append(Page("404.html", "404.html", "404", "404"))
    return pages


def versions(page: Page, languages: Sequence[Language]) -> list[tuple[Language, str]]:
    """The site path of `page` in every language of the site, its own included, in the order of `languages`: the
    same path in each edition's folder; for a part of a data page that an edition splits its own way (parts.py:
    a Chinese glossary, in pinyin order), that page's first part."""
    bare = page.path.removeprefix(f"{page.language}/") if page.language else page.path
    mine = next((lang.code for lang in languages if lang.prefix == page.language), "")
    return [
        (lang, lang.folder + (f"{page.kind}/" if page.part and own_parts(page.kind, mine, lang.code) else bare))
        for lang in languages
    ]


def index_pages(count: int, size: int) -> int:
    """How many pages a collection index of `count` records takes at `size` rows a page (0: never split)."""
    return max(1, -(-count // size)) if size > 0 else 1


def index_path(name: str, part: int) -> str:
    """The site path of page `part` (from 0) of a collection's index: companies/, companies/page/2/, …"""
    return f"{name}/" if part == 0 else f"{name}/page/{part + 1}/"


def on_page(records: Sequence[T], size: int, part: int) -> Sequence[T]:
    """The records (in index order) that page `part` of an index lists."""
    return records[part * size : (part + 1) * size] if size > 0 else records


def window(current: int, total: int, around: int = 2) -> list[int | None]:
    """The page numbers (from 0) a pager shows: the first, the last and `around` either side of the current one;
    None where numbers are left out."""
    shown = sorted({0, total - 1, *range(max(0, current - around), min(total, current + around + 1))})
    numbers: list[int | None] = []
    last = -1
    for n in shown:
        if n - last == 2:  # a gap of one number: show it rather than '…'
            numbers.append(n - 1)
        elif n - last > 2 and last >= 0:
            numbers.append(None)
        numbers.append(n)
        last = n
    return numbers
