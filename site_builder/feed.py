"""An Atom feed of the records, newest change first."""

from __future__ import annotations

import html

from .resolve import Site
from .urls import Urls

FEED = "feed.xml"
MAX_ENTRIES = 50


def atom(site: Site, urls: Urls, updated: dict[str, str]) -> bytes:
    """The feed: records with a known change date, newest first (then by address, for stable output)."""
    content = site.content
    dated = sorted(
        ((updated[r.address], r) for r in content.all_records() if updated.get(r.address)),
        key=lambda pair: (pair[0], pair[1].address),
        reverse=True,
    )[:MAX_ENTRIES]
    newest = dated[0][0] if dated else "1970-01-01"
    author = content.config.author or content.config.publisher or content.config.title
    pre = site.prefix  # an edition in another language has its own feed, of its own pages
    entries = "".join(
        f"<entry><title>{_escape(r.title)}</title><id>{_escape(urls.absolute(pre + site.targets[r.address].path))}</id>"
        f'<link href="{_escape(urls.absolute(pre + site.targets[r.address].path))}"/><updated>{date}T00:00:00Z</updated>'
        f"<summary>{_escape(str(r.data.get('summary', '')))}</summary></entry>\n"
        for date, r in dated
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{_escape(content.config.language)}">\n'
        f"<title>{_escape(content.config.title)}</title><subtitle>{_escape(content.config.description)}</subtitle>\n"
        f'<link href="{_escape(urls.absolute(pre + FEED))}" rel="self"/><link href="{_escape(urls.absolute(pre))}"/>\n'
        f"<id>{_escape(urls.absolute(pre))}</id><updated>{newest}T00:00:00Z</updated>"
        f"<author><name>{_escape(author)}</name></author>\n{entries}</feed>\n"
    ).encode()


def _escape(text: str) -> str:
    """Text for XML: &, < and > escaped (html's, without the import of xml.sax and urllib that saxutils brings)."""
    return html.escape(text, quote=False)
