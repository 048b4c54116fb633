"""Plan the pages: which page is published where, from which template, about what."""

from __future__ import annotations

from dataclasses import dataclass

from .resolve import Site


@dataclass(frozen=True, slots=True)  # slots: there are thousands of these
class Page:
    """A page to render: its site path, template and the address it shows."""

    path: str
    template: str
    kind: str
    address: str
    part: int = 0  # which part of a data page split into several
    language: str = ""  # the prefix of the edition the page belongs to ('' for the first language)


def plan_pages(sites: list[Site]) -> list[Page]:
    """Every HTML page of every edition of the site, in a stable order."""
    return [page for site in sites for page in _edition_pages(site)]


def _edition_pages(site: Site) -> list[Page]:
    content = site.content
    pre, lang = site.prefix, site.language.prefix
    pages = [Page(pre, "home.html", "home", "home", language=lang)]
    for coll in content.config.collections:
        pages.append(Page(f"{pre}{coll.name}/", "collection.html", "collection", coll.name, language=lang))
        for record in content.records.get(coll.name, []):
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
