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


def plan_pages(site: Site) -> list[Page]:
    """Every HTML page of the site, in a stable order."""
    content = site.content
    pages = [Page("", "home.html", "home", "home")]
    for coll in content.config.collections:
        pages.append(Page(f"{coll.name}/", "collection.html", "collection", coll.name))
        for record in content.records.get(coll.name, []):
            pages.append(Page(site.targets[record.address].path, coll.template, "record", record.address))
    for page in content.pages:
        pages.append(Page(f"{page.slug}/", "page.html", "page", f"pages/{page.slug}"))
    for address in site.data_pages:
        for part in site.parts.get(address, []):
            pages.append(Page(part.path, f"{address}.html", address, address, part.index))
        if address not in site.parts:
            pages.append(Page(f"{address}/", f"{address}.html", address, address))
    pages.append(Page("404.html", "404.html", "404", "404"))
    return pages
